// Runs the fused AdamW step on the device over flat params/grads/m/v buffers. Each step writes
// one small uniform (lr from the host schedule, bias corrections) and encodes its dispatches;
// nothing is read back unless the caller asks for the gradient norm.
//
// No binding may exceed the device's maxStorageBufferBindingSize, and the flat arrays of a large
// model do (200 MB for 50M parameters; the limit is 128 MiB on lavapipe, 2 GiB on an H100). The
// walk is therefore split into chunks, each bound as a range of every buffer (one bind group per
// chunk and stage): stage 1 of the gradient norm runs per chunk into its own partial sums, stage
// 2 sums all of them once, and only then does the update run chunk by chunk, so clipping uses
// the norm over every parameter. Chunks start at multiples of adamwChunkUnit() elements, so each
// range's byte offset, and the decay mask's word offset, meet minStorageBufferOffsetAlignment.

import { spreadWorkgroups } from "../../format/dispatch.js";
import {
  ADAMW_NORM_PARTIALS,
  ADAMW_UNIFORM_FIELDS,
  ADAMW_WORKGROUP_SIZE,
  type AdamwModules,
} from "../../format/training.js";
import { formatBytes, storageBindingLimit } from "../buffers.js";
import { throwIfDeviceFailed } from "../device.js";
import type { AdamwHyper } from "./adamw.js";

export interface AdamwDeviceBuffers {
  params: GPUBufferBinding;
  grads: GPUBufferBinding;
  m: GPUBufferBinding;
  v: GPUBufferBinding;
  /** the layout's decayMask(), one bit per element */
  decayMask: GPUBufferBinding;
}

export interface AdamwChunk {
  /** first element */
  start: number;
  /** elements */
  length: number;
}

/**
 * the granularity of chunk starts, in elements: a multiple of 32 (a decay-mask word) whose byte
 * offset, and whose mask word's byte offset, are multiples of the offset alignment
 */
export function adamwChunkUnit(offsetAlignment: number): number {
  return Math.max(32, 8 * offsetAlignment);
}

/**
 * splits `total` elements into chunks of at most `chunkElements` (default: as many as one
 * storage binding of `maxBindingBytes` holds, rounded down to the unit)
 */
export function adamwChunks(
  total: number,
  maxBindingBytes: number,
  offsetAlignment: number,
  chunkElements?: number,
): AdamwChunk[] {
  const unit = adamwChunkUnit(offsetAlignment);
  const fits = Math.floor(maxBindingBytes / 4 / unit) * unit;
  if (fits < unit)
    throw new RangeError(
      `a storage binding of ${formatBytes(maxBindingBytes)} cannot hold one AdamW chunk of ${unit} elements`,
    );
  let size = fits;
  if (chunkElements !== undefined) {
    if (!Number.isInteger(chunkElements) || chunkElements < unit || chunkElements % unit !== 0)
      throw new RangeError(
        `AdamW chunks must be a positive multiple of ${unit} elements, got ${chunkElements}`,
      );
    size = Math.min(chunkElements, fits);
  }
  const chunks: AdamwChunk[] = [];
  for (let start = 0; start < total; start += size)
    chunks.push({ start, length: Math.min(size, total - start) });
  return chunks;
}

export interface GpuAdamwOptions {
  /** elements per chunk, a multiple of adamwChunkUnit(); default: the most one binding holds */
  chunkElements?: number;
}

interface Dispatch {
  pipeline: GPUComputePipeline;
  bindGroup: GPUBindGroup;
  workgroups: [number, number, number];
}

export class GpuAdamw {
  private readonly partials: GPUBuffer;
  /** the squared global gradient norm of the last step, f32[1] (COPY_SRC for logging) */
  readonly normSquared: GPUBuffer;
  private readonly uniform: GPUBuffer;
  /** the ranges the walk is split into (one unless the arrays exceed a storage binding) */
  readonly chunks: readonly AdamwChunk[];
  /** bytes of the optimizer's own small buffers (partial sums, norm, step uniform) */
  get deviceBytes(): number {
    return this.partials.size + this.normSquared.size + this.uniform.size;
  }

  /** dispatches per step, in order: stage 1 per chunk, stage 2, the update per chunk */
  private readonly dispatches: Dispatch[];

  get dispatchCount(): number {
    return this.dispatches.length;
  }

  constructor(
    private readonly device: GPUDevice,
    readonly total: number,
    buffers: AdamwDeviceBuffers,
    private readonly hyper: AdamwHyper,
    /** the WGSL of the step, from the compiled training program */
    modules: AdamwModules,
    options: GpuAdamwOptions = {},
  ) {
    if (!Number.isInteger(total) || total < 1)
      throw new RangeError(`AdamW needs at least one element, got ${total}`);
    const alignment = Number(device.limits.minStorageBufferOffsetAlignment);
    this.chunks = adamwChunks(total, storageBindingLimit(device), alignment, options.chunkElements);
    for (const [name, binding] of Object.entries(buffers))
      if ((binding.offset ?? 0) % alignment !== 0)
        throw new RangeError(
          `AdamW's ${name} binding starts at byte ${binding.offset}, not a multiple of ${alignment}`,
        );

    const storage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    this.partials = device.createBuffer({
      label: "adamw.partials",
      size: this.chunks.length * ADAMW_NORM_PARTIALS * 4,
      usage: storage,
    });
    this.normSquared = device.createBuffer({ label: "adamw.norm_sq", size: 16, usage: storage });
    this.uniform = device.createBuffer({
      label: "adamw.step",
      size: Math.ceil((ADAMW_UNIFORM_FIELDS.length * 4) / 16) * 16,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    const pipeline = (label: string, code: string) =>
      device.createComputePipeline({
        label,
        layout: "auto",
        compute: { module: device.createShaderModule({ label, code }), entryPoint: "main" },
      });
    const squares = pipeline("adamw.grad_squares", modules.gradSquares);
    const finish = pipeline("adamw.grad_norm", modules.gradNormFinish);
    const update = pipeline("adamw.update", modules.update);
    const dispatch = (
      label: string,
      on: GPUComputePipeline,
      bindings: GPUBufferBinding[],
      workgroups: [number, number, number],
    ): Dispatch => ({
      pipeline: on,
      bindGroup: device.createBindGroup({
        label,
        layout: on.getBindGroupLayout(0),
        entries: bindings.map((resource, binding) => ({ binding, resource })),
      }),
      workgroups,
    });
    /** elements [start, start + length) of a flat f32 array */
    const range = (b: GPUBufferBinding, { start, length }: AdamwChunk): GPUBufferBinding => ({
      buffer: b.buffer,
      offset: (b.offset ?? 0) + start * 4,
      size: length * 4,
    });
    /** the decay-mask words of a chunk (chunks start at multiples of 32 elements) */
    const maskRange = (b: GPUBufferBinding, { start, length }: AdamwChunk): GPUBufferBinding => ({
      buffer: b.buffer,
      offset: (b.offset ?? 0) + (start / 32) * 4,
      size: Math.ceil(length / 32) * 4,
    });
    const whole = (buffer: GPUBuffer): GPUBufferBinding => ({ buffer });
    const named = (stage: string, c: number) =>
      this.chunks.length === 1 ? stage : `${stage} chunk ${c + 1}/${this.chunks.length}`;
    this.dispatches = [
      ...this.chunks.map((chunk, c) =>
        dispatch(
          named("adamw.grad_squares", c),
          squares,
          [
            range(buffers.grads, chunk),
            { buffer: this.partials, offset: c * ADAMW_NORM_PARTIALS * 4, size: ADAMW_NORM_PARTIALS * 4 },
          ],
          [ADAMW_NORM_PARTIALS, 1, 1],
        ),
      ),
      dispatch("adamw.grad_norm", finish, [whole(this.partials), whole(this.normSquared)], [1, 1, 1]),
      ...this.chunks.map((chunk, c) =>
        dispatch(
          named("adamw.update", c),
          update,
          [
            range(buffers.params, chunk),
            range(buffers.grads, chunk),
            range(buffers.m, chunk),
            range(buffers.v, chunk),
            maskRange(buffers.decayMask, chunk),
            whole(this.normSquared),
            whole(this.uniform),
          ],
          spreadWorkgroups(chunk.length, ADAMW_WORKGROUP_SIZE),
        ),
      ),
    ];
  }

  /**
   * encodes the step at 1-based `t` with learning rate `lr` (from the schedule) into `encoder`.
   * The step's uniform is written through the queue, so submit each step before encoding the next.
   */
  encode(encoder: GPUCommandEncoder, t: number, lr: number): void {
    if (!Number.isInteger(t) || t < 1) throw new Error(`AdamW step must be a positive integer, got ${t}`);
    throwIfDeviceFailed(this.device, "the AdamW step");
    const h = this.hyper;
    const values: Record<(typeof ADAMW_UNIFORM_FIELDS)[number], number> = {
      lr,
      beta1: h.beta1,
      beta2: h.beta2,
      eps: h.eps,
      weight_decay: h.weightDecay,
      clip: h.clip,
      correction1: 1 - Math.pow(h.beta1, t),
      correction2: 1 - Math.pow(h.beta2, t),
    };
    this.device.queue.writeBuffer(
      this.uniform,
      0,
      Float32Array.from(ADAMW_UNIFORM_FIELDS.map((f) => values[f])),
    );
    const pass = encoder.beginComputePass({ label: "adamw" });
    for (const p of this.dispatches) {
      pass.setPipeline(p.pipeline);
      pass.setBindGroup(0, p.bindGroup);
      pass.dispatchWorkgroups(...p.workgroups);
    }
    pass.end();
  }

  step(t: number, lr: number): void {
    const encoder = this.device.createCommandEncoder({ label: "adamw" });
    this.encode(encoder, t, lr);
    this.device.queue.submit([encoder.finish()]);
  }

  destroy(): void {
    this.partials.destroy();
    this.normSquared.destroy();
    this.uniform.destroy();
  }
}
