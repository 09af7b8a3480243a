// Scale-out over an existing scheduler (Kubernetes Indexed Job, Slurm array): run list, shards,
// per-run results in a shared run directory, and the merge. See docs/scale.md.
export {
  planRuns, resolveGrid, runKey, runDirFor, loadRunList, writeOrVerifyRunList, canonicalJson, fingerprintOf,
  RunListConflictError, RUN_LIST_FILE, RUN_LIST_SCHEMA, type PlannedRun, type RunConfig, type RunList,
} from "./runlist";
export { parseShardFlag, resolveShard, selectShard, formatShard, type Shard } from "./shard";
export {
  executeShard, isDeterministicFailure, DeterministicFailure, resultDirFor, resultFileFor, errorFileFor,
  EXIT_OK, EXIT_TRANSIENT_FAILURE, EXIT_USAGE, EXIT_DETERMINISTIC_FAILURE, RESULT_SCHEMA, ERROR_SCHEMA,
  type TrainOne, type TrainContext, type RunMetrics, type RunResultRecord, type RunErrorRecord, type ShardReport,
} from "./execute";
export { mergeResults, writeMergedResults, formatMergeSummary, MERGED_FILE, MERGED_SCHEMA, type MergedResults } from "./merge";
export { createLibTrainAdapter, summarizeHistory, trainParamsFor } from "./train-adapter";
