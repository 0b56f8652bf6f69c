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

const M: u32 = 20u;
const N: u32 = 12u;
const K: u32 = 8u;
const TILE_M: u32 = 64u;
const TILE_N: u32 = 64u;
const TILE_K: u32 = 16u;
const THREADS: u32 = 256u;
const BLOCK: u32 = 4u;

var<workgroup> a_tile: array<f32, 1024>; // [row][k]
var<workgroup> b_tile: array<f32, 1024>; // [k][col]

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

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) workgroup: vec3u, @builtin(local_invocation_id) local: vec3u, @builtin(local_invocation_index) lane: u32) {
  let row0 = workgroup.y * TILE_M;
  let col0 = workgroup.x * TILE_N;
  var acc: array<f32, 16>;
  var squares: array<f32, 4>; // each row's sum of x^2, for its RMS
  for (var k0 = 0u; k0 < K; k0 = k0 + TILE_K) {
    for (var e = lane; e < TILE_M * TILE_K; e = e + THREADS) {
      a_tile[e] = load_a(row0 + e / TILE_K, k0 + e % TILE_K);
    }
    for (var e = lane; e < TILE_K * TILE_N; e = e + THREADS) {
      b_tile[e] = load_b(k0 + e / TILE_N, col0 + e % TILE_N);
    }
    workgroupBarrier();
    for (var kk = 0u; kk < TILE_K; kk = kk + 1u) {
      var a_column: array<f32, 4>;
      for (var r = 0u; r < BLOCK; r = r + 1u) {
        // rows strided by 16 so neighbouring invocations read neighbouring words
        a_column[r] = a_tile[(local.y + r * 16u) * TILE_K + kk];
        squares[r] = squares[r] + a_column[r] * a_column[r];
      }
      for (var c = 0u; c < BLOCK; c = c + 1u) {
        let b_value = b_tile[kk * TILE_N + local.x + c * 16u];
        for (var r = 0u; r < BLOCK; r = r + 1u) {
          acc[r * BLOCK + c] = acc[r * BLOCK + c] + a_column[r] * b_value;
        }
      }
    }
    workgroupBarrier();
  }
  for (var r = 0u; r < BLOCK; r = r + 1u) {
    let i = row0 + local.y + r * 16u;
    let inverse_rms = inverseSqrt(squares[r] / f32(K) + EPS);
    for (var c = 0u; c < BLOCK; c = c + 1u) {
      let j = col0 + local.x + c * 16u;
      if (i < M && j < N) {
        let at = i * N + j;
        out[at] = finish(at, acc[r * BLOCK + c] * inverse_rms);
      }
    }
  }
}
