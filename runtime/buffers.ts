// Device memory for an executable: checks the plan against the device's limits before anything
// is allocated, then creates one GPU buffer per pool.

import type { Executable, PoolUsage } from "../format/archx.js";

export class DeviceLimitError extends Error {}

export interface RelevantLimits {
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
  maxStorageBuffersPerShaderStage: number;
  maxComputeWorkgroupStorageSize: number;
  maxComputeWorkgroupsPerDimension: number;
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1 << 30) return `${(bytes / (1 << 30)).toFixed(bytes % (1 << 30) === 0 ? 0 : 1)} GiB`;
  if (bytes >= 1 << 20) return `${(bytes / (1 << 20)).toFixed(bytes % (1 << 20) === 0 ? 0 : 1)} MiB`;
  if (bytes >= 1 << 10) return `${(bytes / (1 << 10)).toFixed(bytes % (1 << 10) === 0 ? 0 : 1)} KiB`;
  return `${bytes} B`;
}

/** every reason the executable cannot run on a device with these limits (empty when it can) */
export function limitViolations(exe: Executable, limits: RelevantLimits): string[] {
  const problems: string[] = [];
  for (const value of exe.values)
    if (value.size > limits.maxStorageBufferBindingSize)
      problems.push(
        `buffer for ${value.label} needs ${formatBytes(value.size)}; this device allows ${formatBytes(limits.maxStorageBufferBindingSize)} per storage binding`,
      );
  for (const pool of exe.pools)
    if (pool.size > limits.maxBufferSize)
      problems.push(
        `the ${pool.usage} pool needs ${formatBytes(pool.size)}; this device allows ${formatBytes(limits.maxBufferSize)} per buffer`,
      );
  for (const kernel of exe.kernels) {
    for (const binding of kernel.bindings) {
      if (!("pool" in binding)) continue;
      const { usage, size: poolSize } = exe.pools[binding.pool];
      const bytes = binding.size ?? poolSize;
      if (bytes > limits.maxStorageBufferBindingSize)
        problems.push(
          `kernel ${kernel.name} binds ${binding.size === undefined ? "the whole" : `${formatBytes(bytes)} of the`} ${usage} pool${binding.size === undefined ? `, ${formatBytes(bytes)}` : ""}; this device allows ${formatBytes(limits.maxStorageBufferBindingSize)} per storage binding`,
        );
    }
    if (kernel.bindings.length > limits.maxStorageBuffersPerShaderStage)
      problems.push(
        `kernel ${kernel.name} binds ${kernel.bindings.length} storage buffers; this device allows ${limits.maxStorageBuffersPerShaderStage} per kernel`,
      );
    if (kernel.workgroups.some((n) => n > limits.maxComputeWorkgroupsPerDimension))
      problems.push(
        `kernel ${kernel.name} dispatches [${kernel.workgroups}] workgroups; this device allows ${limits.maxComputeWorkgroupsPerDimension} per dimension`,
      );
  }
  if (exe.requirements.workgroupStorageBytes > limits.maxComputeWorkgroupStorageSize)
    problems.push(
      `a kernel needs ${formatBytes(exe.requirements.workgroupStorageBytes)} of workgroup memory; this device allows ${formatBytes(limits.maxComputeWorkgroupStorageSize)}`,
    );
  return problems;
}

export function checkLimits(exe: Executable, limits: RelevantLimits): void {
  const problems = limitViolations(exe, limits);
  if (problems.length > 0) {
    const parameters = exe.params.reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0);
    throw new DeviceLimitError(
      `${exe.model} (${parameters.toLocaleString("en-US")} parameters, ${formatBytes(parameters * 4)} of f32 weights) does not fit this device:\n  ${problems.join("\n  ")}`,
    );
  }
}

// A device can carry a storage-binding limit below its own (openDevice's maxStorageBindingBytes):
// WebGPU cannot request a limit below the default, and tests need small limits to exercise the
// paths that split work into bindable ranges.
const bindingLimits = new WeakMap<GPUDevice, number>();

export function setStorageBindingLimit(device: GPUDevice, bytes: number): void {
  if (!Number.isInteger(bytes) || bytes < 4)
    throw new RangeError(`a storage binding limit must be a whole number of bytes >= 4, got ${bytes}`);
  bindingLimits.set(device, bytes);
}

/** the largest storage binding archc's kernels may use on this device, in bytes */
export function storageBindingLimit(device: GPUDevice): number {
  const own = Number(device.limits.maxStorageBufferBindingSize);
  const set = bindingLimits.get(device);
  return set === undefined ? own : Math.min(own, set);
}

export function limitsOf(device: GPUDevice): RelevantLimits {
  const l = device.limits;
  return {
    maxStorageBufferBindingSize: storageBindingLimit(device),
    maxBufferSize: Number(l.maxBufferSize),
    maxStorageBuffersPerShaderStage: Number(l.maxStorageBuffersPerShaderStage),
    maxComputeWorkgroupStorageSize: Number(l.maxComputeWorkgroupStorageSize),
    maxComputeWorkgroupsPerDimension: Number(l.maxComputeWorkgroupsPerDimension),
  };
}

export function allocatePools(
  device: GPUDevice,
  exe: Executable,
  shared: Partial<Record<PoolUsage, GPUBuffer>> = {},
): GPUBuffer[] {
  checkLimits(exe, limitsOf(device));
  return exe.pools.map(
    (pool) =>
      shared[pool.usage] ??
      device.createBuffer({
        label: `archx ${pool.usage} pool`,
        size: pool.size,
        usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC,
      }),
  );
}
