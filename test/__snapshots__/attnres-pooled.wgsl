// layers.1.attnres: attnres
// computes %11; writes %11
// Every binding is read_write: values share pooled buffers, and WebGPU rejects a dispatch that
// uses one buffer both read-only and writable, even on disjoint ranges.

@group(0) @binding(0) var<storage, read_write> param_pool: array<f32>; // query %9 at 0, key_gain %10 at 64
@group(0) @binding(1) var<storage, read_write> input_pool: array<f32>; // source0 %0 at 0
@group(0) @binding(2) var<storage, read_write> output_pool: array<f32>; // out %11 at 0
@group(0) @binding(3) var<storage, read_write> scratch0_pool: array<f32>; // source1 %1 at 0, source2 %2 at 64
@group(0) @binding(4) var<storage, read_write> scratch1_pool: array<f32>; // source3 %3 at 0, source4 %4 at 64
@group(0) @binding(5) var<storage, read_write> scratch2_pool: array<f32>; // source5 %5 at 0, source6 %6 at 64
@group(0) @binding(6) var<storage, read_write> scratch3_pool: array<f32>; // source7 %7 at 0, source8 %8 at 64

const ROWS: u32 = 3u;
const DIM: u32 = 8u;
const SOURCES: u32 = 9u;
const QUERY_SIZE: u32 = 8u;
const GAIN_SIZE: u32 = 8u;
const WORKGROUP_SIZE: u32 = 32u;
const PER_LANE: u32 = 1u;
const EPS: f32 = 0.000001;

var<workgroup> partial_sums: array<vec2f, 32>;

fn workgroup_sum(value: vec2f, lane: u32) -> vec2f {
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

fn source_at(i: u32, at: u32) -> f32 {
  switch i {
    case 0u: { return input_pool[0u + (at)]; }
    case 1u: { return scratch0_pool[0u + (at)]; }
    case 2u: { return scratch0_pool[64u + (at)]; }
    case 3u: { return scratch1_pool[0u + (at)]; }
    case 4u: { return scratch1_pool[64u + (at)]; }
    case 5u: { return scratch2_pool[0u + (at)]; }
    case 6u: { return scratch2_pool[64u + (at)]; }
    case 7u: { return scratch3_pool[0u + (at)]; }
    case 8u: { return scratch3_pool[64u + (at)]; }
    default: { return 0.0; }
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) workgroup: vec3u, @builtin(num_workgroups) workgroup_count: vec3u, @builtin(local_invocation_index) lane: u32) {
  let row = (workgroup.y * workgroup_count.x + workgroup.x);
  if (row >= ROWS) { return; }
  let base = row * DIM;
  var acc: array<f32, PER_LANE>;
  var running_max = -3.0e38;
  var running_sum = 0.0;
  let source_count = SOURCES;
  for (var i = 0u; i < source_count; i = i + 1u) {
    var row_values: array<f32, PER_LANE>;
    var partial = vec2f(0.0); // (sum of squares, key-weighted dot with the query)
    for (var k = 0u; k < PER_LANE; k = k + 1u) {
      let j = lane + k * WORKGROUP_SIZE;
      if (j < DIM) {
        let value = source_at(i, base + j);
        row_values[k] = value;
        partial = partial + vec2f(value * value, param_pool[0u + (base % QUERY_SIZE + j)] * param_pool[64u + (base % GAIN_SIZE + j)] * value);
      }
    }
    let totals = workgroup_sum(partial, lane);
    let logit = totals.y * inverseSqrt(totals.x / f32(DIM) + EPS);
    let new_max = max(running_max, logit);
    let correction = exp(running_max - new_max);
    let weight = exp(logit - new_max);
    running_sum = running_sum * correction + weight;
    running_max = new_max;
    for (var k = 0u; k < PER_LANE; k = k + 1u) { acc[k] = acc[k] * correction + weight * row_values[k]; }
  }
  for (var k = 0u; k < PER_LANE; k = k + 1u) {
    let j = lane + k * WORKGROUP_SIZE;
    if (j < DIM) {
      output_pool[0u + (base + j)] = acc[k] / running_sum;
    }
  }
}
