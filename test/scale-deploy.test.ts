// The deployment examples say what the code does: parsed (a small YAML reader for the subset the
// manifests use, refusing anything else) and checked field by field against lib/scale's constants.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import { projectPath } from "../lib/paths";
import { EXIT_DETERMINISTIC_FAILURE, EXIT_USAGE } from "../lib/scale";
import { tempDir } from "./temp-dir";

type Yaml = null | boolean | number | string | Yaml[] | { [key: string]: Yaml };
interface Line {
  indent: number;
  text: string;
  number: number;
}

function scalar(raw: string, line: Line): Yaml {
  const text = /^["']/.test(raw) ? raw : raw.replace(/\s+#.*$/, "").trim();
  if (text.startsWith('"')) return JSON.parse(text) as string;
  if (text.startsWith("'")) return text.slice(1, -1).replace(/''/g, "'");
  if (text.startsWith("[")) {
    if (!text.endsWith("]")) throw new Error(`line ${line.number}: multi-line flow sequence not supported`);
    return text.slice(1, -1).split(",").map((item) => item.trim()).filter(Boolean).map((item) => scalar(item, line));
  }
  if (/^[{|>&*!]/.test(text)) throw new Error(`line ${line.number}: YAML feature not supported by this reader: ${text}`);
  if (/^-?\d+$/.test(text)) return Number(text);
  if (text === "true" || text === "false") return text === "true";
  if (text === "null" || text === "~" || text === "") return null;
  return text;
}

function parseBlock(lines: Line[], start: number, indent: number): [Yaml, number] {
  return lines[start].text.startsWith("-") ? parseSequence(lines, start, indent) : parseMapping(lines, start, indent);
}

function parseSequence(lines: Line[], start: number, indent: number): [Yaml[], number] {
  const items: Yaml[] = [];
  let i = start;
  while (i < lines.length && lines[i].indent === indent && /^-(\s|$)/.test(lines[i].text)) {
    const rest = lines[i].text.slice(1).trimStart();
    if (rest === "") {
      const [value, next] = parseBlock(lines, i + 1, lines[i + 1].indent);
      items.push(value);
      i = next;
    } else if (/^[\w.-]+:(\s|$)/.test(rest)) {
      lines[i] = { ...lines[i], indent: indent + lines[i].text.length - rest.length, text: rest }; // "- key: v" opens a mapping
      const [value, next] = parseMapping(lines, i, lines[i].indent);
      items.push(value);
      i = next;
    } else {
      items.push(scalar(rest, lines[i]));
      i++;
    }
  }
  return [items, i];
}

function parseMapping(lines: Line[], start: number, indent: number): [{ [key: string]: Yaml }, number] {
  const mapping: { [key: string]: Yaml } = {};
  let i = start;
  while (i < lines.length && lines[i].indent >= indent) {
    const line = lines[i];
    if (line.indent > indent) throw new Error(`line ${line.number}: unexpected indentation`);
    const match = /^([\w./-]+):(?:\s+(.*))?$/.exec(line.text);
    if (!match) throw new Error(`line ${line.number}: expected "key: value", got ${JSON.stringify(line.text)}`);
    const [, key, value] = match;
    if (key in mapping) throw new Error(`line ${line.number}: duplicate key ${key}`);
    i++;
    const rest = value?.replace(/^#.*$/, "").trim();
    if (rest) mapping[key] = scalar(rest, line);
    else if (i < lines.length && (lines[i].indent > indent || (lines[i].indent === indent && lines[i].text.startsWith("- ")))) {
      [mapping[key], i] = parseBlock(lines, i, lines[i].indent);
    } else mapping[key] = null;
  }
  return [mapping, i];
}

function parseYamlDocuments(source: string): Yaml[] {
  return source.split(/^---\s*$/m).map((document) => {
    const lines: Line[] = [];
    document.split("\n").forEach((text, index) => {
      if (text.trim() === "" || text.trim().startsWith("#")) return;
      if (text.includes("\t")) throw new Error(`line ${index + 1}: tab in indentation`);
      lines.push({ indent: text.length - text.trimStart().length, text: text.trim(), number: index + 1 });
    });
    const [value, next] = parseBlock(lines, 0, lines[0].indent);
    if (next !== lines.length) throw new Error(`line ${lines[next].number}: not parsed`);
    return value;
  });
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

test("YAML reader: handles the manifests' subset and refuses the rest", () => {
  assert.deepEqual(parseYamlDocuments("a: 1\nb:\n  - x\n  - k: 'v'\n    j: [2, 3] # c\nc:\n- \"q\"\n"), [{ a: 1, b: ["x", { k: "v", j: [2, 3] }], c: ["q"] }]);
  assert.throws(() => parseYamlDocuments("a: |\n  text\n"), /not supported/);
  assert.throws(() => parseYamlDocuments("a: 1\n   b: 2\n"), /indentation/);
});

test("Kubernetes Indexed Job: indexed, no restarts, per-index backoff, deterministic failures fail the index, shared volume", async () => {
  const documents = parseYamlDocuments(await fs.readFile(projectPath("deploy", "kubernetes", "indexed-job.yaml"), "utf8"));
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

  const [evaluate] = parseYamlDocuments(await fs.readFile(projectPath("deploy", "kubernetes", "evaluate-job.yaml"), "utf8"));
  const evaluateContainer = (at(evaluate, "spec", "template", "spec", "containers") as Yaml[])[0];
  assert.equal((at(evaluateContainer, "command") as string[]).join(" "), "npx showcase evaluate");
  assert.equal(envOf(evaluateContainer).get("RUN_ID"), env.get("RUN_ID"), "the merge reads the run the shards wrote");
  assert.equal(envOf(evaluateContainer).get("RUNS_DIR"), env.get("RUNS_DIR"));
});

test("Slurm: array script shards by task id, submit.sh queues the merge after the array (afterany)", async () => {
  const sbatchFile = projectPath("deploy", "slurm", "train-array.sbatch");
  const submitFile = projectPath("deploy", "slurm", "submit.sh");
  const script = await fs.readFile(sbatchFile, "utf8");
  const directives = new Map([...script.matchAll(/^#SBATCH\s+--([\w-]+)(?:=(\S+))?/gm)].map((match) => [match[1], match[2] ?? ""]));
  const array = /^0-(\d+)$/.exec(directives.get("array") ?? "");
  assert.ok(array, `--array=0-N, got ${directives.get("array")}`);
  assert.match(script, new RegExp(`SHARD_COUNT="\\$\\{SHARD_COUNT:-${Number(array[1]) + 1}\\}"`), "default SHARD_COUNT = array size");
  assert.match(script, /^exec npx showcase train$/m);
  const run = promisify(execFile);
  await run("bash", ["-n", sbatchFile]);
  await run("bash", ["-n", submitFile]);

  // submit.sh against stand-ins for sbatch and npx that record their arguments.
  const bin = await tempDir("scale-slurm-");
  const calls = path.join(bin, "calls.log");
  await fs.writeFile(path.join(bin, "sbatch"), `#!/usr/bin/env bash\necho "sbatch $*" >> "${calls}"\nn=$(grep -c '^sbatch' "${calls}")\necho "$((4240 + n));cluster"\n`, { mode: 0o755 });
  await fs.writeFile(path.join(bin, "npx"), `#!/usr/bin/env bash\necho "npx $*" >> "${calls}"\n`, { mode: 0o755 });
  const { stdout } = await run("bash", [submitFile], { env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, SHARD_COUNT: "3" } });
  const [plan, train, merge] = (await fs.readFile(calls, "utf8")).trim().split("\n");
  assert.equal(plan, "npx showcase train --plan");
  assert.match(train, /^sbatch --parsable --array=0-2 --export=ALL,SHARD_COUNT=3 \S+train-array\.sbatch$/);
  assert.match(merge, /^sbatch --parsable --dependency=afterany:4241 .*--wrap=npx showcase evaluate$/);
  assert.match(stdout, /training array 4241 \(3 shards\), merge 4242/);
  await assert.rejects(run("bash", [submitFile], { env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, SHARD_COUNT: "0" } }), /SHARD_COUNT=0/);
});
