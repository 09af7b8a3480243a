// Public API of the training stage (see the team contract).
export { loadRun, loadTrainedModel, runTraining, datasetFor, stoppedText, type RunTrainingOptions } from "./runner";
export { trainArchitecture, isArchFinished, TrainingAbortedError, type ArchOutcome, type TrainArchitectureOptions } from "./fit";
export { archPaths, openRunDir, readRunManifest, runDirFor, RunConfigMismatchError } from "./run-dir";
export { loadModelFiles, saveModelFiles, readModelArtifacts } from "./checkpoint";
export { bestEpoch, overfittingEpoch, shouldStopEarly, isContinuous } from "./history";
export { createCliProgress, createNotebookProgress, formatProgressLine, renderProgressHtml } from "./progress";
export * from "./types";
export * from "../schemas/history";
export * from "../schemas/run-manifest";
export { WorkerTrainingError } from "./worker-pool";
export { resolveWorkerCount } from "./worker-count";
export { acquireRunLock, RunLockedError, RUN_LOCK_FILE } from "./run-lock";
