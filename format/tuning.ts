// Tuning files: the fastest kernel variant per (op, shape class) on one adapter, as `archc tune`
// measured it, with every variant's time. A file names the adapter it was measured on; the
// commands that compile for a device use a file only on that adapter (compiler/tuning/lookup.ts).
// Files are small JSON, meant to be committed and shipped in the package's tuning/ folder.
//
// The format knows nothing of the compiler: which variants an op has comes from the caller (a
// VariantCatalog), so that a file naming a variant this archc does not have is refused as damaged.

import {
  DamagedFileError,
  decodeUtf8,
  isObject,
  parseJsonStrict,
  readUserFile,
  show,
} from "./damaged-file.js";

export const TUNING_FORMAT = "archc-tuning";
export const TUNING_VERSION = 1;

/** what identifies an adapter: WebGPU's GPUAdapterInfo fields, compared exactly */
export interface AdapterIdentity {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
}

export interface TuningEntry {
  op: string;
  shapeClass: string;
  /** the variant to use for this op and shape class */
  variant: string;
  /** milliseconds per dispatch of each variant measured */
  ms: Record<string, number>;
}

export interface TuningFile {
  format: typeof TUNING_FORMAT;
  version: typeof TUNING_VERSION;
  adapter: AdapterIdentity;
  entries: TuningEntry[];
}

/** op and shape class → variant: what the compiler reads (compiler/compile.ts CompileOptions) */
export type TuningTable = ReadonlyMap<string, string>;

/** the key of a TuningTable (shape classes hold no spaces) */
export function tuningKey(op: string, shapeClass: string): string {
  return `${op} ${shapeClass}`;
}

export function tuningTable(file: TuningFile): TuningTable {
  return new Map(file.entries.map((e) => [tuningKey(e.op, e.shapeClass), e.variant]));
}

/** the variants an op has, or undefined when it has none: the compiler's, passed in */
export type VariantCatalog = (op: string) => readonly string[] | undefined;

const ADAPTER_KEYS = ["vendor", "architecture", "device", "description"] as const;
const HINT = "run `archc tune` to measure this adapter again, or remove the file";

export function adapterIdentity(info: AdapterIdentity): AdapterIdentity {
  return {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
  };
}

export function sameAdapter(a: AdapterIdentity, b: AdapterIdentity): boolean {
  return ADAPTER_KEYS.every((key) => a[key] === b[key]);
}

export function describeIdentity(a: AdapterIdentity): string {
  return a.description || [a.vendor, a.architecture, a.device].filter((s) => s).join(" ") || "(unnamed)";
}

function onlyKeys(path: string, value: Record<string, unknown>, allowed: readonly string[], where: string) {
  const unknown = Object.keys(value).find((key) => !allowed.includes(key));
  if (unknown !== undefined)
    throw new DamagedFileError(
      path,
      `${where} has an unknown field ${JSON.stringify(unknown)} (allowed: ${allowed.join(", ")})`,
      HINT,
    );
}

function parseAdapter(path: string, value: unknown): AdapterIdentity {
  if (!isObject(value))
    throw new DamagedFileError(path, `"adapter" must be an object, not ${show(value)}`, HINT);
  onlyKeys(path, value, ADAPTER_KEYS, '"adapter"');
  for (const key of ADAPTER_KEYS)
    if (typeof value[key] !== "string")
      throw new DamagedFileError(path, `"adapter.${key}" must be a string, not ${show(value[key])}`, HINT);
  return adapterIdentity(value as unknown as AdapterIdentity);
}

function parseEntry(path: string, value: unknown, at: number, catalog: VariantCatalog): TuningEntry {
  const where = `entry ${at}`;
  if (!isObject(value))
    throw new DamagedFileError(path, `${where} must be an object, not ${show(value)}`, HINT);
  onlyKeys(path, value, ["op", "shapeClass", "variant", "ms"], where);
  const { op, shapeClass, variant, ms } = value;
  if (typeof op !== "string") throw new DamagedFileError(path, `${where}: "op" must be a string`, HINT);
  const names = catalog(op);
  if (!names)
    throw new DamagedFileError(path, `${where}: op ${JSON.stringify(op)} has no kernel variants`, HINT);
  if (typeof shapeClass !== "string" || shapeClass === "" || /\s/.test(shapeClass))
    throw new DamagedFileError(
      path,
      `${where}: "shapeClass" must be a non-empty string without spaces, not ${show(shapeClass)}`,
      HINT,
    );
  const known = (name: unknown): name is string => typeof name === "string" && names.includes(name);
  if (!known(variant))
    throw new DamagedFileError(
      path,
      `${where}: ${op} has no variant ${show(variant)} (it has: ${names.join(", ")})`,
      HINT,
    );
  if (!isObject(ms))
    throw new DamagedFileError(path, `${where}: "ms" must be an object of variant: milliseconds`, HINT);
  for (const [name, time] of Object.entries(ms)) {
    if (!known(name))
      throw new DamagedFileError(
        path,
        `${where}: "ms" times a variant ${op} does not have: ${show(name)}`,
        HINT,
      );
    if (typeof time !== "number" || !Number.isFinite(time) || time < 0)
      throw new DamagedFileError(
        path,
        `${where}: "ms.${name}" must be a number >= 0, not ${show(time)}`,
        HINT,
      );
  }
  return { op, shapeClass, variant, ms: { ...(ms as Record<string, number>) } };
}

/** a tuning file's text, checked field by field; every problem is a DamagedFileError naming `path` */
export function parseTuningFile(path: string, text: string, catalog: VariantCatalog): TuningFile {
  const value = parseJsonStrict(path, text, "tuning file", HINT);
  if (!isObject(value)) throw new DamagedFileError(path, "a tuning file must be a JSON object", HINT);
  if (value.format !== TUNING_FORMAT)
    throw new DamagedFileError(
      path,
      `not a tuning file ("format" is ${show(value.format)}, expected "${TUNING_FORMAT}")`,
    );
  if (value.version !== TUNING_VERSION)
    throw new DamagedFileError(
      path,
      `tuning file version ${show(value.version)} is not supported (this archc reads version ${TUNING_VERSION})`,
      HINT,
    );
  onlyKeys(path, value, ["format", "version", "adapter", "entries"], "the file");
  const adapter = parseAdapter(path, value.adapter);
  if (!Array.isArray(value.entries))
    throw new DamagedFileError(path, `"entries" must be an array, not ${show(value.entries)}`, HINT);
  const entries = value.entries.map((entry, i) => parseEntry(path, entry, i, catalog));
  const seen = new Set<string>();
  for (const [i, e] of entries.entries()) {
    const key = tuningKey(e.op, e.shapeClass);
    if (seen.has(key))
      throw new DamagedFileError(path, `entry ${i} repeats ${e.op} ${e.shapeClass}, named before it`, HINT);
    seen.add(key);
  }
  return { format: TUNING_FORMAT, version: TUNING_VERSION, adapter, entries };
}

export function readTuningFile(path: string, catalog: VariantCatalog): TuningFile {
  return parseTuningFile(path, decodeUtf8(path, readUserFile(path), "tuning file"), catalog);
}

/** the file's text: one entry per line, so that a change to a tuning file reads well in a diff */
export function serializeTuningFile(file: TuningFile): string {
  const head = JSON.stringify({ format: file.format, version: file.version, adapter: file.adapter }, null, 2);
  const entries = file.entries.map((e) => `    ${JSON.stringify(e)}`).join(",\n");
  return `${head.slice(0, -2)},\n  "entries": [\n${entries}\n  ]\n}\n`;
}
