// Runs an executable on a device: pools allocated once, one pipeline per distinct WGSL module,
// bind groups built once, and each run encoded into a single command buffer and submission. Only
// the outputs asked for are read back.

import type { ArchxIo, ArchxValue, Executable, PoolUsage } from "../format/archx.js";
import { moduleCode } from "../format/archx.js";
import { allocatePools, formatBytes } from "./buffers.js";
import { DeviceError, throwIfDeviceFailed, withErrorScopes } from "./device.js";

export type HostArray = Float32Array | Int32Array;

export class ExecutorError extends Error {}

// Compiling a pipeline is the slow part of start-up (about a second each on a software driver), so
// executors on one device share pipelines. The key is the WGSL without comments: kernels of
// different layers differ only in the comments naming their scope and values.
const pipelineCache = new WeakMap<GPUDevice, Map<string, GPUComputePipeline>>();

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
    private readonly shared: Set<GPUBuffer>,
  ) {
    this.valueById = new Map(exe.values.map((v) => [v.id, v]));
  }

  /**
   * checks limits, allocates, and compiles every pipeline; throws on WGSL or validation errors.
   * `shared` pools are used instead of allocating them: a forward-only executable can read the
   * parameters a training executable updates, when both plan the param pool alike.
   */
  static async create(
    device: GPUDevice,
    exe: Executable,
    shared: Partial<Record<PoolUsage, GPUBuffer>> = {},
  ): Promise<Executor> {
    for (const [usage, buffer] of Object.entries(shared)) {
      const pool = exe.pools.find((p) => p.usage === usage);
      if (pool && buffer.size < pool.size)
        throw new ExecutorError(`shared ${usage} pool has ${buffer.size} bytes; ${pool.size} needed`);
    }
    const bytes = exe.pools.reduce((n, p) => n + p.size, 0);
    const pools = await withErrorScopes(
      device,
      `allocating ${formatBytes(bytes)} of buffers for ${exe.model}`,
      () => allocatePools(device, exe, shared),
    );
    const executor = new Executor(device, exe, pools, new Set(Object.values(shared)));
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
    try {
      await this.buildEachPipeline();
    } catch (err) {
      await device.popErrorScope();
      throw err;
    }
    const error = await device.popErrorScope();
    if (error) throw new ExecutorError(`the device rejected the executable: ${error.message}`);
  }

  private async buildEachPipeline(): Promise<void> {
    const device = this.device;
    const cache = cachedPipelines(device);
    for (const kernel of this.exe.kernels) {
      const code = this.exe.modules[kernel.module];
      const key = moduleCode(code);
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
            if ("pool" in binding)
              return {
                binding: i,
                resource: { buffer: this.pools[binding.pool], offset: binding.offset, size: binding.size },
              };
            const value = this.slot(binding.value);
            return {
              binding: i,
              resource: { buffer: this.pools[value.pool], offset: value.offset, size: value.size },
            };
          }),
        }),
      );
    }
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

  /** uploads every input through the queue (but the caches, which the device keeps); the next submission sees them */
  writeInputs(feeds: Record<string, HostArray>): void {
    const caches = new Set((this.exe.caches ?? []).map((c) => c.input));
    for (const input of this.exe.inputs)
      if (!caches.has(input.name)) this.writeInput(input.name, feeds[input.name]);
  }

  /** uploads one input through the queue */
  writeInput(name: string, data: HostArray | undefined): void {
    const input = this.exe.inputs.find((io) => io.name === name);
    if (!input) throw new ExecutorError(`the executable has no input ${name}`);
    if (!data) throw new ExecutorError(`no feed for input ${name}`);
    if ((input.dtype === "i32") !== data instanceof Int32Array)
      throw new ExecutorError(`input ${name} must be ${input.dtype}`);
    this.write(input.value, data, `input ${name}`);
  }

  /**
   * records, after a decoding step's kernels, the writes of each present key and value into row
   * `position` of its cache (format/archx.ts `caches`): the next step reads them from there
   */
  encodeCacheWrites(encoder: GPUCommandEncoder, position: number): void {
    for (const { input, cache, row } of this.cacheSlots()) {
      const at = position * row.size;
      if (at + row.size > cache.size)
        throw new ExecutorError(`position ${position} is past the end of cache ${input}`);
      encoder.copyBufferToBuffer(
        this.pools[row.pool],
        row.offset,
        this.pools[cache.pool],
        cache.offset + at,
        row.size,
      );
    }
  }

  /** records zeroing every cache: a new sequence starts with nothing cached */
  encodeCacheClear(encoder: GPUCommandEncoder): void {
    for (const { cache } of this.cacheSlots())
      encoder.clearBuffer(this.pools[cache.pool], cache.offset, cache.size);
  }

  private cacheSlotList?: { input: string; cache: ArchxValue; row: ArchxValue }[];

  /** each cache's slot and its present's, looked up once (every decoded token uses them) */
  private cacheSlots(): { input: string; cache: ArchxValue; row: ArchxValue }[] {
    this.cacheSlotList ??= (this.exe.caches ?? []).map(({ input, present }) => {
      const io = this.exe.inputs.find((candidate) => candidate.name === input);
      if (!io) throw new ExecutorError(`cache ${input} is not an input of the executable`);
      return { input, cache: this.slot(io.value), row: this.slot(this.output(present).value) };
    });
    return this.cacheSlotList;
  }

  /** records one pass over every kernel into `encoder`, for callers that add work to the same submission */
  encode(encoder: GPUCommandEncoder): void {
    // an error the device reported since the last readback stops the work here, not at the next log line
    throwIfDeviceFailed(this.device, `running ${this.exe.model}`);
    const pass = encoder.beginComputePass({ label: this.exe.model });
    this.exe.kernels.forEach((kernel, i) => {
      pass.setPipeline(this.pipelines[i]);
      pass.setBindGroup(0, this.bindGroups[i]);
      pass.dispatchWorkgroups(...kernel.workgroups);
    });
    pass.end();
  }

  /** the GPU buffer behind a pool, for optimizers and readers that work on whole pools */
  pool(usage: PoolUsage): GPUBuffer {
    const index = this.exe.pools.findIndex((p) => p.usage === usage);
    if (index < 0) throw new ExecutorError(`the executable has no ${usage} pool`);
    return this.pools[index];
  }

  output(name: string): ArchxIo {
    const io = this.exe.outputs.find((o) => o.name === name);
    if (!io)
      throw new ExecutorError(
        `the executable has no output '${name}' (it has ${this.exe.outputs.map((o) => o.name).join(", ")})`,
      );
    return io;
  }

  /** records a copy of output `name` into `target` at byte `at` (default: a fresh mappable buffer); map it after submitting */
  copyOutput(encoder: GPUCommandEncoder, name: string, target?: GPUBuffer, at = 0): GPUBuffer {
    const value = this.slot(this.output(name).value);
    const buffer =
      target ??
      this.device.createBuffer({
        label: `read ${name}`,
        size: value.size,
        usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      });
    encoder.copyBufferToBuffer(this.pools[value.pool], value.offset, buffer, at, value.size);
    return buffer;
  }

  /** runs the whole program once; returns the named outputs, read back after one submission */
  async run(feeds: Record<string, HostArray>, outputs: string[]): Promise<Record<string, HostArray>> {
    this.writeInputs(feeds);
    const wanted = outputs.map((name) => this.output(name));
    const encoder = this.device.createCommandEncoder({ label: this.exe.model });
    this.encode(encoder);
    const staging = wanted.map((io) => this.copyOutput(encoder, io.name));
    this.device.queue.submit([encoder.finish()]);

    const result: Record<string, HostArray> = {};
    for (const [i, io] of wanted.entries()) {
      const bytes = await readMapped(staging[i], this.device);
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
    throwIfDeviceFailed(this.device, `running ${this.exe.model}`);
  }

  /**
   * milliseconds per dispatch of each kernel, each submitted `repeats` times on its own and waited
   * for: a profile for benchmarks, not for the hot path
   */
  async kernelTimes(repeats: number): Promise<{ name: string; ops: string[]; ms: number }[]> {
    const times: { name: string; ops: string[]; ms: number }[] = [];
    for (const [i, kernel] of this.exe.kernels.entries()) {
      const encoder = this.device.createCommandEncoder();
      const pass = encoder.beginComputePass();
      pass.setPipeline(this.pipelines[i]);
      pass.setBindGroup(0, this.bindGroups[i]);
      for (let r = 0; r < repeats; r++) pass.dispatchWorkgroups(...kernel.workgroups);
      pass.end();
      const start = performance.now();
      this.device.queue.submit([encoder.finish()]);
      await this.device.queue.onSubmittedWorkDone();
      times.push({ name: kernel.name, ops: kernel.ops, ms: (performance.now() - start) / repeats });
    }
    throwIfDeviceFailed(this.device, `timing ${this.exe.model}`);
    return times;
  }

  /** waits for all submitted work; for timing */
  async finish(): Promise<void> {
    await this.device.queue.onSubmittedWorkDone();
    throwIfDeviceFailed(this.device, `running ${this.exe.model}`);
  }

  /** destroys the pools this executor allocated (shared ones belong to their owner) */
  destroy(): void {
    for (const pool of this.pools) if (!this.shared.has(pool)) pool.destroy();
  }
}

/**
 * maps a MAP_READ buffer, copies its contents out, and destroys it (unless `keep`: a staging
 * buffer reused step after step). Throws a DeviceError when the device (by default: any device
 * archc opened and has not destroyed) reported an error: the work that should have filled the
 * buffer was then dropped, and its zeros must not reach the user.
 */
export async function readMapped(
  buffer: GPUBuffer,
  device?: GPUDevice,
  { keep = false }: { keep?: boolean } = {},
): Promise<ArrayBuffer> {
  try {
    await buffer.mapAsync(GPUMapMode.READ);
  } catch (err) {
    buffer.destroy();
    throwIfDeviceFailed(device, "reading results back");
    throw new DeviceError(
      `reading results back from the GPU failed: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  const bytes = buffer.getMappedRange().slice(0);
  buffer.unmap();
  if (!keep) buffer.destroy();
  throwIfDeviceFailed(device, "reading results back");
  return bytes;
}
