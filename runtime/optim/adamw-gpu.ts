// Runs the fused AdamW step on the device over flat params/grads/m/v buffers. Each step writes
// one small uniform (lr from the host schedule, bias corrections) and encodes three dispatches;
// nothing is read back unless the caller asks for the gradient norm.

import {
  ADAMW_NORM_PARTIALS,
  ADAMW_UNIFORM_FIELDS,
  ADAMW_WORKGROUP_SIZE,
  adamwUpdateWgsl,
  gradNormFinishWgsl,
  gradSquaresWgsl,
} from "../../compiler/codegen/kernels/adamw.js";
import { spreadWorkgroups } from "../../compiler/codegen/wgsl.js";
import type { AdamwHyper } from "./adamw.js";

export interface AdamwDeviceBuffers {
  params: GPUBufferBinding;
  grads: GPUBufferBinding;
  m: GPUBufferBinding;
  v: GPUBufferBinding;
  /** the layout's decayMask(), one bit per element */
  decayMask: GPUBufferBinding;
}

export class GpuAdamw {
  private readonly partials: GPUBuffer;
  /** the squared global gradient norm of the last step, f32[1] (COPY_SRC for logging) */
  readonly normSquared: GPUBuffer;
  private readonly uniform: GPUBuffer;
  /** bytes of the optimizer's own small buffers (partial sums, norm, step uniform) */
  get deviceBytes(): number {
    return this.partials.size + this.normSquared.size + this.uniform.size;
  }

  private readonly passes: {
    pipeline: GPUComputePipeline;
    bindGroup: GPUBindGroup;
    workgroups: [number, number, number];
  }[];

  constructor(
    private readonly device: GPUDevice,
    readonly total: number,
    buffers: AdamwDeviceBuffers,
    private readonly hyper: AdamwHyper,
  ) {
    const storage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    this.partials = device.createBuffer({
      label: "adamw.partials",
      size: ADAMW_NORM_PARTIALS * 4,
      usage: storage,
    });
    this.normSquared = device.createBuffer({ label: "adamw.norm_sq", size: 16, usage: storage });
    this.uniform = device.createBuffer({
      label: "adamw.step",
      size: Math.ceil((ADAMW_UNIFORM_FIELDS.length * 4) / 16) * 16,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    const whole = (buffer: GPUBuffer): GPUBufferBinding => ({ buffer });
    const pass = (
      label: string,
      code: string,
      bindings: GPUBufferBinding[],
      workgroups: [number, number, number],
    ) => {
      const module = device.createShaderModule({ label, code });
      const pipeline = device.createComputePipeline({
        label,
        layout: "auto",
        compute: { module, entryPoint: "main" },
      });
      const bindGroup = device.createBindGroup({
        label,
        layout: pipeline.getBindGroupLayout(0),
        entries: bindings.map((resource, binding) => ({ binding, resource })),
      });
      return { pipeline, bindGroup, workgroups };
    };
    this.passes = [
      pass(
        "adamw.grad_squares",
        gradSquaresWgsl(total),
        [buffers.grads, whole(this.partials)],
        [ADAMW_NORM_PARTIALS, 1, 1],
      ),
      pass(
        "adamw.grad_norm",
        gradNormFinishWgsl(),
        [whole(this.partials), whole(this.normSquared)],
        [1, 1, 1],
      ),
      pass(
        "adamw.update",
        adamwUpdateWgsl(total),
        [
          buffers.params,
          buffers.grads,
          buffers.m,
          buffers.v,
          buffers.decayMask,
          whole(this.normSquared),
          whole(this.uniform),
        ],
        spreadWorkgroups(total, ADAMW_WORKGROUP_SIZE),
      ),
    ];
  }

  /**
   * encodes the step at 1-based `t` with learning rate `lr` (from the schedule) into `encoder`.
   * The step's uniform is written through the queue, so submit each step before encoding the next.
   */
  encode(encoder: GPUCommandEncoder, t: number, lr: number): void {
    if (!Number.isInteger(t) || t < 1) throw new Error(`AdamW step must be a positive integer, got ${t}`);
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
    for (const p of this.passes) {
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
