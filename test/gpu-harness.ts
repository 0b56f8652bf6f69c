// Shared by the GPU tests: a real device (never the null backend), seeded random tensors, running
// a graph through the compiler and executor, and the error measure the tests assert on.

import { expect } from "vitest";
import type { Graph } from "../compiler/ir/ir.js";
import { numel } from "../compiler/ir/ir.js";
import { compileGraph } from "../compiler/compile.js";
import type { GpuContext } from "../runtime/device.js";
import { isNullBackend, openDevice } from "../runtime/device.js";
import { Executor } from "../runtime/executor.js";
import type { HostArray } from "../runtime/executor.js";
import type { Tensor } from "../compiler/reference/tensor.js";
import { GraphBuilder } from "../compiler/ir/builder.js";
import { interpret } from "../compiler/reference/interpreter.js";
import { relativeError as sharedRelativeError, seededValues } from "../compiler/reference/compare.js";

export { seededValues };
import type { TuningTable } from "../format/tuning.js";

/** opens the device and fails (never skips) unless a real adapter that executes shaders is there */
export async function openRealDevice(): Promise<GpuContext> {
  const gpu = await openDevice();
  expect(gpu.device).toBeTruthy();
  expect(isNullBackend(gpu.adapter.info)).toBe(false);
  expect(gpu.description.name.length).toBeGreaterThan(0);
  return gpu;
}

export function seededInts(n: number, seed: number, below: number): Int32Array {
  const u = seededValues(n, seed, 0.5);
  return Int32Array.from(u, (x) => Math.min(below - 1, Math.floor((x + 0.5) * below)));
}

export function toTensor(shape: number[], values: HostArray): Tensor {
  return values instanceof Int32Array
    ? { type: { dtype: "i32", shape }, data: Int32Array.from(values) }
    : { type: { dtype: "f32", shape }, data: Float64Array.from(values) };
}

/** the error the tests bound (compiler/reference/compare.ts), after checking the lengths agree */
export function relativeError(gpu: ArrayLike<number>, reference: ArrayLike<number>): number {
  expect(gpu.length).toBe(reference.length);
  return sharedRelativeError(gpu, reference);
}

/** compiles and runs `graph` once on the device; returns the requested outputs */
export async function runOnGpu(
  gpu: GpuContext,
  graph: Graph,
  feeds: Record<string, HostArray>,
  params: Map<string, Float32Array>,
  options: { fuse?: boolean; outputs?: string[]; tuning?: TuningTable } = {},
): Promise<{ outputs: Record<string, HostArray>; kernels: number }> {
  const exe = compileGraph(graph, { fuse: options.fuse, tuning: options.tuning });
  const executor = await Executor.create(gpu.device, exe);
  try {
    if (exe.params.length > 0) executor.setParams(params);
    const outputs = await executor.run(feeds, options.outputs ?? Object.keys(graph.outputs));
    return { outputs, kernels: executor.kernelCount };
  } finally {
    executor.destroy();
  }
}

export function elementCount(shape: number[]): number {
  return numel(shape);
}

/** the first `length` f32 values of a device buffer, through a staging copy */
export async function readF32(device: GPUDevice, buffer: GPUBuffer, length: number): Promise<Float32Array> {
  const staging = device.createBuffer({
    size: buffer.size,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  const encoder = device.createCommandEncoder();
  encoder.copyBufferToBuffer(buffer, 0, staging, 0, buffer.size);
  device.queue.submit([encoder.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const values = new Float32Array(staging.getMappedRange().slice(0, length * 4));
  staging.unmap();
  staging.destroy();
  return values;
}

/** an operand of a one-op check: random values of `shape`, or the given `values` */
export interface CheckOperand {
  shape: number[];
  dtype?: "f32" | "i32";
  /** for random i32 operands: values are drawn from [0, below) */
  below?: number;
  scale?: number;
  values?: number[];
}

let checkSeed = 1000;

/** one op applied to `operands` on the GPU and in the float64 reference; returns relativeError */
export async function checkOpOnGpu(
  gpu: GpuContext,
  op: string,
  operands: CheckOperand[],
  attrs: Record<string, number | boolean | string> = {},
  options: { fuse?: boolean } = {},
): Promise<number> {
  const b = new GraphBuilder(`test_${op}`);
  const feeds: Record<string, HostArray> = {};
  const refFeeds: Record<string, Tensor> = {};
  const ids = operands.map((operand, i) => {
    const name = `in${i}`;
    const dtype = operand.dtype ?? "f32";
    const n = numel(operand.shape);
    const data = operand.values
      ? dtype === "i32"
        ? Int32Array.from(operand.values)
        : Float32Array.from(operand.values)
      : dtype === "i32"
        ? seededInts(n, checkSeed++, operand.below ?? 4)
        : seededValues(n, checkSeed++, operand.scale ?? 1);
    feeds[name] = data;
    refFeeds[name] = toTensor(operand.shape, data);
    return b.input(name, dtype, operand.shape);
  });
  b.output(
    "out",
    b.scoped("probe", () => b.op(op, ids, attrs)),
  );
  const { outputs } = await runOnGpu(gpu, b.graph, feeds, new Map(), options);
  const reference = interpret(b.graph, refFeeds, new Map())[b.graph.outputs.out];
  return relativeError(outputs.out, reference.data);
}
