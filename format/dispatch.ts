// How a kernel's linear workgroup number maps onto a dispatch grid. WGSL kernels read it back as
// (workgroup.y * workgroup_count.x + workgroup.x) (compiler/codegen/wgsl.ts); the runtime sizes
// the dispatches it decides itself, such as the optimizer's per-chunk walks, by the same rule.

/** WebGPU's guaranteed maxComputeWorkgroupsPerDimension */
export const MAX_WORKGROUPS_PER_DIMENSION = 65535;

/**
 * Workgroups for `count` independent work items, `perGroup` to a workgroup. Large counts spill
 * into the y dimension because x alone stops at 65535 workgroups.
 */
export function spreadWorkgroups(count: number, perGroup = 1): [number, number, number] {
  const groups = Math.max(1, Math.ceil(count / perGroup));
  const x = Math.min(groups, MAX_WORKGROUPS_PER_DIMENSION);
  return [x, Math.ceil(groups / x), 1];
}
