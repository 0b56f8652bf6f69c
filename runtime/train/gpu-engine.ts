// Training on the device. It runs a compiled training program (format/training.ts), and one
// optimizer step (forward, backward, gradient norm, clipped AdamW over every parameter) is encoded
// into a single command buffer and submitted once. The loss is copied out only on the steps that
// ask for it, so the steps between log lines never wait on the device.
//
// Layout contract: the compiler's buffer plan puts parameters in declaration order, each segment at
// a 256-byte boundary, and the gradients `grad.<param>` in a pool laid out the same way. That is
// exactly flatLayout(params, 64), so the optimizer walks params, grads, m and v as flat arrays.
// The constructor checks the contract rather than trusting it.

import { VALUE_ALIGNMENT, type Executable } from "../../format/archx.js";
import type { TrainSpec } from "../../format/spec.js";
import { GRAD_PREFIX, type TrainingProgram } from "../../format/training.js";
import type { TrainingState } from "../checkpoint.js";
import { openDevice, type GpuContext } from "../device.js";
import { Executor, readMapped } from "../executor.js";
import { initParams } from "../init.js";
import { GpuAdamw } from "../optim/adamw-gpu.js";
import { decayMask, flatLayout, type FlatLayout } from "../optim/layout.js";
import type { StepEngine } from "./engine.js";

const ALIGN_ELEMENTS = VALUE_ALIGNMENT / 4;

export interface GpuEngineOptions {
  /** the model compiled for training at train.batch × train.seq (compiler/compile.ts compileTraining) */
  program: TrainingProgram;
  train: TrainSpec;
  /** an open device to use (and leave open); by default the engine opens one and destroys it */
  gpu?: GpuContext;
}

/** what a training step costs on the device, for `archc train`'s start-up line and benchmarks */
export interface EngineSummary {
  adapter: string;
  software: boolean;
  /** kernels of the training program (forward and backward), plus the optimizer's dispatches */
  stepKernels: number;
  evalKernels: number;
  pipelines: number;
  parameters: number;
  /** bytes archc allocated on the device: both executables' pools, the AdamW moments and mask */
  deviceBytes: number;
}

function checkLayout(exe: Executable, layout: FlatLayout, pool: "param" | "grad"): void {
  const poolIndex = exe.pools.findIndex((p) => p.usage === pool);
  for (const segment of layout.segments) {
    const id =
      pool === "param"
        ? exe.params.find((p) => p.name === segment.name)?.value
        : exe.outputs.find((o) => o.name === GRAD_PREFIX + segment.name)?.value;
    const value = exe.values.find((v) => v.id === id);
    // a parameter no gradient reaches has no grad value: its range of the grad pool stays zero
    if (pool === "grad" && id === undefined) continue;
    if (!value || value.pool !== poolIndex || value.offset !== segment.offset * 4)
      throw new Error(
        `internal: ${pool} ${segment.name} is planned at ${value ? `pool ${value.pool} offset ${value.offset}` : "no slot"}, ` +
          `not at byte ${segment.offset * 4} of the ${pool} pool the optimizer walks`,
      );
  }
}

function storageBuffer(device: GPUDevice, label: string, bytes: number): GPUBuffer {
  return device.createBuffer({
    label,
    size: Math.max(16, Math.ceil(bytes / 16) * 16),
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC,
  });
}

export class GpuTrainingEngine implements StepEngine {
  private steps = 0;
  private gradNorm: number | undefined;

  private constructor(
    private readonly gpu: GpuContext,
    private readonly ownsDevice: boolean,
    private readonly layout: FlatLayout,
    private readonly trainer: Executor,
    private readonly evaluator: Executor,
    private readonly adamw: GpuAdamw,
    private readonly m: GPUBuffer,
    private readonly v: GPUBuffer,
    private readonly mask: GPUBuffer,
    private readonly tokensPerBatch: number,
    private readonly paramShapes: Map<string, number[]>,
    private readonly allocatedBytes: number,
  ) {}

  static async create(options: GpuEngineOptions): Promise<GpuTrainingEngine> {
    const { program, train } = options;
    const { train: trainExe, eval: evalExe } = program;
    if (trainExe.batch !== train.batch || trainExe.seq !== train.seq)
      throw new Error(
        `internal: the training program is compiled for batch ${trainExe.batch} x seq ${trainExe.seq}, the run has ${train.batch} x ${train.seq}`,
      );
    const layout = flatLayout(trainExe.params, ALIGN_ELEMENTS);
    checkLayout(trainExe, layout, "param");
    checkLayout(trainExe, layout, "grad");
    checkLayout(evalExe, layout, "param");

    const gpu = options.gpu ?? (await openDevice());
    const device = gpu.device;
    const created: { destroy(): void }[] = [];
    try {
      const trainer = await Executor.create(device, trainExe);
      created.push(trainer);
      const evaluator = await Executor.create(device, evalExe, { param: trainer.pool("param") });
      created.push(evaluator);
      const bytes = layout.total * 4;
      const m = storageBuffer(device, "adamw.m", bytes);
      const v = storageBuffer(device, "adamw.v", bytes);
      const maskBits = decayMask(layout);
      const mask = storageBuffer(device, "adamw.decay_mask", maskBits.byteLength);
      created.push(m, v, mask);
      device.queue.writeBuffer(mask, 0, maskBits);
      const adamw = new GpuAdamw(
        device,
        layout.total,
        {
          params: { buffer: trainer.pool("param"), offset: 0, size: bytes },
          grads: { buffer: trainer.pool("grad"), offset: 0, size: bytes },
          m: { buffer: m, offset: 0, size: bytes },
          v: { buffer: v, offset: 0, size: bytes },
          decayMask: { buffer: mask },
        },
        train.optimizer,
        program.optimizer,
      );
      created.push(adamw);
      const poolBytes = (exe: Executable, skip: Set<string>) =>
        exe.pools.filter((p) => !skip.has(p.usage)).reduce((n, p) => n + p.size, 0);
      const allocatedBytes =
        poolBytes(trainExe, new Set()) +
        poolBytes(evalExe, new Set(["param"])) +
        m.size +
        v.size +
        mask.size +
        adamw.deviceBytes;
      const engine = new GpuTrainingEngine(
        gpu,
        !options.gpu,
        layout,
        trainer,
        evaluator,
        adamw,
        m,
        v,
        mask,
        train.batch * train.seq,
        new Map(trainExe.params.map((p) => [p.name, [...p.shape]])),
        allocatedBytes,
      );
      trainer.setParams(initParams(trainExe.params, train.seed));
      return engine;
    } catch (err) {
      for (const resource of created.reverse()) resource.destroy();
      if (!options.gpu) device.destroy();
      throw err;
    }
  }

  summary(): EngineSummary {
    return {
      adapter: this.gpu.description.name,
      software: this.gpu.description.software,
      stepKernels: this.trainer.kernelCount + this.adamw.dispatchCount,
      evalKernels: this.evaluator.kernelCount,
      pipelines: this.trainer.pipelineCount,
      parameters: this.layout.segments.reduce((n, s) => n + s.size, 0),
      deviceBytes: this.allocatedBytes,
    };
  }

  /** every parameter's shape, for checkpoint files */
  shapes(): Map<string, number[]> {
    return new Map([...this.paramShapes].map(([name, shape]) => [name, [...shape]]));
  }

  /** per-kernel times of the training program (not the optimizer), for bench/train-step.ts */
  kernelTimes(repeats: number): ReturnType<Executor["kernelTimes"]> {
    return this.trainer.kernelTimes(repeats);
  }

  private feeds(tokens: Int32Array, targets: Int32Array) {
    if (tokens.length !== this.tokensPerBatch || targets.length !== this.tokensPerBatch)
      throw new Error(
        `a batch must hold ${this.tokensPerBatch} tokens and targets, got ${tokens.length} and ${targets.length}`,
      );
    return { tokens, targets };
  }

  async step(
    tokens: Int32Array,
    targets: Int32Array,
    lr: number,
    readLoss: boolean,
  ): Promise<number | undefined> {
    this.trainer.writeInputs(this.feeds(tokens, targets));
    const device = this.gpu.device;
    const encoder = device.createCommandEncoder({ label: `step ${this.steps + 1}` });
    this.trainer.encode(encoder);
    this.adamw.encode(encoder, this.steps + 1, lr);
    // on log steps the loss and the squared gradient norm come back together, in one readback
    let readback: GPUBuffer | undefined;
    if (readLoss) {
      readback = device.createBuffer({
        label: "read loss and grad norm",
        size: 8,
        usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      });
      this.trainer.copyOutput(encoder, "loss", readback, 0);
      encoder.copyBufferToBuffer(this.adamw.normSquared, 0, readback, 4, 4);
    }
    device.queue.submit([encoder.finish()]);
    this.steps += 1;
    this.gradNorm = undefined;
    if (!readback) return undefined;
    const [loss, normSquared] = new Float32Array(await readMapped(readback, this.gpu.device));
    this.gradNorm = Math.sqrt(normSquared);
    return loss;
  }

  async evalLoss(tokens: Int32Array, targets: Int32Array): Promise<number> {
    const out = await this.evaluator.run(this.feeds(tokens, targets), ["loss"]);
    return out.loss[0];
  }

  /** the norm read back with the last step's loss; undefined when that step did not read it */
  async lastGradNorm(): Promise<number | undefined> {
    return this.gradNorm;
  }

  private async readWhole(buffer: GPUBuffer): Promise<Float32Array> {
    const bytes = this.layout.total * 4;
    const staging = this.gpu.device.createBuffer({
      size: Math.max(4, bytes),
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    const encoder = this.gpu.device.createCommandEncoder();
    encoder.copyBufferToBuffer(buffer, 0, staging, 0, bytes);
    this.gpu.device.queue.submit([encoder.finish()]);
    return new Float32Array(await readMapped(staging, this.gpu.device));
  }

  private split(flat: Float32Array): Map<string, Float32Array> {
    return new Map(
      this.layout.segments.map((s) => [s.name, flat.slice(s.offset, s.offset + s.size)] as const),
    );
  }

  async getState(): Promise<TrainingState> {
    const [params, m, v] = await Promise.all(
      [this.trainer.pool("param"), this.m, this.v].map((b) => this.readWhole(b)),
    );
    return { step: this.steps, params: this.split(params), m: this.split(m), v: this.split(v) };
  }

  async setState(state: TrainingState): Promise<void> {
    const write = (buffer: GPUBuffer, values: Map<string, Float32Array>, what: string) => {
      for (const s of this.layout.segments) {
        const data = values.get(s.name);
        if (!data) throw new Error(`the checkpoint has no ${what} for ${s.name}`);
        if (data.length !== s.size)
          throw new Error(`the checkpoint's ${what} for ${s.name} has ${data.length} values, not ${s.size}`);
        this.gpu.device.queue.writeBuffer(
          buffer,
          s.offset * 4,
          data.buffer,
          data.byteOffset,
          data.byteLength,
        );
      }
    };
    write(this.trainer.pool("param"), state.params, "parameters");
    write(this.m, state.m, "first moment");
    write(this.v, state.v, "second moment");
    this.steps = state.step;
    await this.gpu.device.queue.onSubmittedWorkDone();
  }

  dispose(): void {
    this.adamw.destroy();
    this.evaluator.destroy();
    this.trainer.destroy();
    this.m.destroy();
    this.v.destroy();
    this.mask.destroy();
    if (this.ownsDevice) this.gpu.device.destroy();
  }
}
