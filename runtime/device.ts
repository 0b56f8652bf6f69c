// Opening a WebGPU device through Dawn: a hardware adapter when there is one, otherwise the
// software Vulkan driver (lavapipe or SwiftShader). Dawn's null backend executes nothing, so it is
// refused outright. withDevice() guarantees the device is destroyed, because dawn.node keeps the
// process alive while GPU objects exist.

import { existsSync } from "node:fs";
import { create, globals } from "webgpu";

export class DeviceError extends Error {}

export const SETUP_HINT =
  "install a software Vulkan driver with `bash scripts/setup-vulkan.sh` (Mesa lavapipe)";

const LIMITS_THAT_MATTER = [
  "maxComputeWorkgroupStorageSize",
  "maxStorageBufferBindingSize",
  "maxBufferSize",
  "maxComputeInvocationsPerWorkgroup",
  "maxStorageBuffersPerShaderStage",
  "minStorageBufferOffsetAlignment",
] as const;

const FEATURES_THAT_MATTER = ["subgroups", "shader-f16", "timestamp-query"] as const;

export interface AdapterDescription {
  name: string;
  vendor: string;
  architecture: string;
  driver: string;
  software: boolean;
  features: Record<(typeof FEATURES_THAT_MATTER)[number], boolean>;
  limits: Record<(typeof LIMITS_THAT_MATTER)[number], number>;
}

export interface GpuContext {
  adapter: GPUAdapter;
  device: GPUDevice;
  description: AdapterDescription;
}

let gpuInstance: GPU | undefined;

function gpu(): GPU {
  if (!gpuInstance) {
    Object.assign(globalThis, globals);
    gpuInstance = create([]);
  }
  return gpuInstance;
}

const SOFTWARE_NAMES = /llvmpipe|lavapipe|swiftshader|software|microsoft basic render/i;

export function isNullBackend(info: GPUAdapterInfo): boolean {
  return (
    /null/i.test(`${info.vendor} ${info.architecture} ${info.description}`) &&
    !SOFTWARE_NAMES.test(info.description)
  );
}

export function describeAdapter(adapter: GPUAdapter): AdapterDescription {
  const info = adapter.info;
  const software =
    SOFTWARE_NAMES.test(`${info.description} ${info.architecture}`) ||
    (info as { isFallbackAdapter?: boolean }).isFallbackAdapter === true;
  const limits = {} as AdapterDescription["limits"];
  for (const key of LIMITS_THAT_MATTER) limits[key] = Number(adapter.limits[key]);
  const features = {} as AdapterDescription["features"];
  for (const key of FEATURES_THAT_MATTER) features[key] = adapter.features.has(key);
  return {
    name: info.description || info.device || "(unnamed adapter)",
    vendor: info.vendor,
    architecture: info.architecture,
    driver: info.description,
    software,
    features,
    limits,
  };
}

/** the Vulkan ICD files of software drivers present on this machine, lavapipe first */
function softwareDriverFiles(): string[] {
  const candidates = [
    "/usr/share/vulkan/icd.d/lvp_icd.x86_64.json",
    "/usr/share/vulkan/icd.d/lvp_icd.json",
    "/usr/lib/chromium/vk_swiftshader_icd.json",
  ];
  return candidates.filter((path) => existsSync(path));
}

/** every adapter Dawn offers for the two power preferences, without duplicates */
export async function listAdapters(): Promise<AdapterDescription[]> {
  const found: AdapterDescription[] = [];
  for (const powerPreference of ["high-performance", "low-power"] as const) {
    const adapter = await gpu().requestAdapter({ powerPreference });
    if (!adapter || isNullBackend(adapter.info)) continue;
    const description = describeAdapter(adapter);
    if (!found.some((d) => d.name === description.name && d.driver === description.driver))
      found.push(description);
  }
  return found;
}

async function pickAdapter(): Promise<GPUAdapter> {
  const hardware = await gpu().requestAdapter({ powerPreference: "high-performance" });
  if (hardware && !isNullBackend(hardware.info)) return hardware;
  // Dawn saw no usable adapter: point the Vulkan loader at a software driver (when the user has
  // not chosen one) and ask again. The loader reads the variable when Dawn creates its instance.
  if (!process.env.VK_ICD_FILENAMES && !process.env.VK_DRIVER_FILES) {
    const files = softwareDriverFiles();
    if (files.length > 0) {
      process.env.VK_ICD_FILENAMES = files[0];
      gpuInstance = undefined;
      const software = await gpu().requestAdapter({ forceFallbackAdapter: false });
      if (software && !isNullBackend(software.info)) return software;
    }
  }
  if (hardware && isNullBackend(hardware.info))
    throw new DeviceError(`only Dawn's null backend is available, which executes nothing; ${SETUP_HINT}`);
  throw new DeviceError(`no WebGPU adapter found (no GPU driver, no software Vulkan); ${SETUP_HINT}`);
}

/** opens a device with the adapter's own limits for the resources kernels use most */
export async function openDevice(): Promise<GpuContext> {
  const adapter = await pickAdapter();
  const description = describeAdapter(adapter);
  const requiredLimits: Record<string, number> = {};
  for (const key of LIMITS_THAT_MATTER)
    if (key !== "minStorageBufferOffsetAlignment") requiredLimits[key] = description.limits[key];
  const device = await adapter.requestDevice({ requiredLimits });
  if (!device) throw new DeviceError(`the adapter ${description.name} refused to create a device`);
  return { adapter, device, description };
}

/** runs fn with a fresh device and always destroys the device afterwards */
export async function withDevice<T>(fn: (gpu: GpuContext) => Promise<T>): Promise<T> {
  const context = await openDevice();
  try {
    return await fn(context);
  } finally {
    context.device.destroy();
  }
}

export function describeKind(d: AdapterDescription): string {
  return d.software ? "software" : "hardware";
}
