// WGSL for the fused AdamW step over the flat parameter array: a two-stage sum of squared
// gradients (partials per workgroup, then one workgroup) leaves the squared global norm on the
// device, and the update kernel reads it, so clipping needs no readback.
//
// The flat arrays can exceed the device's maxStorageBufferBindingSize (a 50M-parameter model's
// 200 MB on a 128 MiB limit), so the walk is split into chunks, each bound as a range of the
// buffers: stage 1 and the update run once per chunk and take the chunk's length from the bound
// range (arrayLength), so one pipeline serves every chunk. Stage 1 of chunk c writes its own
// ADAMW_NORM_PARTIALS partial sums at c * ADAMW_NORM_PARTIALS; stage 2 sums the partials of every
// chunk, so the norm is over all parameters before any chunk is updated.

import {
  ADAMW_NORM_PARTIALS,
  ADAMW_UNIFORM_FIELDS,
  ADAMW_WORKGROUP_SIZE,
  type AdamwModules,
} from "../../../format/training.js";
import { u32Constants } from "../wgsl.js";

const TREE_SUM = `var<workgroup> partial: array<f32, WORKGROUP_SIZE>;

fn workgroup_total(value: f32, lane: u32) -> f32 {
  partial[lane] = value;
  workgroupBarrier();
  for (var stride = WORKGROUP_SIZE / 2u; stride > 0u; stride = stride / 2u) {
    if (lane < stride) { partial[lane] += partial[lane + stride]; }
    workgroupBarrier();
  }
  return partial[0];
}`;

/**
 * stage 1, dispatched as ADAMW_NORM_PARTIALS workgroups per chunk: each sums squares over a
 * grid-stride range of the chunk bound as `grads`, into the chunk's range of the partials
 */
export function gradSquaresWgsl(): string {
  return `${u32Constants({ WORKGROUP_SIZE: ADAMW_WORKGROUP_SIZE, PARTIALS: ADAMW_NORM_PARTIALS })}
@group(0) @binding(0) var<storage, read> grads: array<f32>;
@group(0) @binding(1) var<storage, read_write> partials: array<f32>;

${TREE_SUM}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) workgroup: vec3u, @builtin(local_invocation_index) lane: u32) {
  let count = arrayLength(&grads);
  var sum = 0.0;
  for (var i = workgroup.x * WORKGROUP_SIZE + lane; i < count; i += PARTIALS * WORKGROUP_SIZE) {
    let g = grads[i];
    sum += g * g;
  }
  let block = workgroup_total(sum, lane);
  if (lane == 0u) { partials[workgroup.x] = block; }
}`;
}

/** stage 2, one workgroup: norm_sq[0] = sum of every chunk's partials (the whole bound array) */
export function gradNormFinishWgsl(): string {
  return `${u32Constants({ WORKGROUP_SIZE: ADAMW_WORKGROUP_SIZE })}
@group(0) @binding(0) var<storage, read> partials: array<f32>;
@group(0) @binding(1) var<storage, read_write> norm_sq: array<f32>;

${TREE_SUM}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) lane: u32) {
  let count = arrayLength(&partials);
  var sum = 0.0;
  for (var i = lane; i < count; i += WORKGROUP_SIZE) { sum += partials[i]; }
  let total = workgroup_total(sum, lane);
  if (lane == 0u) { norm_sq[0] = total; }
}`;
}

/**
 * one invocation per element of the chunk bound as params, grads, m and v (decay_mask bound from
 * the chunk's first word: chunks start at multiples of 32 elements); dispatch ceil(chunk / 256)
 * workgroups, spread over x and y
 */
export function adamwUpdateWgsl(): string {
  const fields = ADAMW_UNIFORM_FIELDS.map((f) => `  ${f}: f32,`).join("\n");
  return `${u32Constants({ WORKGROUP_SIZE: ADAMW_WORKGROUP_SIZE })}
struct Step {
${fields}
}
@group(0) @binding(0) var<storage, read_write> params: array<f32>;
@group(0) @binding(1) var<storage, read> grads: array<f32>;
@group(0) @binding(2) var<storage, read_write> m: array<f32>;
@group(0) @binding(3) var<storage, read_write> v: array<f32>;
@group(0) @binding(4) var<storage, read> decay_mask: array<u32>;
@group(0) @binding(5) var<storage, read> norm_sq: array<f32>;
@group(0) @binding(6) var<uniform> step: Step;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) workgroup: vec3u, @builtin(num_workgroups) workgroup_count: vec3u, @builtin(local_invocation_index) lane: u32) {
  let i = (workgroup.y * workgroup_count.x + workgroup.x) * WORKGROUP_SIZE + lane;
  if (i >= arrayLength(&params)) { return; }
  let norm = sqrt(norm_sq[0]);
  let scale = select(1.0, step.clip / norm, step.clip > 0.0 && norm > step.clip);
  let g = grads[i] * scale;
  let m_next = step.beta1 * m[i] + (1.0 - step.beta1) * g;
  let v_next = step.beta2 * v[i] + (1.0 - step.beta2) * g * g;
  m[i] = m_next;
  v[i] = v_next;
  let decays = ((decay_mask[i >> 5u] >> (i & 31u)) & 1u) == 1u;
  let p = select(params[i], params[i] * (1.0 - step.lr * step.weight_decay), decays);
  params[i] = p - step.lr * (m_next / step.correction1) / (sqrt(v_next / step.correction2) + step.eps);
}`;
}

/** the three modules of the AdamW step, as a training program carries them */
export function adamwModules(): AdamwModules {
  return { gradSquares: gradSquaresWgsl(), gradNormFinish: gradNormFinishWgsl(), update: adamwUpdateWgsl() };
}
