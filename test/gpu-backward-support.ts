// A minimal device harness for testing kernel templates and the optimizer kernels in isolation:
// binds each operand as its own storage buffer, runs one dispatch, reads the result back.
// Fails loudly (never skips) when no real WebGPU adapter is available.

import type { Graph, Node } from "../compiler/ir/ir.js";
import type { KernelTemplate } from "../compiler/codegen/template.js";
import type { Tensor } from "../compiler/reference/tensor.js";
import { openRealDevice } from "./gpu-harness.js";

/** a device on a real adapter (hardware or software Vulkan); throws, never skips, when there is none */
export async function requireDevice(): Promise<GPUDevice> {
  return (await openRealDevice()).device;
}

export interface BoundArray {
  wgslType: "f32" | "i32" | "u32";
  data: Float32Array | Int32Array | Uint32Array;
  access: "read" | "read_write";
}

/** runs `code` (which declares no bindings) with `arrays` bound in order; returns every array's final contents */
export async function dispatch(
  device: GPUDevice,
  bindingNames: string[],
  arrays: BoundArray[],
  code: string,
  workgroups: [number, number, number],
): Promise<(Float32Array | Int32Array | Uint32Array)[]> {
  const header = arrays
    .map(
      (a, i) =>
        `@group(0) @binding(${i}) var<storage, ${a.access}> ${bindingNames[i]}: array<${a.wgslType}>;`,
    )
    .join("\n");
  device.pushErrorScope("validation");
  const module = device.createShaderModule({ code: `${header}\n\n${code}` });
  const pipeline = device.createComputePipeline({ layout: "auto", compute: { module, entryPoint: "main" } });
  const buffers = arrays.map((a) => {
    const buffer = device.createBuffer({
      size: Math.max(16, Math.ceil(a.data.byteLength / 16) * 16),
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
    device.queue.writeBuffer(buffer, 0, a.data);
    return buffer;
  });
  const bindGroup = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
  });
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bindGroup);
  pass.dispatchWorkgroups(...workgroups);
  pass.end();
  const staging = buffers.map((b) => {
    const s = device.createBuffer({ size: b.size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    encoder.copyBufferToBuffer(b, 0, s, 0, b.size);
    return s;
  });
  device.queue.submit([encoder.finish()]);
  const error = await device.popErrorScope();
  if (error) throw new Error(`WebGPU validation: ${error.message}`);
  const results = await Promise.all(
    staging.map(async (s, i) => {
      await s.mapAsync(GPUMapMode.READ);
      const bytes = s.getMappedRange().slice(0, arrays[i].data.byteLength);
      s.unmap();
      s.destroy();
      const Ctor = arrays[i].data.constructor as new (
        b: ArrayBuffer,
      ) => Float32Array | Int32Array | Uint32Array;
      return new Ctor(bytes);
    }),
  );
  buffers.forEach((b) => b.destroy());
  return results;
}

/** renders `template` for `node` (no fused epilogue) and runs it on `inputs`; returns the result */
export async function runTemplate(
  device: GPUDevice,
  template: KernelTemplate,
  graph: Graph,
  node: Node,
  inputs: Tensor[],
): Promise<Float32Array> {
  const names = [...template.operandNames(node).map((n, i) => `${n}_${i}`), "result"];
  const { code, workgroups } = template.render({
    graph,
    node,
    operand: (i) => names[i],
    output: "result",
    finish: (_index, value) => `(${value})`,
  });
  const arrays: BoundArray[] = inputs.map((t) => ({
    wgslType: t.type.dtype,
    data: t.type.dtype === "i32" ? Int32Array.from(t.data) : Float32Array.from(t.data),
    access: "read",
  }));
  const count = node.type.shape.reduce((a, b) => a * b, 1);
  arrays.push({ wgslType: "f32", data: new Float32Array(count).fill(Number.NaN), access: "read_write" });
  const results = await dispatch(device, names, arrays, code, workgroups);
  return results[results.length - 1] as Float32Array;
}

/** max over elements of |got - want|, relative to the largest |want| (NaN or a length mismatch: Infinity) */
export function relativeError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  if (got.length !== want.length) return Infinity;
  let scale = 1e-12;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]));
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]) / scale;
    if (Number.isNaN(err)) return Infinity;
    worst = Math.max(worst, err);
  }
  return worst;
}
