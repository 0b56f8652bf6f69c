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
import type { ModelSpec, TrainSpec } from "../compiler/spec.js";
import { readSafetensors, writeSafetensors, type Tensor } from "./safetensors.js";

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
  mkdirSync(runDir, { recursive: true });
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

/** Source positions are for diagnostics, not for checkpoints. */
function stripSpans(key: string, value: unknown): unknown {
  return key === "span" ? undefined : value;
}

/** Completed checkpoints in runDir, oldest first. */
export function listCheckpoints(runDir: string): { step: number; dir: string }[] {
  if (!existsSync(runDir)) return [];
  return readdirSync(runDir)
    .map((entry) => /^ckpt-(\d+)$/.exec(entry))
    .filter((match): match is RegExpExecArray => match !== null)
    .map((match) => ({ step: Number(match[1]), dir: join(runDir, match[0]) }))
    .filter(({ dir }) => existsSync(join(dir, STATE_FILE)))
    .sort((a, b) => a.step - b.step);
}

/**
 * A checkpoint directory from what a user typed: a checkpoint itself, or a run directory (its
 * `latest`, else its highest-numbered checkpoint). Undefined when there is none.
 */
export function resolveCheckpoint(path: string): string | undefined {
  if (!existsSync(path) || !statSync(path).isDirectory()) return undefined;
  if (existsSync(join(path, STATE_FILE))) return path;
  const latestFile = join(path, LATEST_FILE);
  if (existsSync(latestFile)) {
    const named = join(path, readFileSync(latestFile, "utf8").trim());
    if (existsSync(join(named, STATE_FILE))) return named;
  }
  return listCheckpoints(path).at(-1)?.dir;
}

function float32Map(tensors: Map<string, Tensor>, prefix: string, file: string): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const [name, tensor] of tensors) {
    if (!name.startsWith(prefix)) continue;
    if (tensor.dtype !== "F32") throw new Error(`${file}: tensor "${name}" is ${tensor.dtype}, expected F32`);
    out.set(name.slice(prefix.length), tensor.data as Float32Array);
  }
  return out;
}

/** state.json alone, without reading any tensors. */
export function readCheckpointInfo(dir: string): CheckpointInfo {
  const statePath = join(dir, STATE_FILE);
  if (!existsSync(statePath)) throw new Error(`${dir} is not a checkpoint (no ${STATE_FILE})`);
  const info = JSON.parse(readFileSync(statePath, "utf8")) as CheckpointInfo;
  if (info.format !== "archc-checkpoint") throw new Error(`${statePath}: not an archc checkpoint`);
  if (info.formatVersion !== 1)
    throw new Error(
      `${statePath}: checkpoint format version ${info.formatVersion} is not supported (this archc reads 1)`,
    );
  return info;
}

export function loadCheckpoint(dir: string, options: { optimizer: boolean }): LoadedCheckpoint {
  const info = readCheckpointInfo(dir);
  const modelFile = readSafetensors(join(dir, MODEL_FILE));
  const params = float32Map(modelFile.tensors, "", MODEL_FILE);
  const shapes = new Map([...modelFile.tensors].map(([name, t]) => [name, t.shape]));
  const loaded: LoadedCheckpoint = { dir, info, params, shapes };
  if (options.optimizer) {
    const moments = readSafetensors(join(dir, OPTIMIZER_FILE)).tensors;
    loaded.m = float32Map(moments, "m.", OPTIMIZER_FILE);
    loaded.v = float32Map(moments, "v.", OPTIMIZER_FILE);
    for (const name of params.keys()) {
      if (!loaded.m.has(name) || !loaded.v.has(name))
        throw new Error(`${dir}: optimizer state lacks moments for "${name}"`);
    }
  }
  return loaded;
}
