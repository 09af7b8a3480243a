// Validating what a stage reads from another stage's file: its schema version, then the fields the
// readers rely on. Hand-written (no dependency): each schema module lists its fields once.
import { readJson } from "../io/atomic";

type Kind = "string" | "number" | "boolean" | "array" | "object";
/** A field's kind; "?" = may be absent, "|null" = may be null; a nested Fields = a required object with those fields. */
export type FieldKind = Kind | `${Kind}?` | `${Kind}|null`;
export interface Fields {
  [field: string]: FieldKind | Fields;
}

export interface FileSchema {
  /** The `schema` value this version writes, e.g. "showcase.history/1". */
  schema: string;
  fields: Fields;
  /** What to do when the file is unusable, e.g. "train this architecture again (FORCE=1)". */
  redo: string;
}

/** A file another stage wrote is unusable here: `version` = written by another version of the project. */
export class SchemaError extends Error {
  constructor(
    message: string,
    readonly file: string,
    readonly reason: "version" | "field",
  ) {
    super(message);
    this.name = "SchemaError";
  }
}

function kindOf(value: unknown): string {
  return value === null ? "null" : Array.isArray(value) ? "array" : typeof value;
}

function checkFields(file: string, value: Record<string, unknown>, fields: Fields, prefix: string, redo: string): void {
  for (const [name, want] of Object.entries(fields)) {
    const field = `${prefix}${name}`;
    const found = value[name];
    if (typeof want !== "string") {
      if (kindOf(found) !== "object") throw new SchemaError(`${file}: field "${field}" should be an object, found ${kindOf(found)}: ${redo}`, file, "field");
      checkFields(file, found as Record<string, unknown>, want, `${field}.`, redo);
      continue;
    }
    const kind = want.replace(/\?$|\|null$/, "");
    if (found === undefined && want.endsWith("?")) continue;
    if (found === null && want.endsWith("|null")) continue;
    const actual = kindOf(found);
    if (actual !== kind || (kind === "number" && !Number.isFinite(found))) {
      throw new SchemaError(`${file}: field "${field}" should be ${kind === "array" || kind === "object" ? "an" : "a"} ${kind}, found ${found === undefined ? "nothing" : actual}: ${redo}`, file, "field");
    }
  }
}

/** The schema version, then every listed field; returns the value typed, or throws a one-line SchemaError. */
function checkSchema<T>(file: string, value: unknown, spec: FileSchema): T {
  if (kindOf(value) !== "object") throw new SchemaError(`${file}: expected a JSON object, found ${kindOf(value)}: ${spec.redo}`, file, "field");
  const schema = (value as { schema?: unknown }).schema;
  if (schema !== spec.schema) {
    const family = spec.schema.replace(/\/[^/]*$/, "/");
    const older = typeof schema === "string" && schema.startsWith(family) && Number(schema.slice(family.length)) < Number(spec.schema.slice(family.length));
    const who = older ? "an older version" : schema === undefined ? "an older version (no schema field)" : "another version";
    throw new SchemaError(`${file} was written by ${who} (schema ${JSON.stringify(schema ?? null)}; this version reads ${spec.schema}): ${spec.redo}`, file, "version");
  }
  checkFields(file, value as Record<string, unknown>, spec.fields, "", spec.redo);
  return value as T;
}

/** `read`'s value, or undefined when the file was written by another version (to be written anew); other errors propagate. */
export function skipOtherVersion<T>(read: Promise<T>): Promise<T | undefined> {
  return read.catch((error: unknown) => {
    if (error instanceof SchemaError && error.reason === "version") return undefined;
    throw error;
  });
}

/** Reads a JSON file and checks it (a file that does not parse is readJson's SyntaxError naming it). */
export async function readSchemaFile<T>(file: string, spec: FileSchema): Promise<T> {
  return checkSchema<T>(file, await readJson<unknown>(file), spec);
}
