// layers.1.attnres: attnres
// computes %5; writes %5
// Every binding is read_write: values share pooled buffers, and WebGPU rejects a dispatch that
// uses one buffer both read-only and writable, even on disjoint ranges.

@group(0) @binding(0) var<storage, read_write> source0: array<f32>; // input x
@group(0) @binding(1) var<storage, read_write> source1: array<f32>; // %1 scale
@group(0) @binding(2) var<storage, read_write> source2: array<f32>; // %2 scale
@group(0) @binding(3) var<storage, read_write> query: array<f32>; // param layers.1.attnres.query
@group(0) @binding(4) var<storage, read_write> key_gain: array<f32>; // param layers.1.attnres.key_norm
@group(0) @binding(5) var<storage, read_write> out: array<f32>; // %5 attnres

const ROWS: u32 = 3u;
const DIM: u32 = 8u;
const SOURCES: u32 = 3u;
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
    case 0u: { return source0[at]; }
    case 1u: { return source1[at]; }
    case 2u: { return source2[at]; }
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
        partial = partial + vec2f(value * value, query[base % QUERY_SIZE + j] * key_gain[base % GAIN_SIZE + j] * value);
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
      out[base + j] = acc[k] / running_sum;
    }
  }
}
