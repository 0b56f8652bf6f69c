// The executable format (.archx): a self-contained, versioned JSON plan that the runtime executes
// without the compiler. docs/archx.md describes every field.

import { readFileSync, writeFileSync } from "node:fs";
import type { DType, Init } from "../compiler/ir/ir.js";

export const ARCHX_FORMAT = "archx";
// 2: a binding may be a whole pool ({ pool }) instead of one value
export const ARCHX_VERSION = 2;

export type ArchxBinding =
  { value: number; access: "read" | "read_write" } | { pool: number; access: "read_write" };

export interface ArchxKernel {
  name: string;
  /** index into Executable.modules */
  module: number;
  entryPoint: string;
  /** what is bound at @binding(0..): a value's slot, or a whole pool; with the kernel's use of it */
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
}

export interface ArchxParam {
  name: string;
  shape: number[];
  init: Init;
  decay: boolean;
  group: string;
  value: number;
}

export interface ArchxIo {
  name: string;
  dtype: DType;
  shape: number[];
  value: number;
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
  /** what a device must allow; checked before any allocation */
  requirements: {
    storageBuffersPerKernel: number;
    largestBinding: { bytes: number; label: string };
    largestPool: { bytes: number; usage: string };
    workgroupStorageBytes: number;
  };
}

export class ArchxError extends Error {}

export function writeExecutable(path: string, exe: Executable): void {
  writeFileSync(path, JSON.stringify(exe, null, 1) + "\n");
}

export function parseExecutable(text: string, source = "executable"): Executable {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new ArchxError(`${source} is not JSON: ${(err as Error).message}`);
  }
  const exe = data as Partial<Executable>;
  if (exe.format !== ARCHX_FORMAT)
    throw new ArchxError(`${source} is not an archx executable (format ${String(exe.format)})`);
  if (exe.version !== ARCHX_VERSION)
    throw new ArchxError(
      `${source} has archx version ${String(exe.version)}; this runtime reads version ${ARCHX_VERSION}, recompile it`,
    );
  for (const key of ["modules", "kernels", "pools", "values", "params", "inputs", "outputs"] as const)
    if (!Array.isArray(exe[key])) throw new ArchxError(`${source}: field '${key}' is missing`);
  return exe as Executable;
}

export function loadExecutable(path: string): Executable {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new ArchxError(`cannot read ${path}: ${(err as Error).message}`);
  }
  return parseExecutable(text, path);
}
