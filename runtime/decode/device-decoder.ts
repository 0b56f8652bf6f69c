// Decoding on the device with a key/value cache: a compiled decoding step (format/archx.ts with
// `caches`; the compiler's lowerDecodeStep) runs once per position. Each step is one submission:
// upload the newest tokens and the position, run every kernel, write this position's keys and
// values into the caches; only the step whose logits are wanted reads anything back.

import type { Executable } from "../../format/archx.js";
import type { Decoder, Logits } from "../../format/decoder.js";
import { Executor, ExecutorError, readMapped } from "../executor.js";

export class DeviceDecoder implements Decoder {
  readonly context: number;
  readonly batch: number;
  readonly vocab: number;
  private position = 0;
  /** the caches are cleared at the start of the next step's submission */
  private clearPending = true;
  private readonly positionFeed = new Int32Array(1);

  private constructor(
    /** the decoding step's executor (for benchmarks: its kernels, pools and profile) */
    readonly executor: Executor,
    context: number,
  ) {
    const exe = executor.exe;
    const tokens = exe.inputs.find((io) => io.name === "tokens");
    const logits = exe.outputs.find((io) => io.name === "logits");
    if (!tokens || !logits || !exe.inputs.some((io) => io.name === "position"))
      throw new ExecutorError(`${exe.model}: not a decoding step (no tokens, position and logits)`);
    for (const { input } of exe.caches ?? []) {
      const rows = exe.inputs.find((io) => io.name === input)!.shape[0];
      if (rows < context)
        throw new ExecutorError(
          `${exe.model}: cache ${input} holds ${rows} positions, not the context ${context}`,
        );
    }
    this.batch = tokens.shape[0];
    this.vocab = logits.shape[logits.shape.length - 1];
    this.context = context;
  }

  /**
   * compiles every pipeline and uploads the parameters. `context` is the model's: the positions a
   * sequence may reach (learned positions and the caches hold that many)
   */
  static async create(
    device: GPUDevice,
    step: Executable,
    params: ReadonlyMap<string, Float32Array | Float64Array>,
    context: number,
  ): Promise<DeviceDecoder> {
    const executor = await Executor.create(device, step);
    try {
      const values = new Map<string, Float32Array>();
      for (const [name, data] of params)
        values.set(name, data instanceof Float32Array ? data : Float32Array.from(data));
      executor.setParams(values);
      return new DeviceDecoder(executor, context);
    } catch (err) {
      executor.destroy();
      throw err;
    }
  }

  /** the decoded position: how many tokens each sequence holds */
  get length(): number {
    return this.position;
  }

  async prefill(ids: readonly number[]): Promise<Logits> {
    if (ids.length === 0) throw new Error("prefill needs at least one token");
    this.reset();
    for (let i = 0; i < ids.length - 1; i++) this.step(Int32Array.of(ids[i]), false);
    return (await this.step(Int32Array.of(ids[ids.length - 1]), true))!;
  }

  async decodeNext(id: number): Promise<Logits> {
    return (await this.step(Int32Array.of(id), true))!;
  }

  /** starts new sequences: position 0, empty caches (cleared in the next step's own submission) */
  reset(): void {
    this.position = 0;
    this.clearPending = true;
  }

  /**
   * appends one token to each of the `batch` sequences and submits the step; with `readLogits`,
   * resolves to the next-token logits ([batch, vocab], row-major), otherwise resolves at once
   * without waiting for the device
   */
  step(tokens: Int32Array, readLogits: true): Promise<Float32Array>;
  step(tokens: Int32Array, readLogits: false): undefined;
  step(tokens: Int32Array, readLogits: boolean): Promise<Float32Array> | undefined {
    if (tokens.length !== this.batch)
      throw new ExecutorError(`a step takes ${this.batch} tokens, one per sequence; got ${tokens.length}`);
    if (this.position >= this.context)
      throw new ExecutorError(`position ${this.position} is past the context ${this.context}`);
    for (const id of tokens)
      if (!(id >= 0 && id < this.vocab))
        throw new ExecutorError(`token ${id} is outside the vocabulary [0, ${this.vocab})`);
    const executor = this.executor;
    this.positionFeed[0] = this.position;
    executor.writeInput("tokens", tokens);
    executor.writeInput("position", this.positionFeed);
    const encoder = executor.device.createCommandEncoder({ label: `decode position ${this.position}` });
    if (this.clearPending) executor.encodeCacheClear(encoder);
    this.clearPending = false;
    executor.encode(encoder);
    executor.encodeCacheWrites(encoder, this.position);
    // one staging buffer for every step's logits; a step that reads while another's read is
    // still mapping gets a buffer of its own
    const reuse = readLogits && !this.stagingBusy;
    const staging = readLogits
      ? executor.copyOutput(encoder, "logits", reuse ? this.staging() : undefined)
      : undefined;
    executor.device.queue.submit([encoder.finish()]);
    this.position += 1;
    if (!staging) return undefined;
    if (!reuse) return readMapped(staging, executor.device).then((bytes) => new Float32Array(bytes));
    this.stagingBusy = true;
    return readMapped(staging, executor.device, { keep: true })
      .then((bytes) => new Float32Array(bytes))
      .catch((err: unknown) => {
        this.stagingBuffer = undefined; // a failed read destroys the buffer
        throw err;
      })
      .finally(() => {
        this.stagingBusy = false;
      });
  }

  private stagingBuffer?: GPUBuffer;
  private stagingBusy = false;

  private staging(): GPUBuffer {
    this.stagingBuffer ??= this.executor.device.createBuffer({
      label: "decoded logits",
      size: 4 * this.batch * this.vocab,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    return this.stagingBuffer;
  }

  /** waits for every submitted step */
  async finish(): Promise<void> {
    await this.executor.finish();
  }

  dispose(): void {
    this.stagingBuffer?.destroy();
    this.executor.destroy();
  }
}
