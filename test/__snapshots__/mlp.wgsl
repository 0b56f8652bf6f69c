// layers.0.mlp: rmsnorm_matmul + gelu
// computes %4, %5; writes %5
// Every binding is read_write: values share pooled buffers, and WebGPU rejects a dispatch that
// uses one buffer both read-only and writable, even on disjoint ranges.

@group(0) @binding(0) var<storage, read_write> x: array<f32>; // input x
@group(0) @binding(1) var<storage, read_write> gain: array<f32>; // param layers.0.mlp.norm
@group(0) @binding(2) var<storage, read_write> w: array<f32>; // param layers.0.mlp.w1
@group(0) @binding(3) var<storage, read_write> out: array<f32>; // %5 gelu

fn gelu(x: f32) -> f32 {
  // tanh form (GPT-2); the clamp keeps tanh away from the inf/inf some drivers compute for big inputs
  let inner = clamp(0.7978845608028654 * (x + 0.044715 * x * x * x), -15.0, 15.0);
  return 0.5 * x * (1.0 + tanh(inner));
}

// the fused epilogue: elementwise ops applied to each element i before it is stored
fn finish(i: u32, anchor_value: f32) -> f32 {
  var v = anchor_value;
  v = gelu(v); // gelu %5
  return v;
}

const M: u32 = 10u;
const N: u32 = 12u;
const K: u32 = 8u;
const ROWS: u32 = 4u;
const COLUMNS: u32 = 64u;
const SLICES: u32 = 4u;

var<workgroup> partial: array<f32, 1024>; // [slice][row][column]
var<workgroup> row_squares: array<f32, 16>; // [slice][row]: sums of x^2

fn load_a(i: u32, k: u32) -> f32 {
  if (i >= M || k >= K) { return 0.0; }
  return x[i * K + k];
}

fn load_b(k: u32, j: u32) -> f32 {
  if (k >= K || j >= N) { return 0.0; }
  return w[k * N + j] * load_gain(k);
}

const EPS: f32 = 0.00001;

fn load_gain(k: u32) -> f32 {
  if (k >= K) { return 0.0; }
  return gain[k];
}

@compute @workgroup_size(64, 4)
fn main(@builtin(workgroup_id) workgroup: vec3u, @builtin(local_invocation_id) local: vec3u) {
  let j = workgroup.x * COLUMNS + local.x;
  let row0 = workgroup.y * ROWS;
  let slice = local.y;
  var acc: array<f32, ROWS>;
  var squares: array<f32, ROWS>;
  for (var k = slice; k < K; k = k + SLICES) {
    let b_value = load_b(k, j); // the gain's already in
    for (var r = 0u; r < ROWS; r = r + 1u) {
      let a_value = load_a(row0 + r, k);
      squares[r] = squares[r] + a_value * a_value;
      acc[r] = acc[r] + a_value * b_value;
    }
  }
  for (var r = 0u; r < ROWS; r = r + 1u) { partial[(slice * ROWS + r) * COLUMNS + local.x] = acc[r]; }
  // every column of a slice summed the same squares: one of them records them
  if (local.x == 0u) {
    for (var r = 0u; r < ROWS; r = r + 1u) { row_squares[slice * ROWS + r] = squares[r]; }
  }
  workgroupBarrier();
  if (slice == 0u && j < N) {
    for (var r = 0u; r < ROWS; r = r + 1u) {
      let i = row0 + r;
      if (i < M) {
        var total = 0.0;
        for (var s = 0u; s < SLICES; s = s + 1u) { total = total + partial[(s * ROWS + r) * COLUMNS + local.x]; }
        var row_sum = 0.0;
        for (var s = 0u; s < SLICES; s = s + 1u) { row_sum = row_sum + row_squares[s * ROWS + r]; }
        total = total * inverseSqrt(row_sum / f32(K) + EPS);
        let at = i * N + j;
        out[at] = finish(at, total);
      }
    }
  }
}

// ----
// layers.0.mlp: matmul + add
// computes %6, %7; writes %7
// Every binding is read_write: values share pooled buffers, and WebGPU rejects a dispatch that
// uses one buffer both read-only and writable, even on disjoint ranges.

@group(0) @binding(0) var<storage, read_write> a: array<f32>; // %5 gelu
@group(0) @binding(1) var<storage, read_write> b: array<f32>; // param layers.0.mlp.w2
@group(0) @binding(2) var<storage, read_write> epilogue_operand2: array<f32>; // input x
@group(0) @binding(3) var<storage, read_write> out: array<f32>; // %7 add

// the fused epilogue: elementwise ops applied to each element i before it is stored
fn finish(i: u32, anchor_value: f32) -> f32 {
  var v = anchor_value;
  v = v + epilogue_operand2[i]; // add %7
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
