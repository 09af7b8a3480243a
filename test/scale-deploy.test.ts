// The deployment examples say what the code does: the Kubernetes manifests are validated against
// the Kubernetes API schema (kubernetes-models: validators generated from the Kubernetes OpenAPI
// spec) and checked field by field against lib/scale's constants; the Slurm scripts run against
// stand-ins for sbatch and npx. scripts/slurm-check.sh runs them on a real Slurm.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import { Job } from "kubernetes-models/batch/v1";
import { PersistentVolumeClaim } from "kubernetes-models/v1";
import ts from "typescript";
import { parseAllDocuments } from "yaml";
import { projectPath } from "../lib/paths";
import { EXIT_DETERMINISTIC_FAILURE, EXIT_USAGE } from "../lib/scale";
import { tempDir } from "./temp-dir";

type Yaml = null | boolean | number | string | Yaml[] | { [key: string]: Yaml };
const MODELS = { Job, PersistentVolumeClaim } as const;
/** The same kinds as TypeScript declarations (kubernetes-models' interfaces, one module per kind). */
const DECLARATIONS = { Job: ["IJob", "kubernetes-models/batch/v1/Job"], PersistentVolumeClaim: ["IPersistentVolumeClaim", "kubernetes-models/v1/PersistentVolumeClaim"] } as const;

async function readManifests(...name: string[]): Promise<Yaml[]> {
  const documents = parseAllDocuments(await fs.readFile(projectPath("deploy", "kubernetes", ...name), "utf8"));
  return documents.map((document) => {
    assert.deepEqual(document.errors, [], `${name.join("/")}: YAML errors`);
    return document.toJS() as Yaml;
  });
}

/** Validates one manifest against the schema of its kind; throws with the schema's messages. */
function validateManifest(manifest: Yaml): void {
  const kind = at(manifest, "kind") as keyof typeof MODELS;
  const Model = MODELS[kind];
  assert.ok(Model, `no schema model for kind ${String(kind)}`);
  assert.equal(at(manifest, "apiVersion"), Model.apiVersion);
  new Model(manifest as never).validate();
}

// Typed walking: a missing field fails with its path instead of "cannot read properties of undefined".
function at(value: Yaml, ...keys: Array<string | number>): Yaml {
  let current = value;
  for (const key of keys) {
    assert.ok(current !== null && typeof current === "object", `${keys.join(".")}: ${key} missing`);
    current = (current as Record<string, Yaml>)[key];
    assert.notEqual(current, undefined, `${keys.join(".")}: ${key} missing`);
  }
  return current;
}
const envOf = (container: Yaml) => new Map((at(container, "env") as Yaml[]).map((entry) => [at(entry, "name"), at(entry, "value")]));

test("Kubernetes manifests: valid batch/v1 Job and v1 PersistentVolumeClaim by the Kubernetes API schema", async () => {
  const manifests = [...(await readManifests("indexed-job.yaml")), ...(await readManifests("evaluate-job.yaml"))];
  assert.deepEqual(manifests.map((manifest) => at(manifest, "kind")), ["PersistentVolumeClaim", "Job", "Job"]);
  for (const manifest of manifests) validateManifest(manifest);
  // The schema bites: wrong enum values, types and missing required fields are refused.
  const job = manifests[1] as { spec: Record<string, unknown> & { podFailurePolicy: { rules: Array<Record<string, unknown>> } } };
  const broken = (change: (copy: typeof job) => void) => {
    const copy = structuredClone(job);
    change(copy);
    return () => validateManifest(copy as unknown as Yaml);
  };
  assert.throws(broken((copy) => (copy.spec.completionMode = "indexed")), /completionMode/);
  assert.throws(broken((copy) => (copy.spec.backoffLimitPerIndex = "2")), /backoffLimitPerIndex/);
  assert.throws(broken((copy) => (copy.spec.podFailurePolicy.rules[0].action = "Retry")), /action/);
  assert.throws(broken((copy) => delete copy.spec.template), /template/);
});

/**
 * Fields the Kubernetes API does not know (a typo such as `backoffLimitPerIdx`): the published
 * schema allows them, kubectl's strict validation refuses them. TypeScript's excess-property check
 * of each manifest, as an object literal typed by its kind's declaration, finds them. One program
 * for all manifests; returns the diagnostics per manifest.
 */
function unknownFields(manifests: Yaml[]): string[][] {
  const file = projectPath("test", "__manifests__.ts");
  const kinds = [...new Set(manifests.map((manifest) => at(manifest, "kind") as keyof typeof DECLARATIONS))];
  const text = [
    ...kinds.map((kind) => `import type { ${DECLARATIONS[kind][0]} } from "${DECLARATIONS[kind][1]}";`),
    ...manifests.map((manifest, index) => `export const m${index}: ${DECLARATIONS[at(manifest, "kind") as keyof typeof DECLARATIONS][0]} = ${JSON.stringify(manifest)};`),
  ].join("\n");
  const options: ts.CompilerOptions = { strict: true, noEmit: true, types: [], skipLibCheck: true, module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10 };
  const host = ts.createCompilerHost(options);
  const { fileExists, readFile, getSourceFile } = host;
  host.fileExists = (name) => name === file || fileExists(name);
  host.readFile = (name) => (name === file ? text : readFile(name));
  host.getSourceFile = (name, version, ...rest) => (name === file ? ts.createSourceFile(name, text, version) : getSourceFile(name, version, ...rest));
  const diagnostics = ts.getPreEmitDiagnostics(ts.createProgram([file], options, host));
  const perManifest = manifests.map((): string[] => []);
  for (const diagnostic of diagnostics) {
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, " ");
    const line = diagnostic.file?.fileName === file && diagnostic.start !== undefined ? diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start).line - kinds.length : -1;
    assert.ok(line >= 0 && line < manifests.length, `not about a manifest: ${message}`);
    perManifest[line].push(message);
  }
  return perManifest;
}

test("Kubernetes manifests: no field the Kubernetes API does not know", async () => {
  const manifests = [...(await readManifests("indexed-job.yaml")), ...(await readManifests("evaluate-job.yaml"))];
  const typo = structuredClone(manifests[1]) as { spec: Record<string, unknown> };
  typo.spec.backoffLimitPerIdx = typo.spec.backoffLimitPerIndex;
  delete typo.spec.backoffLimitPerIndex;
  const found = unknownFields([...manifests, typo as unknown as Yaml]);
  assert.deepEqual(found.slice(0, manifests.length), manifests.map(() => []));
  assert.match(found[manifests.length].join("\n"), /'"?backoffLimitPerIdx"?' does not exist in type/, "a misspelt field is found");
});

test("Kubernetes Indexed Job: indexed, no restarts, per-index backoff, deterministic failures fail the index, shared volume", async () => {
  const documents = await readManifests("indexed-job.yaml");
  const job = documents.find((document) => at(document, "kind") === "Job")!;
  const claim = documents.find((document) => at(document, "kind") === "PersistentVolumeClaim")!;
  assert.equal(at(job, "apiVersion"), "batch/v1");
  const spec = at(job, "spec");
  assert.equal(at(spec, "completionMode"), "Indexed");
  const completions = at(spec, "completions") as number;
  assert.ok(Number.isInteger(completions) && completions >= 1);
  assert.ok((at(spec, "parallelism") as number) <= completions);
  assert.ok(Number.isInteger(at(spec, "backoffLimitPerIndex")));
  assert.equal(at(spec, "template", "spec", "restartPolicy"), "Never");
  const rules = at(spec, "podFailurePolicy", "rules") as Yaml[];
  const failIndex = rules.find((rule) => at(rule, "action") === "FailIndex");
  assert.ok(failIndex, "a FailIndex rule");
  assert.equal(at(failIndex, "onExitCodes", "operator"), "In");
  const codes = at(failIndex, "onExitCodes", "values") as number[];
  assert.ok(codes.includes(EXIT_DETERMINISTIC_FAILURE) && codes.includes(EXIT_USAGE), `exit codes ${codes}`);
  const [container] = at(spec, "template", "spec", "containers") as Yaml[];
  assert.equal(at(failIndex, "onExitCodes", "containerName"), at(container, "name"));
  assert.equal((at(container, "command") as string[]).join(" "), "npx showcase train");
  const env = envOf(container);
  assert.equal(Number(env.get("SHARD_COUNT")), completions, "SHARD_COUNT = completions");
  assert.ok(!env.has("JOB_COMPLETION_INDEX"), "the index comes from Kubernetes");
  const runsMount = (at(container, "volumeMounts") as Yaml[]).find((mount) => at(mount, "mountPath") === env.get("RUNS_DIR"));
  assert.ok(runsMount, "a volume mounted at RUNS_DIR");
  const volume = (at(spec, "template", "spec", "volumes") as Yaml[]).find((candidate) => at(candidate, "name") === at(runsMount, "name"));
  assert.equal(at(volume!, "persistentVolumeClaim", "claimName"), at(claim, "metadata", "name"));
  assert.ok((at(claim, "spec", "accessModes") as string[]).includes("ReadWriteMany"), "shared across nodes");

  const [evaluate] = await readManifests("evaluate-job.yaml");
  const evaluateContainer = (at(evaluate, "spec", "template", "spec", "containers") as Yaml[])[0];
  assert.equal((at(evaluateContainer, "command") as string[]).join(" "), "npx showcase evaluate");
  assert.equal(envOf(evaluateContainer).get("RUN_ID"), env.get("RUN_ID"), "the merge reads the run the shards wrote");
  assert.equal(envOf(evaluateContainer).get("RUNS_DIR"), env.get("RUNS_DIR"));
});

const run = promisify(execFile);

/** A folder with stand-ins for sbatch and npx that record their arguments (and SHARD_COUNT) in calls.log. */
async function standIns(): Promise<{ bin: string; calls: () => Promise<string[]>; env: (extra: Record<string, string>) => NodeJS.ProcessEnv }> {
  const bin = await tempDir("scale-slurm-");
  const log = path.join(bin, "calls.log");
  await fs.writeFile(path.join(bin, "sbatch"), `#!/usr/bin/env bash\necho "sbatch $*" >> "${log}"\nn=$(grep -c '^sbatch' "${log}")\necho "$((4240 + n));cluster"\n`, { mode: 0o755 });
  await fs.writeFile(path.join(bin, "npx"), `#!/usr/bin/env bash\necho "npx $* SHARD_COUNT=\${SHARD_COUNT:-} PREPARED_DIR=\${PREPARED_DIR:-}" >> "${log}"\nexit \${NPX_EXIT:-0}\n`, { mode: 0o755 });
  const clean = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(SHARD_COUNT|SLURM_|GPUS_PER_TASK|CPUS_PER_TASK|INDICES|EVALUATE|LOG_DIR|PREPARED_DIR)/.test(name)));
  return {
    bin,
    calls: async () => (await fs.readFile(log, "utf8").catch(() => "")).trim().split("\n").filter(Boolean),
    env: (extra) => ({ ...clean, PATH: `${bin}:${process.env.PATH}`, ...extra }),
  };
}

test("Slurm submit.sh: array size, SHARD_COUNT, CPUs and GPUs from its parameters; the merge after the array (afterany)", async () => {
  const submit = projectPath("deploy", "slurm", "submit.sh");
  await run("bash", ["-n", submit]);
  const stand = await standIns();
  const logs = path.join(stand.bin, "logs");
  const { stdout } = await run("bash", [submit], { env: stand.env({ SHARD_COUNT: "3", LOG_DIR: logs }) });
  const [plan, train, merge] = await stand.calls();
  assert.equal(plan, "npx showcase train --plan SHARD_COUNT=3 PREPARED_DIR=");
  assert.match(train, /^sbatch --parsable --array=0-2 --chdir=\S+ --cpus-per-task=8 --gres=gpu:1 --output=\S+\/logs\/showcase-train-%A_%a\.out --export=ALL \S+\/train-array\.sbatch$/);
  assert.equal(train.match(/--chdir=(\S+)/)?.[1], projectPath());
  assert.match(merge, /^sbatch --parsable --dependency=afterany:4241 .*--wrap=npx showcase train --merge && npx showcase evaluate$/);
  assert.match(stdout, /training array 4241 \(tasks 0-2 of 3 shards, 8 CPUs and 1 GPUs each\), merge 4242/);

  // No GPUs: no --gres at all; a rerun of one index with RETRY_FAILED keeps SHARD_COUNT; merge only.
  await run("bash", [submit], { env: stand.env({ SHARD_COUNT: "3", GPUS_PER_TASK: "0", CPUS_PER_TASK: "2", INDICES: "1", RETRY_FAILED: "1", EVALUATE: "0", LOG_DIR: logs }) });
  const [, rerun, rerunMerge] = (await stand.calls()).slice(3);
  assert.match(rerun, /^sbatch --parsable --array=1 --chdir=\S+ --cpus-per-task=2 --output=/);
  assert.doesNotMatch(rerun, /--gres/);
  assert.match(rerunMerge, /--wrap=npx showcase train --merge$/);

  for (const [name, value] of [["SHARD_COUNT", "0"], ["GPUS_PER_TASK", "-1"], ["CPUS_PER_TASK", "x"], ["INDICES", "3"], ["EVALUATE", "yes"]]) {
    await assert.rejects(run("bash", [submit], { env: stand.env({ SHARD_COUNT: "3", [name]: value, LOG_DIR: logs }) }), new RegExp(`${name}=${value}: expected`));
  }
});

test("Slurm train-array.sbatch: SHARD_COUNT from the array (whole array only), a private prepared folder, the training's exit code", async () => {
  const script = projectPath("deploy", "slurm", "train-array.sbatch");
  await run("bash", ["-n", script]);
  const stand = await standIns();
  const task = (extra: Record<string, string>) => run("bash", [script], { env: stand.env({ TMPDIR: stand.bin, SLURM_ARRAY_JOB_ID: "77", ...extra }) });
  await task({ SLURM_ARRAY_TASK_ID: "1", SLURM_ARRAY_TASK_MIN: "0", SLURM_ARRAY_TASK_MAX: "2", SLURM_ARRAY_TASK_COUNT: "3" });
  const [call] = await stand.calls();
  assert.match(call, new RegExp(`^npx showcase train SHARD_COUNT=3 PREPARED_DIR=${stand.bin}/showcase-task-77_1\\.\\w+/prepared$`));
  assert.deepEqual((await fs.readdir(stand.bin)).filter((name) => name.startsWith("showcase-task-")), [], "the task's prepared folder is removed");
  // A partial array (one index rerun) cannot know the shard count: refused unless SHARD_COUNT is given.
  await assert.rejects(task({ SLURM_ARRAY_TASK_ID: "1", SLURM_ARRAY_TASK_MIN: "1", SLURM_ARRAY_TASK_MAX: "1", SLURM_ARRAY_TASK_COUNT: "1" }), (error: { code?: number; stderr?: string }) => error.code === EXIT_USAGE && /pass SHARD_COUNT/.test(error.stderr ?? ""));
  await assert.rejects(task({}), (error: { code?: number; stderr?: string }) => error.code === EXIT_USAGE && /not an array task/.test(error.stderr ?? ""));
  // The training's exit code is the task's (3 = deterministic failure: Slurm shows the task FAILED, exit 3).
  await assert.rejects(task({ SLURM_ARRAY_TASK_ID: "1", SHARD_COUNT: "3", PREPARED_DIR: "/given", NPX_EXIT: String(EXIT_DETERMINISTIC_FAILURE) }), (error: { code?: number }) => error.code === EXIT_DETERMINISTIC_FAILURE);
  assert.equal((await stand.calls()).at(-1), "npx showcase train SHARD_COUNT=3 PREPARED_DIR=/given");
});
