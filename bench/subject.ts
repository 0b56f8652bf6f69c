// One model under `archc bench`: a training engine (forward, backward and AdamW in one submission
// per step) or a forward-only executor, with the operations the benchmark interleaves across
// models: a first step, warm-up, timed rounds of steps with one sync at the end, and a per-kernel
// profile split into forward, backward and optimizer.

import { compileGraph, compileTraining } from "../compiler/compile.js";
import type { TuningTable } from "../format/tuning.js";
import type { Graph } from "../compiler/ir/ir.js";
import { numel } from "../compiler/ir/ir.js";
import { lowerDecodeStep, lowerModel } from "../compiler/ir/lower.js";
import type { ModelSpec, TrainSpec } from "../format/spec.js";
import type { Executable } from "../format/archx.js";
import { Executor } from "../runtime/executor.js";
import { initParams } from "../runtime/init.js";
import type { GpuAdamw } from "../runtime/optim/adamw-gpu.js";
import type { ProfilingContext } from "../runtime/profile/device.js";
import { engineParts } from "../runtime/profile/engine-parts.js";
import { timeDispatches, type TimedDispatch } from "../runtime/profile/timestamps.js";
import { GpuTrainingEngine } from "../runtime/train/gpu-engine.js";
import { DeviceDecoder } from "../runtime/decode/device-decoder.js";
import { median, stepFlops, syntheticBatch, type StepFlops, type SyntheticBatch } from "./measure.js";

export type BenchMode = "train" | "infer" | "decode";
export type Phase = "forward" | "backward" | "optimizer";

export interface KernelTime {
  name: string;
  /** the kernel's anchor op ("matmul", "attention_grad_kv"), or the optimizer stage */
  kind: string;
  phase: Phase;
  ms: number;
}

/** how a profile was taken: GPU timestamps in one submission, or one submission per kernel */
export type ProfileMethod = "timestamp-query" | "separate-submissions";

/** the training program's kernels whose names start with this are the backward's (autodiff's scope) */
const BACKWARD_PREFIX = "grad.";

function phaseOf(kernelName: string): Phase {
  return kernelName.startsWith(BACKWARD_PREFIX) ? "backward" : "forward";
}

/**
 * bytes one pass over the kernels reads and writes if every bound value is touched once; kernels
 * that bind pool ranges (too many values for one binding each) are not counted but reported
 */
function boundBytes(exe: Executable): { bytes: number; uncountedKernels: number } {
  const size = new Map(exe.values.map((v) => [v.id, v.size]));
  let bytes = 0;
  let uncountedKernels = 0;
  for (const kernel of exe.kernels) {
    if (kernel.bindings.some((b) => "pool" in b)) uncountedKernels += 1;
    for (const b of kernel.bindings) if ("value" in b) bytes += size.get(b.value) ?? 0;
  }
  return { bytes, uncountedKernels };
}

/** the AdamW step over P parameters: the norm pass reads the gradients, the update reads p, g, m, v and writes p, m, v */
function adamwBytes(parameters: number): number {
  return 4 * parameters * (1 + 4 + 3) + Math.ceil(parameters / 8);
}

function adamwStage(adamw: GpuAdamw, index: number): string {
  const chunks = adamw.chunks.length;
  return index < chunks ? "adamw.grad_squares" : index === chunks ? "adamw.grad_norm" : "adamw.update";
}

/** the median of each dispatch's time over several profiles of the same dispatches */
function medianProfile(profiles: KernelTime[][]): KernelTime[] {
  return profiles[0].map((k, i) => ({ ...k, ms: median(profiles.map((p) => p[i].ms)) }));
}

/** a forward-only executable's kernels, each timed: by timestamps in one submission, or one submission each */
async function profileForward(
  device: GPUDevice,
  executor: Executor,
  repeats: number,
  method: ProfileMethod,
): Promise<KernelTime[]> {
  const kernels = executor.exe.kernels;
  if (method === "timestamp-query") {
    const profiles: KernelTime[][] = [];
    for (let r = 0; r < repeats; r++) {
      const timed = await timeDispatches(device, (encoder) => executor.encode(encoder));
      profiles.push(
        timed.map((d) => ({
          name: kernels[d.index].name,
          kind: kernels[d.index].ops[0],
          phase: "forward",
          ms: d.ms,
        })),
      );
    }
    return medianProfile(profiles);
  }
  return (await executor.kernelTimes(repeats)).map((k) => ({
    name: k.name,
    kind: k.ops[0],
    phase: "forward" as const,
    ms: k.ms,
  }));
}

export interface SubjectOptions {
  gpu: ProfilingContext;
  label: string;
  file: string;
  model: ModelSpec;
  /** batch, seq, seed and the optimizer (shared by every model of one benchmark) */
  train: TrainSpec;
  mode: BenchMode;
  /** counts queue submissions on the device */
  submissions: () => number;
  /** the kernel variants for this device; none: the defaults */
  tuning?: TuningTable;
}

export abstract class Subject {
  readonly label: string;
  readonly file: string;
  readonly model: ModelSpec;
  readonly mode: BenchMode;
  readonly flops: StepFlops;
  firstStepMs = NaN;
  /** ms per step of each timed round */
  readonly roundMs: number[] = [];
  timedSteps = 0;
  timedSubmissions = 0;
  protected readonly gpu: ProfilingContext;
  protected readonly batch: SyntheticBatch;
  protected readonly train: TrainSpec;
  private readonly submissions: () => number;

  protected constructor(options: SubjectOptions, forward: Graph) {
    this.label = options.label;
    this.file = options.file;
    this.model = options.model;
    this.mode = options.mode;
    this.gpu = options.gpu;
    this.train = options.train;
    this.submissions = options.submissions;
    this.flops = stepFlops(forward);
    this.batch = syntheticBatch(options.model.vocab, options.train.batch, options.train.seq);
  }

  static async create(options: SubjectOptions): Promise<Subject> {
    if (options.mode === "decode") return DecodeSubject.build(options);
    const forward = lowerModel(options.model, { batch: options.train.batch, seq: options.train.seq });
    return options.mode === "train"
      ? TrainSubject.build(options, forward)
      : InferSubject.build(options, forward);
  }

  abstract get parameters(): number;
  abstract get deviceBytes(): number;
  abstract get dispatchesPerStep(): number;
  /** an estimate of the bytes one step reads and writes; see boundBytes */
  abstract get bytesPerStep(): { bytes: number; uncountedKernels: number };
  /** FLOPs credited to one step: 3x the forward for training, the forward for inference */
  get flopsPerStep(): number {
    return this.mode === "train" ? this.flops.trainStep : this.flops.forwardTotal;
  }
  get tokensPerStep(): number {
    return this.train.batch * this.train.seq;
  }
  /** sequences side by side */
  get batchSize(): number {
    return this.train.batch;
  }

  /** runs `steps` steps and waits once at the end */
  protected abstract steps(steps: number): Promise<void>;

  /** the first step (software drivers compile shaders then), timed apart, then `warmup` more */
  async warmUp(warmup: number): Promise<void> {
    const start = performance.now();
    await this.steps(1);
    this.firstStepMs = performance.now() - start;
    if (warmup > 0) await this.steps(warmup);
  }

  async timeRound(steps: number): Promise<void> {
    const submitted = this.submissions();
    const start = performance.now();
    await this.steps(steps);
    this.roundMs.push((performance.now() - start) / steps);
    this.timedSteps += steps;
    this.timedSubmissions += this.submissions() - submitted;
  }

  get stepMs(): number {
    return median(this.roundMs);
  }

  abstract profile(repeats: number, method: ProfileMethod): Promise<KernelTime[]>;
  abstract dispose(): void;
}

class TrainSubject extends Subject {
  private done = 0;

  private constructor(
    options: SubjectOptions,
    forward: Graph,
    private readonly engine: GpuTrainingEngine,
  ) {
    super(options, forward);
  }

  static async build(options: SubjectOptions, forward: Graph): Promise<Subject> {
    const { batch, seq } = options.train;
    const engine = await GpuTrainingEngine.create({
      program: compileTraining(options.model, { batch, seq }, { tuning: options.tuning }),
      train: options.train,
      gpu: options.gpu,
    });
    return new TrainSubject(options, forward, engine);
  }

  get parameters(): number {
    return this.engine.summary().parameters;
  }
  get deviceBytes(): number {
    return this.engine.summary().deviceBytes;
  }
  get dispatchesPerStep(): number {
    const { trainer, adamw } = engineParts(this.engine);
    return trainer.kernelCount + adamw.dispatchCount;
  }
  get bytesPerStep(): { bytes: number; uncountedKernels: number } {
    const counted = boundBytes(engineParts(this.engine).trainer.exe);
    return { ...counted, bytes: counted.bytes + adamwBytes(this.parameters) };
  }

  private get lr(): number {
    return this.train.optimizer.lr;
  }

  protected async steps(steps: number): Promise<void> {
    const { tokens, targets } = this.batch;
    // the loss is read back on the last step only: that readback is the one sync
    for (let s = 0; s < steps; s++) await this.engine.step(tokens, targets, this.lr, s === steps - 1);
    this.done += steps;
  }

  async profile(repeats: number, method: ProfileMethod): Promise<KernelTime[]> {
    const { trainer, adamw } = engineParts(this.engine);
    const kernels = trainer.exe.kernels;
    if (method === "timestamp-query") {
      const profiles: KernelTime[][] = [];
      for (let r = 0; r < repeats; r++) {
        this.done += 1;
        const t = this.done;
        const timed = await timeDispatches(this.gpu.device, (encoder) => {
          trainer.encode(encoder);
          adamw.encode(encoder, t, this.lr);
        });
        profiles.push(timed.map((d) => this.describe(d, kernels, adamw)));
      }
      return medianProfile(profiles);
    }
    // one submission per kernel (Executor.kernelTimes), and the optimizer's dispatches in one more
    const times: KernelTime[] = (await this.engine.kernelTimes(repeats)).map((k) => ({
      name: k.name,
      kind: k.ops[0],
      phase: phaseOf(k.name),
      ms: k.ms,
    }));
    const encoder = this.gpu.device.createCommandEncoder({ label: "time adamw" });
    for (let r = 0; r < repeats; r++) adamw.encode(encoder, this.done + 1, this.lr);
    const start = performance.now();
    this.gpu.device.queue.submit([encoder.finish()]);
    await this.gpu.device.queue.onSubmittedWorkDone();
    this.done += 1;
    times.push({
      name: "adamw",
      kind: "adamw",
      phase: "optimizer",
      ms: (performance.now() - start) / repeats,
    });
    return times;
  }

  private describe(d: TimedDispatch, kernels: Executable["kernels"], adamw: GpuAdamw): KernelTime {
    if (d.pass === "adamw") {
      const stage = adamwStage(adamw, d.index);
      return { name: stage, kind: stage, phase: "optimizer", ms: d.ms };
    }
    const kernel = kernels[d.index];
    if (!kernel) throw new Error(`internal: timed dispatch ${d.index} of pass ${d.pass} has no kernel`);
    return { name: kernel.name, kind: kernel.ops[0], phase: phaseOf(kernel.name), ms: d.ms };
  }

  dispose(): void {
    this.engine.dispose();
  }
}

/** a subject that runs one forward-only executable: its figures are the executable's */
abstract class ForwardSubject extends Subject {
  protected abstract get executor(): Executor;

  get parameters(): number {
    return this.executor.exe.params.reduce((n, p) => n + numel(p.shape), 0);
  }
  get deviceBytes(): number {
    return this.executor.exe.pools.reduce((n, p) => n + p.size, 0);
  }
  get dispatchesPerStep(): number {
    return this.executor.kernelCount;
  }
  get bytesPerStep(): { bytes: number; uncountedKernels: number } {
    return boundBytes(this.executor.exe);
  }

  async profile(repeats: number, method: ProfileMethod): Promise<KernelTime[]> {
    return profileForward(this.gpu.device, this.executor, repeats, method);
  }
}

class InferSubject extends ForwardSubject {
  private constructor(
    options: SubjectOptions,
    forward: Graph,
    protected readonly executor: Executor,
  ) {
    super(options, forward);
  }

  static async build(options: SubjectOptions, forward: Graph): Promise<Subject> {
    const { batch, seq, seed } = options.train;
    const exe = compileGraph(forward, { batch, seq, vocab: options.model.vocab, tuning: options.tuning });
    const executor = await Executor.create(options.gpu.device, exe);
    try {
      executor.setParams(initParams(forward.params, seed));
      const subject = new InferSubject(options, forward, executor);
      executor.writeInputs({ tokens: subject.batch.tokens, targets: subject.batch.targets });
      return subject;
    } catch (err) {
      executor.destroy();
      throw err;
    }
  }

  protected async steps(steps: number): Promise<void> {
    // `steps` forward passes in one submission, no uploads or readbacks: the device's forward time
    await this.executor.runRepeated(steps);
  }

  dispose(): void {
    this.executor.destroy();
  }
}

/**
 * Decoding: a step is one position of `batch` sequences through the compiled decoding step, its
 * logits read back, as `archc generate` does per token; its time is the per-token latency. The
 * positions run 0, 1, ... seq - 1 and start again (the caches cleared), so the figure is the mean
 * over a sequence of --seq tokens.
 */
class DecodeSubject extends ForwardSubject {
  private readonly column: Int32Array;

  private constructor(
    options: SubjectOptions,
    step: Graph,
    private readonly decoder: DeviceDecoder,
  ) {
    super(options, step);
    this.column = new Int32Array(options.train.batch);
  }

  static async build(options: SubjectOptions): Promise<Subject> {
    const { batch, seed } = options.train;
    const step = lowerDecodeStep(options.model, { batch });
    const exe = compileGraph(step, { batch, seq: 1, vocab: options.model.vocab, tuning: options.tuning });
    const decoder = await DeviceDecoder.create(
      options.gpu.device,
      exe,
      initParams(step.params, seed),
      options.model.context,
    );
    decoder.reset();
    return new DecodeSubject(options, step, decoder);
  }

  protected get executor(): Executor {
    return this.decoder.executor;
  }
  override get tokensPerStep(): number {
    return this.train.batch;
  }
  /** the forward FLOPs of one position, attention taken at the mean position 0..seq-1 rather than a full cache */
  override get flopsPerStep(): number {
    const { matmul, attention, attnres } = this.flops.forward;
    return matmul + attnres + (attention * ((this.train.seq + 1) / 2)) / this.model.context;
  }

  private nextTokens(): Int32Array {
    if (this.decoder.length >= this.train.seq) this.decoder.reset();
    const t = this.decoder.length;
    for (let b = 0; b < this.column.length; b++) this.column[b] = this.batch.tokens[b * this.train.seq + t];
    return this.column;
  }

  protected async steps(steps: number): Promise<void> {
    // every step reads its logits back: a sampler needs them before it can choose the next token
    for (let s = 0; s < steps; s++) await this.decoder.step(this.nextTokens(), true);
  }

  dispose(): void {
    this.decoder.dispose();
  }
}
