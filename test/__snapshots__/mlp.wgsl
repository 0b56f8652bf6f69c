// layers.0.mlp: rmsnorm
// computes %4; writes %4
// Every binding is read_write: values share pooled buffers, and WebGPU rejects a dispatch that
// uses one buffer both read-only and writable, even on disjoint ranges.

@group(0) @binding(0) var<storage, read_write> x: array<f32>; // input x
@group(0) @binding(1) var<storage, read_write> gain: array<f32>; // param layers.0.mlp.norm
@group(0) @binding(2) var<storage, read_write> out: array<f32>; // %4 rmsnorm

const ROWS: u32 = 10u;
const DIM: u32 = 8u;
const WORKGROUP_SIZE: u32 = 32u;
const EPS: f32 = 0.00001;

var<workgroup> partial_sums: array<f32, 32>;

fn workgroup_sum(value: f32, lane: u32) -> f32 {
  partial_sums[lane] = value;
  workgroupBarrier();
  for (var stride = 16u; stride > 0u; stride = stride / 2u) {
    if (lane < stride) {
      partial_sums[lane] = partial_sums[lane] + partial_sums[lane + stride];
    }
    workgroupBarrier();
  }
  let total = partial_sums[0];
  workgroupBarrier();
  return total;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) workgroup: vec3u, @builtin(num_workgroups) workgroup_count: vec3u, @builtin(local_invocation_index) lane: u32) {
  let row = (workgroup.y * workgroup_count.x + workgroup.x);
  if (row >= ROWS) { return; }
  let base = row * DIM;
  var squares = 0.0;
  for (var j = lane; j < DIM; j = j + WORKGROUP_SIZE) {
    let value = x[base + j];
    squares = squares + value * value;
  }
  let inv = inverseSqrt(workgroup_sum(squares, lane) / f32(DIM) + EPS);
  for (var j = lane; j < DIM; j = j + WORKGROUP_SIZE) {
    out[base + j] = x[base + j] * inv * gain[j];
  }
}

// ----
// layers.0.mlp: matmul + gelu
// computes %5, %6; writes %6
// Every binding is read_write: values share pooled buffers, and WebGPU rejects a dispatch that
// uses one buffer both read-only and writable, even on disjoint ranges.

@group(0) @binding(0) var<storage, read_write> a: array<f32>; // %4 rmsnorm
@group(0) @binding(1) var<storage, read_write> b: array<f32>; // param layers.0.mlp.w1
@group(0) @binding(2) var<storage, read_write> out: array<f32>; // %6 gelu

fn gelu(x: f32) -> f32 {
  // tanh form (GPT-2); the clamp keeps tanh away from the inf/inf some drivers compute for big inputs
  let inner = clamp(0.7978845608028654 * (x + 0.044715 * x * x * x), -15.0, 15.0);
  return 0.5 * x * (1.0 + tanh(inner));
}

// the fused epilogue: elementwise ops applied to each element i before it is stored
fn finish(i: u32, anchor_value: f32) -> f32 {
  var v = anchor_value;
  v = gelu(v); // gelu %6
  return v;
}

const M: u32 = 10u;
const N: u32 = 12u;
const K: u32 = 8u;
const ROWS: u32 = 4u;
const COLUMNS: u32 = 64u;
const SLICES: u32 = 4u;

var<workgroup> partial: array<f32, 1024>; // [slice][row][column]

fn load_a(i: u32, k: u32) -> f32 {
  if (i >= M || k >= K) { return 0.0; }
  return a[i * K + k];
}

fn load_b(k: u32, j: u32) -> f32 {
  if (k >= K || j >= N) { return 0.0; }
  return b[k * N + j];
}

@compute @workgroup_size(64, 4)
fn main(@builtin(workgroup_id) workgroup: vec3u, @builtin(local_invocation_id) local: vec3u) {
  let j = workgroup.x * COLUMNS + local.x;
  let row0 = workgroup.y * ROWS;
  let slice = local.y;
  var acc: array<f32, ROWS>;
  for (var k = slice; k < K; k = k + SLICES) {
    let b_value = load_b(k, j);
    for (var r = 0u; r < ROWS; r = r + 1u) { acc[r] = acc[r] + load_a(row0 + r, k) * b_value; }
  }
  for (var r = 0u; r < ROWS; r = r + 1u) { partial[(slice * ROWS + r) * COLUMNS + local.x] = acc[r]; }
  workgroupBarrier();
  if (slice == 0u && j < N) {
    for (var r = 0u; r < ROWS; r = r + 1u) {
      let i = row0 + r;
      if (i < M) {
        var total = 0.0;
        for (var s = 0u; s < SLICES; s = s + 1u) { total = total + partial[(s * ROWS + r) * COLUMNS + local.x]; }
        let at = i * N + j;
        out[at] = finish(at, total);
      }
    }
  }
}

// ----
// layers.0.mlp: matmul + add
// computes %7, %8; writes %8
// Every binding is read_write: values share pooled buffers, and WebGPU rejects a dispatch that
// uses one buffer both read-only and writable, even on disjoint ranges.

@group(0) @binding(0) var<storage, read_write> a: array<f32>; // %6 gelu
@group(0) @binding(1) var<storage, read_write> b: array<f32>; // param layers.0.mlp.w2
@group(0) @binding(2) var<storage, read_write> epilogue_operand2: array<f32>; // input x
@group(0) @binding(3) var<storage, read_write> out: array<f32>; // %8 add

// the fused epilogue: elementwise ops applied to each element i before it is stored
fn finish(i: u32, anchor_value: f32) -> f32 {
  var v = anchor_value;
  v = v + epilogue_operand2[i]; // add %8
  return v;
}

const M: u32 = 10u;
const N: u32 = 8u;
const K: u32 = 12u;
const ROWS: u32 = 4u;
const COLUMNS: u32 = 64u;
const SLICES: u32 = 4u;

var<workgroup> partial: array<f32, 1024>; // [slice][row][column]

fn load_a(i: u32, k: u32) -> f32 {
  if (i >= M || k >= K) { return 0.0; }
  return a[i * K + k];
}

fn load_b(k: u32, j: u32) -> f32 {
  if (k >= K || j >= N) { return 0.0; }
  return b[k * N + j];
}

@compute @workgroup_size(64, 4)
fn main(@builtin(workgroup_id) workgroup: vec3u, @builtin(local_invocation_id) local: vec3u) {
  let j = workgroup.x * COLUMNS + local.x;
  let row0 = workgroup.y * ROWS;
  let slice = local.y;
  var acc: array<f32, ROWS>;
  for (var k = slice; k < K; k = k + SLICES) {
    let b_value = load_b(k, j);
    for (var r = 0u; r < ROWS; r = r + 1u) { acc[r] = acc[r] + load_a(row0 + r, k) * b_value; }
  }
  for (var r = 0u; r < ROWS; r = r + 1u) { partial[(slice * ROWS + r) * COLUMNS + local.x] = acc[r]; }
  workgroupBarrier();
  if (slice == 0u && j < N) {
    for (var r = 0u; r < ROWS; r = r + 1u) {
      let i = row0 + r;
      if (i < M) {
        var total = 0.0;
        for (var s = 0u; s < SLICES; s = s + 1u) { total = total + partial[(s * ROWS + r) * COLUMNS + local.x]; }
        let at = i * N + j;
        out[at] = finish(at, total);
      }
    }
  }
}
