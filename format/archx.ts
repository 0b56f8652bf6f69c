// The executable format (.archx): a self-contained, versioned JSON plan that the runtime executes
// without the compiler. docs/archx.md describes every field.

import {
  DamagedFileError,
  decodeUtf8,
  isObject,
  isWholeNumber,
  parseJsonStrict,
  readUserFile,
  show,
} from "./damaged-file.js";
import { writeOutputFile } from "./output-dir.js";

/** element types of values: every one is 4 bytes wide */
export type DType = "f32" | "i32";

/** how a parameter starts before training (runtime/init.ts draws the values) */
export type Init =
  | { kind: "normal"; std: number }
  | { kind: "zeros" }
  | { kind: "ones" }
  /** explicit row-major values: identity mixing matrices, one-hot read weights, small scales */
  | { kind: "values"; values: number[] };

export const ARCHX_FORMAT = "archx";
// 2: a binding may be a whole pool ({ pool }) instead of one value
// 3: pool bindings are byte ranges listing their values ({ pool, offset, size, values }); values
//    may be views of another value's bytes (viewOf)
// 4: a pool range may be a stack of values one stride apart ({ pool, offset, size, values, stride })
export const ARCHX_VERSION = 4;

/**
 * A value's slot, or a pool: the byte range [offset, offset + size) of it when those are given,
 * otherwise the whole pool (files written before ranges existed).
 */
export type ArchxBinding =
  | { value: number; access: "read" | "read_write" }
  | {
      pool: number;
      access: "read_write";
      offset?: number;
      size?: number;
      /**
       * the values the kernel reaches through this range, in the order its module's declaration
       * comment lists their element offsets (a module shared by kernels of several layers lists
       * the first kernel's values; each kernel names its own here)
       */
      values?: number[];
      /**
       * set for a stack of sources (compiler/passes/stacks.ts): value k of `values` starts at byte
       * offset + k * stride, and the range holds exactly values.length strides; the module reads
       * how many there are off the binding's length, so one module serves every prefix
       */
      stride?: number;
    };

/**
 * A module's code without its comments. Kernels of different layers differ only in the comments
 * naming their scope and values: modules with the same code are stored once and compiled into one
 * pipeline.
 */
export function moduleCode(wgsl: string): string {
  // comments to the end of their line, then the blank lines they leave, in passes over the text
  return wgsl
    .replace(/[ \t]*\/\/[^\n]*/g, "")
    .replace(/\n[ \t]*(?=\n|$)/g, "")
    .replace(/^[ \t]*\n/, "");
}

export interface ArchxKernel {
  name: string;
  /** index into Executable.modules */
  module: number;
  entryPoint: string;
  /** what is bound at @binding(0..): a value's slot, or a pool range; with the kernel's use of it */
  bindings: ArchxBinding[];
  workgroups: [number, number, number];
  /** ops computed, anchor first ("matmul", "gelu") */
  ops: string[];
}

export interface ArchxValue {
  id: number;
  dtype: DType;
  shape: number[];
  pool: number;
  offset: number;
  size: number;
  /** where it came from: a parameter or input name, or "<scope> <op>" */
  label: string;
  /**
   * set when the value is a view: its bytes are a window of value `viewOf`'s bytes (a slice of a
   * packed gradient, a reshape), written when that value is, and it is only ever read
   */
  viewOf?: number;
}

/** a trained parameter, as the compiler declares it and the runtime initialises and saves it */
export interface Param {
  name: string; // dotted path, e.g. "layers.3.attn.wq"; stable across variants that share it
  shape: number[];
  init: Init;
  /** AdamW weight decay applies (false for norms, biases, pseudo-queries, AttnRes gains) */
  decay: boolean;
  /** component for `archc inspect`: "embedding", "attention", "mlp", "norm", "attnres", "head", "position" */
  group: string;
}

export interface ArchxParam extends Param {
  /** the value whose bytes hold it */
  value: number;
}

/** elements of a tensor of this shape (1 for a scalar) */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export interface ArchxIo {
  name: string;
  dtype: DType;
  shape: number[];
  value: number;
}

export interface ArchxCache {
  input: string;
  present: string;
}

/** "grad" holds the gradients `grad.<param>` laid out exactly like the "param" pool, so one
 * optimizer kernel can walk both as flat arrays. */
export type PoolUsage = "param" | "input" | "output" | "scratch" | "grad";

export interface Executable {
  format: typeof ARCHX_FORMAT;
  version: number;
  model: string;
  batch: number | null;
  seq: number | null;
  vocab: number | null;
  fused: boolean;
  modules: string[];
  kernels: ArchxKernel[];
  pools: { size: number; usage: PoolUsage }[];
  values: ArchxValue[];
  params: ArchxParam[];
  inputs: ArchxIo[];
  outputs: ArchxIo[];
  /**
   * set for a decoding step (one position at a time): after each run, the runtime writes output
   * `present` ([B,1,W], this position's key or value) into row `position` of input `input`
   * ([context,B,W]), where `position` is what input "position" held for the run. The caches are
   * inputs that the runtime keeps between runs rather than uploading.
   */
  caches?: ArchxCache[];
  /** what a device must allow; checked before any allocation */
  requirements: {
    storageBuffersPerKernel: number;
    largestBinding: { bytes: number; label: string };
    largestPool: { bytes: number; usage: string };
    workgroupStorageBytes: number;
  };
}

/** A damaged, foreign or inconsistent .archx file: a DamagedFileError naming it. */
export class ArchxError extends DamagedFileError {
  constructor(path: string, what: string, hint = RECOMPILE) {
    super(path, what, hint);
    this.name = "ArchxError";
  }
}

const RECOMPILE = "the executable is damaged: compile it again with archc compile";

export function writeExecutable(path: string, exe: Executable): void {
  writeOutputFile(path, JSON.stringify(exe, null, 1) + "\n");
}

const DTYPES: readonly string[] = ["f32", "i32"];
const USAGES: readonly string[] = ["param", "input", "output", "scratch", "grad"];
const INIT_KINDS: readonly string[] = ["normal", "zeros", "ones", "values"];
/** WebGPU's largest allowed minStorageBufferOffsetAlignment: every value offset is a multiple */
export const VALUE_ALIGNMENT = 256;
/** WebGPU's maxComputeWorkgroupsPerDimension */
const MAX_WORKGROUPS = 65535;

function isShape(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((d) => isWholeNumber(d, 1));
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * The values a pooled kernel's module says it touches in one pool: its binding declarations end in
 * a comment listing `name %<value> at <element offset>` (compiler/codegen/pooled.ts). Undefined
 * when the module has no such list for that binding.
 */
function pooledMembers(wgsl: string, binding: number): { id: number; at: number }[] | undefined {
  const line = new RegExp(`@binding\\(${binding}\\)[^\\n]*_pool\\s*:[^\\n]*//([^\\n]*)`).exec(wgsl);
  if (!line) return undefined;
  return [...line[1].matchAll(/%(\d+) at (\d+)/g)].map((m) => ({ id: Number(m[1]), at: Number(m[2]) }));
}

/**
 * Checks a parsed executable against the format (docs/archx.md) before anything reaches a device:
 * every field's type and range; references between kernels, modules, values and pools; value byte
 * ranges inside their pools and, outside the scratch pool, disjoint; scratch values sharing bytes
 * only when their lifetimes (first to last kernel that binds them) do not overlap; every value a
 * kernel reads written by an earlier kernel or a parameter or input; every output written; and
 * the recorded requirements matching the plan. Throws ArchxError naming `source`.
 */
export function validateExecutable(data: unknown, source: string): Executable {
  const fail = (what: string, hint?: string): never => {
    throw new ArchxError(source, what, hint);
  };
  const expect = (ok: boolean, where: string, value: unknown, expected: string): void => {
    if (!ok) fail(`${where} is ${show(value)}, expected ${expected}`);
  };
  if (!isObject(data))
    return fail(
      `holds ${show(data)}, not an archx executable (a JSON object)`,
      "give a .archx file from archc compile",
    );
  const exe = data;
  if (exe.format !== ARCHX_FORMAT)
    fail(`is not an archx executable (format ${show(exe.format)})`, "give a .archx file from archc compile");
  if (exe.version !== ARCHX_VERSION)
    fail(
      `has archx version ${show(exe.version)}; this runtime reads version ${ARCHX_VERSION}`,
      "recompile it",
    );
  for (const key of ["modules", "kernels", "pools", "values", "params", "inputs", "outputs"] as const)
    if (!Array.isArray(exe[key]))
      fail(`field '${key}' is ${exe[key] === undefined ? "missing" : `${show(exe[key])}, not a list`}`);
  if ((exe.outputs as unknown[]).length === 0) fail("lists no outputs");
  expect(typeof exe.model === "string", "model", exe.model, "a string");
  for (const key of ["batch", "seq", "vocab"] as const)
    expect(exe[key] === null || isWholeNumber(exe[key], 1), key, exe[key], "null or a whole number >= 1");
  expect(typeof exe.fused === "boolean", "fused", exe.fused, "true or false");

  const modules = exe.modules as unknown[];
  modules.forEach((m, i) =>
    expect(typeof m === "string" && m.length > 0, `modules[${i}]`, m, "WGSL source text"),
  );

  const pools = exe.pools as unknown[];
  const usages = new Set<string>();
  pools.forEach((p, i) => {
    expect(isObject(p), `pools[${i}]`, p, "{size, usage}");
    const pool = p as Record<string, unknown>;
    expect(isWholeNumber(pool.size), `pools[${i}].size`, pool.size, "a whole number of bytes");
    expect(
      typeof pool.usage === "string" && USAGES.includes(pool.usage),
      `pools[${i}].usage`,
      pool.usage,
      USAGES.join(", "),
    );
    if (usages.has(pool.usage as string)) fail(`pools[${i}] is a second "${String(pool.usage)}" pool`);
    usages.add(pool.usage as string);
  });
  const poolList = pools as { size: number; usage: PoolUsage }[];

  const values = new Map<number, ArchxValue>();
  (exe.values as unknown[]).forEach((v, i) => {
    const w = `values[${i}]`;
    expect(isObject(v), w, v, "{id, dtype, shape, pool, offset, size, label}");
    const value = v as Record<string, unknown>;
    expect(isWholeNumber(value.id), `${w}.id`, value.id, "a whole number");
    if (values.has(value.id as number)) fail(`${w}.id ${String(value.id)} is given to two values`);
    expect(
      typeof value.dtype === "string" && DTYPES.includes(value.dtype),
      `${w}.dtype`,
      value.dtype,
      DTYPES.join(" or "),
    );
    expect(isShape(value.shape), `${w}.shape`, value.shape, "a list of whole numbers >= 1");
    expect(
      isWholeNumber(value.pool) && (value.pool as number) < pools.length,
      `${w}.pool`,
      value.pool,
      `a pool index below ${pools.length}`,
    );
    expect(
      isWholeNumber(value.offset) && (value.offset as number) % VALUE_ALIGNMENT === 0,
      `${w}.offset`,
      value.offset,
      `a whole number of bytes, a multiple of ${VALUE_ALIGNMENT}`,
    );
    const bytes =
      4 *
      Math.max(
        1,
        (value.shape as number[]).reduce((n, d) => n * d, 1),
      );
    expect(
      value.size === bytes,
      `${w}.size`,
      value.size,
      `${bytes} (4 bytes per element of [${String(value.shape)}])`,
    );
    expect(typeof value.label === "string", `${w}.label`, value.label, "a string");
    const pool = poolList[value.pool as number];
    if ((value.offset as number) + bytes > pool.size)
      fail(
        `${w} (${String(value.label)}) at bytes [${String(value.offset)}, ${(value.offset as number) + bytes}) lies outside pool ${String(value.pool)} of ${pool.size} bytes`,
      );
    values.set(value.id as number, value as unknown as ArchxValue);
  });
  const valueRef = (where: string, id: unknown): ArchxValue => {
    expect(isWholeNumber(id) && values.has(id as number), where, id, "the id of a value in 'values'");
    return values.get(id as number)!;
  };
  // views: windows of another value's bytes, in the same pool; they own no bytes of their own
  (exe.values as ArchxValue[]).forEach((view, i) => {
    if (!("viewOf" in view)) return;
    const w = `values[${i}] (${view.label})`;
    const base = valueRef(`${w}.viewOf`, view.viewOf);
    if (base.viewOf !== undefined) fail(`${w} is a view of value ${base.id}, which is itself a view`);
    if (base.dtype !== view.dtype) fail(`${w} is ${view.dtype} but a view of ${base.dtype} value ${base.id}`);
    const io = [...(exe.params as ArchxParam[]), ...(exe.inputs as ArchxIo[]), ...(exe.outputs as ArchxIo[])];
    if (io.some((entry) => isObject(entry) && entry.value === view.id))
      fail(`${w} is a view, but a parameter, input or output needs bytes of its own`);
    if (
      base.pool !== view.pool ||
      view.offset < base.offset ||
      view.offset + view.size > base.offset + base.size
    )
      fail(`${w} is a view of value ${base.id} (${base.label}) but its bytes lie outside that value's`);
  });
  /** the value that owns a value's bytes: itself, or the base of a view */
  const owner = (id: number): number => values.get(id)!.viewOf ?? id;

  const defined = new Set<number>();
  const paramNames = new Set<string>();
  (exe.params as unknown[]).forEach((p, i) => {
    const w = `params[${i}]`;
    expect(isObject(p), w, p, "{name, shape, init, decay, group, value}");
    const param = p as Record<string, unknown>;
    expect(
      typeof param.name === "string" && param.name.length > 0,
      `${w}.name`,
      param.name,
      "a parameter name",
    );
    if (paramNames.has(param.name as string)) fail(`${w}: parameter "${String(param.name)}" is listed twice`);
    paramNames.add(param.name as string);
    expect(isShape(param.shape), `${w}.shape`, param.shape, "a list of whole numbers >= 1");
    expect(isObject(param.init), `${w}.init`, param.init, "{kind, std?}");
    const init = param.init as Record<string, unknown>;
    expect(
      typeof init.kind === "string" && INIT_KINDS.includes(init.kind),
      `${w}.init.kind`,
      init.kind,
      INIT_KINDS.join(", "),
    );
    if (init.kind === "normal")
      expect(
        typeof init.std === "number" && Number.isFinite(init.std) && init.std >= 0,
        `${w}.init.std`,
        init.std,
        "a finite number >= 0",
      );
    if (init.kind === "values")
      expect(
        Array.isArray(init.values) &&
          isShape(param.shape) &&
          init.values.length === param.shape.reduce((n: number, d: number) => n * d, 1) &&
          init.values.every((v) => typeof v === "number" && Number.isFinite(v)),
        `${w}.init.values`,
        Array.isArray(init.values) ? `${init.values.length} values` : init.values,
        "one finite number per element of the parameter",
      );
    expect(typeof param.decay === "boolean", `${w}.decay`, param.decay, "true or false");
    expect(typeof param.group === "string", `${w}.group`, param.group, "a string");
    const value = valueRef(`${w}.value`, param.value);
    if (poolList[value.pool].usage !== "param")
      fail(
        `${w} (${String(param.name)}) lives in the ${poolList[value.pool].usage} pool, not the param pool`,
      );
    if (value.dtype !== "f32" || !sameShape(value.shape, param.shape as number[]))
      fail(
        `${w} (${String(param.name)}) has shape [${String(param.shape)}] but its value is ${value.dtype}[${value.shape.join(",")}]`,
      );
    defined.add(value.id);
  });
  for (const key of ["inputs", "outputs"] as const) {
    const names = new Set<string>();
    (exe[key] as unknown[]).forEach((io, i) => {
      const w = `${key}[${i}]`;
      expect(isObject(io), w, io, "{name, dtype, shape, value}");
      const entry = io as Record<string, unknown>;
      expect(typeof entry.name === "string" && entry.name.length > 0, `${w}.name`, entry.name, "a name");
      if (names.has(entry.name as string)) fail(`${w}: "${String(entry.name)}" is listed twice`);
      names.add(entry.name as string);
      expect(
        typeof entry.dtype === "string" && DTYPES.includes(entry.dtype),
        `${w}.dtype`,
        entry.dtype,
        DTYPES.join(" or "),
      );
      expect(isShape(entry.shape), `${w}.shape`, entry.shape, "a list of whole numbers >= 1");
      const value = valueRef(`${w}.value`, entry.value);
      if (value.dtype !== entry.dtype || !sameShape(value.shape, entry.shape as number[]))
        fail(
          `${w} (${String(entry.name)}) is ${String(entry.dtype)}[${String(entry.shape)}] but its value is ${value.dtype}[${value.shape.join(",")}]`,
        );
      if (key === "inputs") {
        if (poolList[value.pool].usage !== "input")
          fail(
            `${w} (${String(entry.name)}) lives in the ${poolList[value.pool].usage} pool, not the input pool`,
          );
        defined.add(value.id);
      }
    });
  }

  if (exe.caches !== undefined)
    validateCaches(exe.caches, exe.inputs as ArchxIo[], exe.outputs as ArchxIo[], fail);

  // byte ranges: values outside the scratch pool never share bytes
  const byPool = new Map<number, ArchxValue[]>();
  for (const value of values.values())
    if (value.viewOf === undefined) byPool.set(value.pool, [...(byPool.get(value.pool) ?? []), value]);

  // kernels, in dispatch order: references, workgroups, and which values each one touches
  const touched: { reads: number[]; writes: number[]; pools: number[] }[] = [];
  let pooledUnknown = false;
  let mostBindings = 0;
  (exe.kernels as unknown[]).forEach((k, i) => {
    const w = `kernels[${i}]`;
    expect(isObject(k), w, k, "{name, module, entryPoint, bindings, workgroups, ops}");
    const kernel = k as Record<string, unknown>;
    expect(typeof kernel.name === "string", `${w}.name`, kernel.name, "a string");
    const kw = `${w} (${String(kernel.name)})`;
    expect(
      isWholeNumber(kernel.module) && (kernel.module as number) < modules.length,
      `${kw}.module`,
      kernel.module,
      `a module index below ${modules.length}`,
    );
    expect(
      typeof kernel.entryPoint === "string" && /^[A-Za-z_][A-Za-z0-9_]*$/.test(kernel.entryPoint),
      `${kw}.entryPoint`,
      kernel.entryPoint,
      "a WGSL function name",
    );
    const wgsl = modules[kernel.module as number] as string;
    if (!new RegExp(`\\bfn\\s+${kernel.entryPoint as string}\\s*\\(`).test(wgsl))
      fail(`${kw}: module ${String(kernel.module)} has no function ${String(kernel.entryPoint)}`);
    expect(
      Array.isArray(kernel.workgroups) &&
        kernel.workgroups.length === 3 &&
        kernel.workgroups.every((n) => isWholeNumber(n, 1) && n <= MAX_WORKGROUPS),
      `${kw}.workgroups`,
      kernel.workgroups,
      `three whole numbers in [1, ${MAX_WORKGROUPS}]`,
    );
    expect(
      Array.isArray(kernel.ops) && kernel.ops.length > 0 && kernel.ops.every((o) => typeof o === "string"),
      `${kw}.ops`,
      kernel.ops,
      "a non-empty list of op names",
    );
    expect(
      Array.isArray(kernel.bindings) && kernel.bindings.length > 0,
      `${kw}.bindings`,
      kernel.bindings,
      "a non-empty list",
    );
    const bindings = kernel.bindings as unknown[];
    mostBindings = Math.max(mostBindings, bindings.length);
    const use = { reads: [] as number[], writes: [] as number[], pools: [] as number[] };
    const boundRanges: { pool: number; start: number; end: number; j: number }[] = [];
    bindings.forEach((b, j) => {
      const bw = `${kw}.bindings[${j}]`;
      expect(isObject(b), bw, b, "{value, access} or {pool, access}");
      const binding = b as Record<string, unknown>;
      const keys = Object.keys(binding).sort().join(",");
      if (keys === "access,value") {
        const value = valueRef(`${bw}.value`, binding.value);
        expect(
          binding.access === "read" || binding.access === "read_write",
          `${bw}.access`,
          binding.access,
          `"read" or "read_write"`,
        );
        // WebGPU rejects a dispatch whose writable bindings overlap (all are declared read_write)
        for (const other of boundRanges)
          if (
            other.pool === value.pool &&
            other.start < value.offset + value.size &&
            value.offset < other.end
          )
            fail(
              `${bw} (value ${value.id}) shares bytes with ${kw}.bindings[${other.j}] (bytes ${other.start}..${other.end} of pool ${value.pool})`,
            );
        boundRanges.push({ pool: value.pool, start: value.offset, end: value.offset + value.size, j });
        if (value.viewOf !== undefined && binding.access !== "read")
          fail(`${bw}: value ${value.id} is a view of value ${value.viewOf}, and a view is only read`);
        (binding.access === "read" ? use.reads : use.writes).push(owner(value.id));
      } else if (
        keys === "access,pool" ||
        keys === "access,offset,pool,size" ||
        keys === "access,offset,pool,size,values" ||
        keys === "access,offset,pool,size,stride,values"
      ) {
        expect(
          isWholeNumber(binding.pool) && (binding.pool as number) < pools.length,
          `${bw}.pool`,
          binding.pool,
          `a pool index below ${pools.length}`,
        );
        const pool = binding.pool as number;
        expect(binding.access === "read_write", `${bw}.access`, binding.access, `"read_write" (a pool)`);
        // the bound byte range: whole pool, or [offset, offset + size) inside it
        let start = 0;
        let end = poolList[pool].size;
        if (keys !== "access,pool") {
          expect(
            isWholeNumber(binding.offset) && (binding.offset as number) % VALUE_ALIGNMENT === 0,
            `${bw}.offset`,
            binding.offset,
            `a whole multiple of ${VALUE_ALIGNMENT}`,
          );
          start = binding.offset as number;
          expect(
            isWholeNumber(binding.size, 4) &&
              (binding.size as number) % 4 === 0 &&
              start + (binding.size as number) <= poolList[pool].size,
            `${bw}.size`,
            binding.size,
            `a whole multiple of 4 with offset + size within the pool (${poolList[pool].size} bytes)`,
          );
          end = start + (binding.size as number);
        }
        // WebGPU rejects a dispatch whose writable bindings overlap
        for (const other of boundRanges)
          if (other.pool === pool && other.start < end && start < other.end)
            fail(
              `${bw} overlaps ${kw}.bindings[${other.j}] (bytes ${other.start}..${other.end} of pool ${pool})`,
            );
        boundRanges.push({ pool, start, end, j });
        const listed = pooledMembers(wgsl, j);
        let members = listed;
        if (keys.includes("stride")) {
          // a stack: value k at offset + k * stride, the range exactly values.length strides long
          const stride = binding.stride as number;
          expect(
            isWholeNumber(stride, 1) && stride % VALUE_ALIGNMENT === 0,
            `${bw}.stride`,
            binding.stride,
            `a positive multiple of ${VALUE_ALIGNMENT}`,
          );
          expect(
            Array.isArray(binding.values) &&
              binding.values.length > 0 &&
              binding.values.every((id) => isWholeNumber(id)) &&
              binding.values.length * stride === end - start,
            `${bw}.values`,
            binding.values,
            `a list of the stacked value ids, one per stride of the range (${(end - start) / stride})`,
          );
          // the module must read the stack at the stride the file says (it declares it as STRIDE)
          const declared = /const STRIDE: u32 = (\d+)u;/.exec(wgsl);
          if (!declared || Number(declared[1]) * 4 !== stride)
            fail(`${bw}: its module does not declare STRIDE = ${stride / 4} elements, the stack's stride`);
          members = (binding.values as number[]).map((id, k) => ({ id, at: (k * stride) / 4 }));
          for (const { id } of members)
            if (valueRef(`${bw}: a stacked value`, id).size > stride)
              fail(`${bw}: stacked value ${id} is wider than the stride ${stride}`);
        } else if (keys.endsWith("values")) {
          // the kernel's own values, at the element offsets its (possibly shared) module reads them
          expect(
            Array.isArray(binding.values) &&
              binding.values.every((id) => isWholeNumber(id)) &&
              listed !== undefined &&
              binding.values.length === listed.length,
            `${bw}.values`,
            binding.values,
            `a list of ${listed?.length ?? "the"} value ids its module's binding comment lists offsets for`,
          );
          members = (binding.values as number[]).map((id, k) => ({ id, at: listed![k].at }));
        }
        if (members === undefined) {
          use.pools.push(pool);
          if (poolList[pool].usage === "scratch") pooledUnknown = true;
        } else {
          for (const { id, at } of members) {
            const value = valueRef(`${bw}: a value its module lists`, id);
            if (value.pool !== pool)
              fail(`${bw}: its module lists value ${id}, which is not in pool ${String(pool)}`);
            if (value.offset < start || value.offset + value.size > end)
              fail(
                `${bw}: its module lists value ${id}, which lies outside the bound bytes ${start}..${end}`,
              );
            if (at !== (value.offset - start) / 4)
              fail(
                `${bw}: its module reads value ${id} at element ${at}, but the value starts at element ${(value.offset - start) / 4} of the bound range`,
              );
            // a stack's sources are only read; other ranges may hold what the kernel writes
            (keys.includes("stride") ? use.reads : use.writes).push(owner(id));
          }
        }
      } else
        fail(
          `${bw} is ${show(b)}, expected {value, access}, {pool, access}, {pool, access, offset, size, values} or {pool, access, offset, size, values, stride}`,
        );
    });
    touched.push(use);
  });

  // def before use: a kernel reads only what a parameter, an input or an earlier kernel wrote
  const kernels = exe.kernels as ArchxKernel[];
  touched.forEach((use, i) => {
    for (const id of use.reads)
      if (!defined.has(id) && !use.pools.includes(values.get(id)!.pool))
        fail(
          `kernels[${i}] (${kernels[i].name}) reads value ${id} (${values.get(id)!.label}) before any kernel writes it`,
        );
    for (const id of use.writes) defined.add(id);
    for (const pool of use.pools) for (const value of byPool.get(pool) ?? []) defined.add(value.id);
  });
  (exe.outputs as ArchxIo[]).forEach((output, i) => {
    if (!defined.has(output.value))
      fail(`outputs[${i}] (${output.name}): no kernel writes its value ${output.value}`);
  });

  // byte ranges: disjoint outside the scratch pool; in it, shared only by values whose lifetimes do not overlap
  const lifetimes = new Map<number, { first: number; last: number }>();
  touched.forEach((use, i) => {
    for (const id of [...use.reads, ...use.writes]) {
      const life = lifetimes.get(id);
      if (life) life.last = i;
      else lifetimes.set(id, { first: i, last: i });
    }
  });
  for (const [poolIndex, members] of byPool) {
    const scratch = poolList[poolIndex].usage === "scratch";
    if (scratch && pooledUnknown) continue;
    const sorted = [...members].sort((a, b) => a.offset - b.offset);
    for (let a = 0; a < sorted.length; a++) {
      for (let b = a + 1; b < sorted.length && sorted[b].offset < sorted[a].offset + sorted[a].size; b++) {
        const [x, y] = [sorted[a], sorted[b]];
        const lx = lifetimes.get(x.id);
        const ly = lifetimes.get(y.id);
        if (scratch && (!lx || !ly || lx.last < ly.first || ly.last < lx.first)) continue;
        fail(
          `values ${x.id} (${x.label}) and ${y.id} (${y.label}) share bytes of the ${poolList[poolIndex].usage} pool` +
            (scratch
              ? ` while both are in use (kernels ${Math.max(lx!.first, ly!.first)} to ${Math.min(lx!.last, ly!.last)})`
              : ""),
        );
      }
    }
  }

  // the requirements a device is checked against must be the plan's own
  expect(isObject(exe.requirements), "requirements", exe.requirements, "an object");
  const r = exe.requirements as Record<string, unknown>;
  expect(
    r.storageBuffersPerKernel === mostBindings,
    "requirements.storageBuffersPerKernel",
    r.storageBuffersPerKernel,
    `${mostBindings} (the most bindings of any kernel)`,
  );
  expect(
    isWholeNumber(r.workgroupStorageBytes),
    "requirements.workgroupStorageBytes",
    r.workgroupStorageBytes,
    "a whole number of bytes",
  );
  const largestValue = Math.max(0, ...[...values.values()].map((v) => v.size));
  const largestPool = Math.max(0, ...poolList.map((p) => p.size));
  const binding = r.largestBinding as Record<string, unknown> | undefined;
  expect(
    isObject(binding) && binding.bytes === largestValue && typeof binding.label === "string",
    "requirements.largestBinding",
    binding,
    `{bytes: ${largestValue}, label}`,
  );
  const pool = r.largestPool as Record<string, unknown> | undefined;
  expect(
    isObject(pool) && pool.bytes === largestPool && typeof pool.usage === "string",
    "requirements.largestPool",
    pool,
    `{bytes: ${largestPool}, usage}`,
  );
  return exe as unknown as Executable;
}

export function parseExecutable(text: string, source = "executable"): Executable {
  return validateExecutable(parseJsonStrict(source, text, "file", RECOMPILE), source);
}

export function loadExecutable(path: string): Executable {
  const bytes = readUserFile(path, "give a .archx file from archc compile");
  return parseExecutable(decodeUtf8(path, bytes), path);
}

/** a decoding step's caches: each a [context,B,W] input paired with a [B,1,W] output, position input present */
function validateCaches(
  caches: unknown,
  inputs: ArchxIo[],
  outputs: ArchxIo[],
  fail: (what: string) => never,
): void {
  if (!Array.isArray(caches)) fail(`has caches ${show(caches)}, expected a list of {input, present}`);
  const position = inputs.find((io) => io.name === "position");
  if (caches.length > 0 && !(position && position.dtype === "i32" && sameShape(position.shape, [1])))
    fail('lists caches but no input "position" of type i32[1]');
  const used = new Set<string>();
  caches.forEach((entry: unknown, i) => {
    const w = `caches[${i}]`;
    if (!isObject(entry) || typeof entry.input !== "string" || typeof entry.present !== "string")
      fail(`${w} is ${show(entry)}, expected {input, present} naming an input and an output`);
    const cache = inputs.find((io) => io.name === entry.input);
    const present = outputs.find((io) => io.name === entry.present);
    if (!cache) fail(`${w}.input "${entry.input}" is not an input`);
    if (!present) fail(`${w}.present "${entry.present}" is not an output`);
    if (used.has(cache.name)) fail(`${w}: input "${cache.name}" is a cache twice`);
    used.add(cache.name);
    const [context, batch, width] = cache.shape;
    if (
      cache.dtype !== "f32" ||
      present.dtype !== "f32" ||
      cache.shape.length !== 3 ||
      !sameShape(present.shape, [batch, 1, width]) ||
      context < 1
    )
      fail(
        `${w}: cache "${cache.name}" is ${cache.dtype}[${cache.shape.join(",")}] and its present "${present.name}" ` +
          `${present.dtype}[${present.shape.join(",")}]; expected f32[context,B,W] and f32[B,1,W]`,
      );
  });
}
