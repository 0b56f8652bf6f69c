// Checkpoints: a directory <run>/ckpt-<step>/ holding model.safetensors (parameters under their IR
// names), optimizer.safetensors (AdamW moments m.<name>, v.<name>) and state.json. A checkpoint
// is assembled in a hidden temporary directory and renamed into place, so a crash at any moment
// leaves either the complete checkpoint or none; <run>/latest names the newest one.

import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ModelSpec, TrainSpec } from "../format/spec.js";
import {
  DamagedFileError,
  decodeUtf8,
  fsFailure,
  isObject,
  isWholeNumber,
  parseJsonStrict,
  readUserFile,
  show,
} from "../format/damaged-file.js";
import { readSafetensors, writeSafetensors, type Tensor } from "./safetensors.js";
import { modelSpecProblem, trainSpecProblem } from "./spec-check.js";
import { makeOutputDir } from "../format/output-dir.js";

/** The one tensor of a cpu-bigram checkpoint (runtime/train/cpu-bigram.ts names it too). */
const BIGRAM_TABLE_NAME = "bigram.table";

export interface TrainingState {
  /** optimizer steps completed; training resumes at this step */
  step: number;
  params: Map<string, Float32Array>;
  m: Map<string, Float32Array>;
  v: Map<string, Float32Array>;
}

export interface CheckpointInfo {
  format: "archc-checkpoint";
  formatVersion: 1;
  archcVersion: string;
  step: number;
  /** the model as checked, so `generate` can rebuild it without the .arch file */
  model: ModelSpec;
  train: TrainSpec;
  tokenizer: string;
  /** what trained the parameters: "gpu" (the model itself) or "cpu-bigram" (the pipeline demo) */
  engine: string;
  /** what decides the data order: batch for step s is a function of (data, seed, batch, seq, s) */
  data: { source: string; seed: number; nextStep: number };
  savedAt: string;
  /** the last loss read back before saving, if any */
  lastLoss?: number;
}

export interface LoadedCheckpoint {
  dir: string;
  info: CheckpointInfo;
  params: Map<string, Float32Array>;
  shapes: Map<string, number[]>;
  /** present when the optimizer state was asked for */
  m?: Map<string, Float32Array>;
  v?: Map<string, Float32Array>;
}

export const MODEL_FILE = "model.safetensors";
export const OPTIMIZER_FILE = "optimizer.safetensors";
export const STATE_FILE = "state.json";
export const LATEST_FILE = "latest";

export function checkpointDirName(step: number): string {
  return `ckpt-${step}`;
}

let cachedVersion: string | undefined;

/** archc's version from its package.json, found by walking up from this module (src or dist). */
export function archcVersion(): string {
  if (cachedVersion) return cachedVersion;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, "package.json");
    if (existsSync(candidate)) {
      const pkg = JSON.parse(readFileSync(candidate, "utf8")) as { name?: string; version?: string };
      if (pkg.name === "archc" && pkg.version) return (cachedVersion = pkg.version);
    }
    const parent = dirname(dir);
    if (parent === dir) return (cachedVersion = "unknown");
    dir = parent;
  }
}

function fsyncPath(path: string): void {
  // directories cannot be opened for fsync everywhere (Windows); the rename is still atomic there
  try {
    const fd = openSync(path, "r");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    /* best effort */
  }
}

function writeFileDurably(path: string, text: string): void {
  const fd = openSync(path, "w");
  try {
    const bytes = Buffer.from(text, "utf8");
    let done = 0;
    while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Replaces `path` with `text` in one rename: readers see the old contents or the new, never half. */
export function writeFileAtomic(path: string, text: string): void {
  const temporary = join(dirname(path), `.${pathBase(path)}.tmp-${process.pid}`);
  try {
    writeFileDurably(temporary, text);
    renameSync(temporary, path);
  } catch (err) {
    rmSync(temporary, { force: true });
    throw err;
  }
  fsyncPath(dirname(path));
}

function pathBase(path: string): string {
  return path.slice(Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\")) + 1);
}

function tensorsOf(
  arrays: ReadonlyMap<string, Float32Array>,
  shapes: ReadonlyMap<string, readonly number[]>,
  prefix: string,
): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const [name, data] of arrays) {
    const shape = shapes.get(name);
    if (!shape) throw new Error(`no shape known for parameter "${name}"`);
    out.set(prefix + name, { dtype: "F32", shape: [...shape], data });
  }
  return out;
}

/**
 * Saves a checkpoint of `state` in runDir and points `latest` at it. Returns its directory.
 * `shapes` gives each parameter's shape (moments share their parameter's shape).
 */
export function saveCheckpoint(
  runDir: string,
  state: TrainingState,
  shapes: ReadonlyMap<string, readonly number[]>,
  info: Omit<CheckpointInfo, "format" | "formatVersion" | "archcVersion" | "step" | "savedAt">,
): string {
  makeOutputDir(runDir);
  cleanStaleTemporaries(runDir);
  const name = checkpointDirName(state.step);
  const finalDir = join(runDir, name);
  const partialDir = join(runDir, `.${name}.partial-${process.pid}`);
  rmSync(partialDir, { recursive: true, force: true });
  mkdirSync(partialDir);
  try {
    const stepText = String(state.step);
    writeSafetensors(
      join(partialDir, MODEL_FILE),
      tensorsOf(state.params, shapes, ""),
      { format: "archc", model: info.model.name, step: stepText },
      { fsync: true },
    );
    const moments = new Map([...tensorsOf(state.m, shapes, "m."), ...tensorsOf(state.v, shapes, "v.")]);
    writeSafetensors(
      join(partialDir, OPTIMIZER_FILE),
      moments,
      { format: "archc", optimizer: "adamw", step: stepText },
      { fsync: true },
    );
    const full: CheckpointInfo = {
      format: "archc-checkpoint",
      formatVersion: 1,
      archcVersion: archcVersion(),
      step: state.step,
      savedAt: new Date().toISOString(),
      ...info,
    };
    writeFileDurably(join(partialDir, STATE_FILE), JSON.stringify(full, stripSpans, 2) + "\n");
    fsyncPath(partialDir);
    if (existsSync(finalDir)) {
      // a re-save of the same step (e.g. Ctrl-C right after a periodic save): swap, then drop the old
      const previous = join(runDir, `.${name}.replaced-${process.pid}`);
      renameSync(finalDir, previous);
      renameSync(partialDir, finalDir);
      rmSync(previous, { recursive: true, force: true });
    } else {
      renameSync(partialDir, finalDir);
    }
    fsyncPath(runDir);
  } catch (err) {
    rmSync(partialDir, { recursive: true, force: true });
    throw err;
  }
  writeFileAtomic(join(runDir, LATEST_FILE), name + "\n");
  return finalDir;
}

function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else
    return (err as { code?: string }).code === "EPERM";
  }
}

/** Whether this process holds the run directory's lock (runtime/train/run-lock.ts writes `.lock`). */
function holdsRunLock(runDir: string): boolean {
  try {
    return Number.parseInt(readFileSync(join(runDir, ".lock"), "utf8"), 10) === process.pid;
  } catch {
    return false;
  }
}

const TEMPORARY = /^\.(?:(ckpt-\d+)\.(partial|replaced)|latest\.tmp)-(\d+)$/;

/**
 * Removes what a save killed midway leaves in runDir: `.ckpt-N.partial-PID` directories and
 * `.latest.tmp-PID` files of processes that are gone (of every process but this one when this
 * process holds the run lock, since then no other trainer writes here). A `.ckpt-N.replaced-PID`
 * is the complete previous checkpoint N, moved aside for a re-save of step N: it is put back when
 * ckpt-N is missing and removed otherwise. Returns the names it removed or restored.
 */
export function cleanStaleTemporaries(runDir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(runDir);
  } catch {
    return [];
  }
  const locked = holdsRunLock(runDir);
  const cleaned: string[] = [];
  for (const entry of entries) {
    const match = TEMPORARY.exec(entry);
    if (!match) continue;
    const pid = Number(match[3]);
    if (pid === process.pid || (!locked && processAlive(pid))) continue;
    const path = join(runDir, entry);
    try {
      if (match[2] === "replaced" && !existsSync(join(runDir, match[1])))
        renameSync(path, join(runDir, match[1]));
      else rmSync(path, { recursive: true, force: true });
      cleaned.push(entry);
    } catch {
      /* best effort: another process may be cleaning too */
    }
  }
  return cleaned;
}

/** Source positions are for diagnostics, not for checkpoints. */
function stripSpans(key: string, value: unknown): unknown {
  return key === "span" ? undefined : value;
}

/** Completed checkpoints in runDir, oldest first. */
export function listCheckpoints(runDir: string): { step: number; dir: string }[] {
  if (!existsSync(runDir)) return [];
  let entries: string[];
  try {
    entries = readdirSync(runDir);
  } catch (err) {
    throw fsFailure(runDir, err, "give a run directory or a ckpt-N directory");
  }
  return entries
    .map((entry) => /^ckpt-(\d+)$/.exec(entry))
    .filter((match): match is RegExpExecArray => match !== null)
    .map((match) => ({ step: Number(match[1]), dir: join(runDir, match[0]) }))
    .filter(({ step, dir }) => Number.isSafeInteger(step) && existsSync(join(dir, STATE_FILE)))
    .sort((a, b) => a.step - b.step);
}

const LATEST_HINT =
  "write the name of a checkpoint of this run into it (e.g. ckpt-100), or delete it to use the newest";

/**
 * The checkpoint `<runDir>/latest` names, checked: one line `ckpt-<N>` naming a checkpoint
 * directory (with state.json) directly inside runDir. Undefined when there is no `latest`.
 */
export function readLatest(runDir: string): string | undefined {
  const latestFile = join(runDir, LATEST_FILE);
  if (!existsSync(latestFile)) return undefined;
  const text = decodeUtf8(latestFile, readUserFile(latestFile, LATEST_HINT));
  const name = text.trim();
  if (!/^ckpt-(0|[1-9]\d{0,15})$/.test(name) || !Number.isSafeInteger(Number(name.slice(5))))
    throw new DamagedFileError(
      latestFile,
      `names ${show(text.length > 60 ? text.slice(0, 60) : text)}, not a checkpoint of this run (ckpt-<step>)`,
      LATEST_HINT,
    );
  const dir = join(runDir, name);
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw new DamagedFileError(latestFile, `names ${name}, which does not exist in ${runDir}`, LATEST_HINT);
  if (!existsSync(join(dir, STATE_FILE)))
    throw new DamagedFileError(
      latestFile,
      `names ${name}, which has no ${STATE_FILE} (an incomplete checkpoint)`,
      LATEST_HINT,
    );
  return dir;
}

/**
 * A checkpoint directory from what a user typed: a checkpoint itself, or a run directory (its
 * `latest`, else its highest-numbered checkpoint). Undefined when there is none. A `latest` that
 * names no checkpoint of the run is a DamagedFileError.
 */
export function resolveCheckpoint(path: string): string | undefined {
  if (!existsSync(path) || !statSync(path).isDirectory()) return undefined;
  if (existsSync(join(path, STATE_FILE))) return path;
  return readLatest(path) ?? listCheckpoints(path).at(-1)?.dir;
}

/** The most bytes a state.json may have: it holds a spec, not tensors. */
const MAX_STATE_BYTES = 16 * 1024 * 1024;
const STATE_HINT = "the checkpoint is damaged: use another checkpoint of the run, or restore a copy";

/** Engines this archc writes; their state.json is checked completely. */
export const CHECKPOINT_ENGINES = ["gpu", "cpu-bigram"] as const;

/**
 * Checks a parsed state.json. The envelope (format, version, step, data position, tokenizer,
 * engine) always; for the engines archc writes also the full ModelSpec and TrainSpec, and that the
 * recorded data position is the step. `dir` is the checkpoint directory: a `ckpt-<N>` must hold
 * step N.
 */
export function checkCheckpointInfo(statePath: string, dir: string, value: unknown): CheckpointInfo {
  const bad = (what: string, hint = STATE_HINT): never => {
    throw new DamagedFileError(statePath, what, hint);
  };
  const field = (key: string, v: unknown, expected: string): never =>
    bad(`"${key}" is ${show(v)}, expected ${expected}`);
  if (!isObject(value)) return bad(`holds ${show(value)}, not a JSON object`);
  const info = value;
  if (info.format !== "archc-checkpoint") bad(`is not an archc checkpoint (format ${show(info.format)})`);
  if (info.formatVersion !== 1)
    bad(
      `has checkpoint format version ${show(info.formatVersion)}; this archc reads version 1`,
      "use the archc that wrote it",
    );
  if (typeof info.archcVersion !== "string") field("archcVersion", info.archcVersion, "a string");
  if (!isWholeNumber(info.step)) field("step", info.step, "a whole number >= 0");
  const step = info.step as number;
  const named = /^ckpt-(\d+)$/.exec(pathBase(dir));
  if (named && Number(named[1]) !== step)
    bad(`says step ${step}, but its directory ${pathBase(dir)} is the checkpoint of step ${named[1]}`);
  if (typeof info.savedAt !== "string") field("savedAt", info.savedAt, "a string");
  if (typeof info.tokenizer !== "string" || info.tokenizer === "")
    field("tokenizer", info.tokenizer, "a tokenizer name");
  if (typeof info.engine !== "string" || info.engine === "") field("engine", info.engine, "an engine name");
  if (
    info.lastLoss !== undefined &&
    info.lastLoss !== null &&
    !(typeof info.lastLoss === "number" && Number.isFinite(info.lastLoss))
  )
    field("lastLoss", info.lastLoss, "a finite number");
  if (!isObject(info.data)) field("data", info.data, "{source, seed, nextStep}");
  const data = info.data as Record<string, unknown>;
  if (typeof data.source !== "string" || data.source === "")
    field("data.source", data.source, "a non-empty string");
  if (!isWholeNumber(data.seed)) field("data.seed", data.seed, "a whole number >= 0");
  if (!isWholeNumber(data.nextStep)) field("data.nextStep", data.nextStep, "a whole number >= 0");
  if (!isObject(info.model)) field("model", info.model, "the model spec (an object)");
  const model = info.model as Record<string, unknown>;
  if (typeof model.name !== "string" || model.name === "")
    field("model.name", model.name, "a non-empty string");
  if (!isObject(info.train)) field("train", info.train, "the train spec (an object)");
  if (info.engine === "gpu" || info.engine === "cpu-bigram") {
    const trainProblem = trainSpecProblem(info.train);
    if (trainProblem) bad(trainProblem);
    const train = info.train as unknown as TrainSpec;
    if (!["bytes", "gpt2"].includes(info.tokenizer as string))
      field("tokenizer", info.tokenizer, `"bytes" or "gpt2"`);
    if (train.tokenizer !== info.tokenizer)
      bad(`"tokenizer" is ${show(info.tokenizer)} but train.tokenizer is ${show(train.tokenizer)}`);
    if (data.nextStep !== step) bad(`"data.nextStep" is ${show(data.nextStep)} but "step" is ${step}`);
    if (data.seed !== train.seed) bad(`"data.seed" is ${show(data.seed)} but train.seed is ${train.seed}`);
    if (info.engine === "gpu") {
      const modelProblem = modelSpecProblem(info.model);
      if (modelProblem) bad(modelProblem);
      const spec = info.model as unknown as ModelSpec;
      if (train.seq > spec.context) bad(`train.seq ${train.seq} exceeds model.context ${spec.context}`);
    } else if (model.vocab !== undefined && !isWholeNumber(model.vocab, 1)) {
      field("model.vocab", model.vocab, "a whole number >= 1");
    }
  }
  return info as unknown as CheckpointInfo;
}

/** state.json alone, without reading any tensors; checked (see checkCheckpointInfo). */
export function readCheckpointInfo(dir: string): CheckpointInfo {
  const statePath = join(dir, STATE_FILE);
  if (!existsSync(statePath))
    throw new DamagedFileError(
      dir,
      `is not a checkpoint (it has no ${STATE_FILE})`,
      "give a ckpt-N directory or a run directory",
    );
  let size: number;
  try {
    size = statSync(statePath).size;
  } catch (err) {
    throw fsFailure(statePath, err);
  }
  if (size > MAX_STATE_BYTES)
    throw new DamagedFileError(
      statePath,
      `is ${size} bytes, more than a state.json can be (${MAX_STATE_BYTES})`,
      STATE_HINT,
    );
  const text = decodeUtf8(statePath, readUserFile(statePath, STATE_HINT));
  return checkCheckpointInfo(statePath, dir, parseJsonStrict(statePath, text, "file", STATE_HINT));
}

export interface LoadOptions {
  /** read optimizer.safetensors too (the moments m and v) */
  optimizer: boolean;
  /**
   * The parameters the model needs, by name with their exact shapes (or a function of the
   * checked state.json giving them): the checkpoint must hold exactly these. Without it the
   * tensors are checked against each other and, for a cpu-bigram checkpoint, against its vocab.
   */
  expectedShapes?:
    | ReadonlyMap<string, readonly number[]>
    | ((info: CheckpointInfo) => ReadonlyMap<string, readonly number[]> | undefined);
}

const TENSOR_HINT = "the checkpoint is damaged or from another model: use another checkpoint of the run";

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function nonFinite(data: Float32Array): number | undefined {
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) return i;
  return undefined;
}

function describeValue(x: number): string {
  return Number.isNaN(x) ? "NaN" : x > 0 ? "+Inf" : "-Inf";
}

/** Every tensor of `file` as F32 with finite values; names (without `prefix`) to data and shape. */
function float32Tensors(
  path: string,
  tensors: Map<string, Tensor>,
  prefix: string,
): Map<string, { data: Float32Array; shape: number[] }> {
  const out = new Map<string, { data: Float32Array; shape: number[] }>();
  for (const [name, tensor] of tensors) {
    if (!name.startsWith(prefix)) continue;
    if (tensor.dtype !== "F32")
      throw new DamagedFileError(path, `tensor "${name}" is ${tensor.dtype}, expected F32`, TENSOR_HINT);
    const data = tensor.data as Float32Array;
    const at = nonFinite(data);
    if (at !== undefined)
      throw new DamagedFileError(
        path,
        `tensor "${name}" holds ${describeValue(data[at])} at element ${at}: a diverged or damaged checkpoint`,
        "resume from or generate with an earlier checkpoint of the run",
      );
    out.set(name.slice(prefix.length), { data, shape: tensor.shape });
  }
  return out;
}

function checkMetadata(path: string, metadata: Record<string, string>, step: number): void {
  if (metadata.format !== undefined && metadata.format !== "archc")
    throw new DamagedFileError(
      path,
      `"__metadata__.format" is ${show(metadata.format)}, not "archc"`,
      TENSOR_HINT,
    );
  if (metadata.step !== undefined && metadata.step !== String(step))
    throw new DamagedFileError(
      path,
      `"__metadata__.step" is ${show(metadata.step)}, but state.json says step ${step}`,
      TENSOR_HINT,
    );
}

/**
 * Loads and checks a checkpoint: state.json (see checkCheckpointInfo); every tensor F32, finite,
 * with the shape the model needs (LoadOptions.expectedShapes); the moments exactly m.<p> and v.<p>
 * for every parameter p, with p's shape, v >= 0. Any problem is a DamagedFileError naming the file.
 */
export function loadCheckpoint(dir: string, options: LoadOptions): LoadedCheckpoint {
  const info = readCheckpointInfo(dir);
  const modelPath = join(dir, MODEL_FILE);
  const modelFile = readSafetensors(modelPath);
  checkMetadata(modelPath, modelFile.metadata, info.step);
  const tensors = float32Tensors(modelPath, modelFile.tensors, "");
  if (tensors.size === 0) throw new DamagedFileError(modelPath, "holds no parameters", TENSOR_HINT);
  let expected =
    typeof options.expectedShapes === "function" ? options.expectedShapes(info) : options.expectedShapes;
  if (!expected && info.engine === "cpu-bigram") {
    const table = tensors.get(BIGRAM_TABLE_NAME);
    const vocab = (info.model as { vocab?: number }).vocab ?? table?.shape[0] ?? 0;
    expected = new Map([[BIGRAM_TABLE_NAME, [vocab, vocab]]]);
  }
  if (expected) {
    for (const [name, shape] of expected) {
      const got = tensors.get(name);
      if (!got)
        throw new DamagedFileError(
          modelPath,
          `has no parameter "${name}" that model ${info.model.name} needs`,
          TENSOR_HINT,
        );
      if (!sameShape(got.shape, shape))
        throw new DamagedFileError(
          modelPath,
          `parameter "${name}" has shape [${got.shape.join(", ")}], model ${info.model.name} needs [${shape.join(", ")}]`,
          TENSOR_HINT,
        );
    }
    for (const name of tensors.keys())
      if (!expected.has(name))
        throw new DamagedFileError(
          modelPath,
          `holds "${name}", which model ${info.model.name} does not have`,
          TENSOR_HINT,
        );
  }
  const params = new Map([...tensors].map(([name, t]) => [name, t.data]));
  const shapes = new Map([...tensors].map(([name, t]) => [name, [...t.shape]]));
  const loaded: LoadedCheckpoint = { dir, info, params, shapes };
  if (options.optimizer) {
    const optimizerPath = join(dir, OPTIMIZER_FILE);
    const optimizerFile = readSafetensors(optimizerPath);
    checkMetadata(optimizerPath, optimizerFile.metadata, info.step);
    for (const name of optimizerFile.tensors.keys())
      if (!(name.startsWith("m.") || name.startsWith("v.")) || !tensors.has(name.slice(2)))
        throw new DamagedFileError(
          optimizerPath,
          `holds "${name}", which is not a moment of a parameter in ${MODEL_FILE}`,
          TENSOR_HINT,
        );
    const m = float32Tensors(optimizerPath, optimizerFile.tensors, "m.");
    const v = float32Tensors(optimizerPath, optimizerFile.tensors, "v.");
    for (const [name, { shape }] of tensors) {
      for (const [prefix, moments] of [
        ["m.", m],
        ["v.", v],
      ] as const) {
        const moment = moments.get(name);
        if (!moment)
          throw new DamagedFileError(optimizerPath, `lacks the moment "${prefix}${name}"`, TENSOR_HINT);
        if (!sameShape(moment.shape, shape))
          throw new DamagedFileError(
            optimizerPath,
            `moment "${prefix}${name}" has shape [${moment.shape.join(", ")}], its parameter [${shape.join(", ")}]`,
            TENSOR_HINT,
          );
      }
      const second = v.get(name)!.data;
      const negative = second.findIndex((x) => x < 0);
      if (negative >= 0)
        throw new DamagedFileError(
          optimizerPath,
          `second moment "v.${name}" is negative (${second[negative]}) at element ${negative}`,
          TENSOR_HINT,
        );
    }
    loaded.m = new Map([...m].map(([name, t]) => [name, t.data]));
    loaded.v = new Map([...v].map(([name, t]) => [name, t.data]));
  }
  return loaded;
}
