// A device for profiling: the adapter openDevice() picks, opened again with the `timestamp-query`
// feature when the adapter has it (openDevice requests no optional features). WebGPU adapters are
// single-use, so the second device comes from a fresh adapter of a fresh instance; the software
// driver's selection (VK_ICD_FILENAMES) made by the first call still applies to it.

import { create } from "webgpu";
import { describeAdapter, isNullBackend, openDevice, watchDevice, type GpuContext } from "../device.js";

/**
 * the instance the profiling devices come from. It must outlive them: Dawn's node binding delivers
 * a device's callbacks (compilation info, buffer maps) through its instance, and a collected
 * instance leaves them unanswered.
 */
let profilingInstance: GPU | undefined;

export interface ProfilingContext extends GpuContext {
  /** per-dispatch GPU timestamps are available (the device was opened with timestamp-query) */
  timestamps: boolean;
}

/** opens a device like openDevice(), with timestamp queries when the adapter offers them and `want` allows */
export async function openProfilingDevice(want = true): Promise<ProfilingContext> {
  const plain = await openDevice();
  if (!want || !plain.description.features["timestamp-query"]) return { ...plain, timestamps: false };
  const { name, driver, limits } = plain.description;
  plain.device.destroy();
  try {
    profilingInstance ??= create([]);
    const adapter = await profilingInstance.requestAdapter({ powerPreference: "high-performance" });
    if (adapter && !isNullBackend(adapter.info) && adapter.features.has("timestamp-query")) {
      const description = describeAdapter(adapter);
      if (description.name === name && description.driver === driver) {
        const requiredLimits: Record<string, number> = {};
        for (const [key, value] of Object.entries(limits))
          if (key !== "minStorageBufferOffsetAlignment") requiredLimits[key] = value;
        const device = await adapter.requestDevice({ requiredLimits, requiredFeatures: ["timestamp-query"] });
        if (device) {
          watchDevice(device);
          return { adapter, device, description, timestamps: true };
        }
      }
    }
  } catch {
    // fall through: profile with separate submissions instead
  }
  return { ...(await openDevice()), timestamps: false };
}
