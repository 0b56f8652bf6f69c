// Runs an executable on a device: pools allocated once, one pipeline per distinct WGSL module,
// bind groups built once, and each run encoded into a single command buffer and submission. Only
// the outputs asked for are read back.

import type { ArchxValue, Executable } from "./archx.js";
import { allocatePools } from "./buffers.js";

export type HostArray = Float32Array | Int32Array;

export class ExecutorError extends Error {}

// Compiling a pipeline is the slow part of start-up (about a second each on a software driver), so
// executors on one device share pipelines. The key is the WGSL without comments: kernels of
// different layers differ only in the comments naming their scope and values.
const pipelineCache = new WeakMap<GPUDevice, Map<string, GPUComputePipeline>>();

export function pipelineKey(wgsl: string): string {
  return wgsl
    .split("\n")
    .map((line) => line.replace(/\s*\/\/.*$/, ""))
    .filter((line) => line.trim().length > 0)
    .join("\n");
}

function cachedPipelines(device: GPUDevice): Map<string, GPUComputePipeline> {
  let cache = pipelineCache.get(device);
  if (!cache) {
    cache = new Map();
    pipelineCache.set(device, cache);
  }
  return cache;
}

export class Executor {
  private readonly valueById: Map<number, ArchxValue>;
  private readonly pipelines: GPUComputePipeline[] = [];
  private readonly bindGroups: GPUBindGroup[] = [];

  private constructor(
    readonly device: GPUDevice,
    readonly exe: Executable,
    private readonly pools: GPUBuffer[],
  ) {
    this.valueById = new Map(exe.values.map((v) => [v.id, v]));
  }

  /** checks limits, allocates, and compiles every pipeline; throws on WGSL or validation errors */
  static async create(device: GPUDevice, exe: Executable): Promise<Executor> {
    const pools = allocatePools(device, exe);
    const executor = new Executor(device, exe, pools);
    await executor.buildPipelines();
    return executor;
  }

  get kernelCount(): number {
    return this.exe.kernels.length;
  }

  private slot(id: number): ArchxValue {
    const value = this.valueById.get(id);
    if (!value) throw new ExecutorError(`value %${id} has no buffer slot in the executable`);
    return value;
  }

  private async buildPipelines(): Promise<void> {
    const device = this.device;
    device.pushErrorScope("validation");
    const cache = cachedPipelines(device);
    for (const kernel of this.exe.kernels) {
      const code = this.exe.modules[kernel.module];
      const key = pipelineKey(code);
      let pipeline = cache.get(key);
      if (!pipeline) {
        const module = device.createShaderModule({ label: kernel.name, code });
        const info = await module.getCompilationInfo();
        const errors = info.messages.filter((m) => m.type === "error");
        if (errors.length > 0)
          throw new ExecutorError(
            `WGSL for kernel ${kernel.name} does not compile:\n${errors.map((e) => `  line ${e.lineNum}: ${e.message}`).join("\n")}`,
          );
        pipeline = device.createComputePipeline({
          label: kernel.name,
          layout: "auto",
          compute: { module, entryPoint: kernel.entryPoint },
        });
        cache.set(key, pipeline);
      }
      this.pipelines.push(pipeline);
      this.bindGroups.push(
        device.createBindGroup({
          label: kernel.name,
          layout: pipeline.getBindGroupLayout(0),
          entries: kernel.bindings.map((binding, i) => {
            const value = this.slot(binding.value);
            return {
              binding: i,
              resource: { buffer: this.pools[value.pool], offset: value.offset, size: value.size },
            };
          }),
        }),
      );
    }
    const error = await device.popErrorScope();
    if (error) throw new ExecutorError(`the device rejected the executable: ${error.message}`);
  }

  /** number of distinct pipelines (one per distinct WGSL module) */
  get pipelineCount(): number {
    return new Set(this.pipelines).size;
  }

  setParams(values: Map<string, Float32Array>): void {
    for (const param of this.exe.params) {
      const data = values.get(param.name);
      if (!data) throw new ExecutorError(`no value for parameter ${param.name}`);
      this.write(param.value, data, `parameter ${param.name}`);
    }
  }

  private write(id: number, data: HostArray, what: string): void {
    const value = this.slot(id);
    if (data.byteLength !== value.size)
      throw new ExecutorError(`${what}: ${data.byteLength} bytes given, ${value.size} expected`);
    this.device.queue.writeBuffer(
      this.pools[value.pool],
      value.offset,
      data.buffer,
      data.byteOffset,
      data.byteLength,
    );
  }

  /** runs the whole program once; returns the named outputs, read back after one submission */
  async run(feeds: Record<string, HostArray>, outputs: string[]): Promise<Record<string, HostArray>> {
    for (const input of this.exe.inputs) {
      const data = feeds[input.name];
      if (!data) throw new ExecutorError(`no feed for input ${input.name}`);
      if ((input.dtype === "i32") !== data instanceof Int32Array)
        throw new ExecutorError(`input ${input.name} must be ${input.dtype}`);
      this.write(input.value, data, `input ${input.name}`);
    }
    const wanted = outputs.map((name) => {
      const io = this.exe.outputs.find((o) => o.name === name);
      if (!io)
        throw new ExecutorError(
          `the executable has no output '${name}' (it has ${this.exe.outputs.map((o) => o.name).join(", ")})`,
        );
      return io;
    });

    const encoder = this.device.createCommandEncoder({ label: this.exe.model });
    const pass = encoder.beginComputePass();
    this.exe.kernels.forEach((kernel, i) => {
      pass.setPipeline(this.pipelines[i]);
      pass.setBindGroup(0, this.bindGroups[i]);
      pass.dispatchWorkgroups(...kernel.workgroups);
    });
    pass.end();
    const staging = wanted.map((io) => {
      const value = this.slot(io.value);
      const buffer = this.device.createBuffer({
        size: value.size,
        usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      });
      encoder.copyBufferToBuffer(this.pools[value.pool], value.offset, buffer, 0, value.size);
      return buffer;
    });
    this.device.queue.submit([encoder.finish()]);

    const result: Record<string, HostArray> = {};
    for (const [i, io] of wanted.entries()) {
      await staging[i].mapAsync(GPUMapMode.READ);
      const bytes = staging[i].getMappedRange().slice(0);
      staging[i].unmap();
      staging[i].destroy();
      result[io.name] = io.dtype === "i32" ? new Int32Array(bytes) : new Float32Array(bytes);
    }
    return result;
  }

  /** encodes `times` forward passes (no uploads, no readback) into one submission and waits: for timing */
  async runRepeated(times: number): Promise<void> {
    const encoder = this.device.createCommandEncoder({ label: `${this.exe.model} x${times}` });
    const pass = encoder.beginComputePass();
    for (let r = 0; r < times; r++)
      this.exe.kernels.forEach((kernel, i) => {
        pass.setPipeline(this.pipelines[i]);
        pass.setBindGroup(0, this.bindGroups[i]);
        pass.dispatchWorkgroups(...kernel.workgroups);
      });
    pass.end();
    this.device.queue.submit([encoder.finish()]);
    await this.device.queue.onSubmittedWorkDone();
  }

  /** waits for all submitted work; for timing */
  async finish(): Promise<void> {
    await this.device.queue.onSubmittedWorkDone();
  }

  destroy(): void {
    for (const pool of this.pools) pool.destroy();
  }
}
