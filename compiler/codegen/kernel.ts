// What code generation hands to the runtime: WGSL compute kernels over planned buffers.
// A kernel reads and writes IR values; the buffer plan says where each value lives.

import type { ArchxBinding, PoolUsage } from "../../format/archx.js";

/**
 * What is bound at @group(0) @binding(i), i = index in Kernel.bindings: one IR value's slot, or
 * (for kernels that touch more values than MAX_VALUE_BINDINGS) a byte range of a pool, indexed by offset.
 * `access` says how the kernel uses it; every binding is declared read_write in WGSL (see render.ts).
 */
export type KernelBinding = ArchxBinding;

export interface Kernel {
  /** readable and unique within a program, e.g. "layers.2.mlp.matmul_gelu" */
  name: string;
  wgsl: string;
  entryPoint: string;
  bindings: KernelBinding[];
  workgroups: [number, number, number];
  /** the IR nodes this kernel computes (more than one when fused) */
  nodes: number[];
  /** the ops of those nodes, anchor first */
  ops: string[];
  /** the variant of the anchor's template it was rendered with, when the template has variants */
  variant?: string;
}

/** Where one IR value lives on the device: a byte range of one pooled buffer. */
export interface BufferSlot {
  value: number;
  pool: number; // index into BufferPlan.pools
  offset: number; // bytes, aligned to the device's minStorageBufferOffsetAlignment
  size: number; // bytes
  /** set when the value is a view (passes/views.ts): its bytes lie inside this value's */
  viewOf?: number;
}

export interface BufferPlan {
  pools: { size: number; usage: PoolUsage }[];
  slots: BufferSlot[];
}
