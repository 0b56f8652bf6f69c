// Opening a WebGPU device through Dawn: a hardware adapter when there is one, otherwise the
// software Vulkan driver (lavapipe or SwiftShader). Dawn's null backend executes nothing, so it is
// refused outright. withDevice() guarantees the device is destroyed, because dawn.node keeps the
// process alive while GPU objects exist.

import { existsSync } from "node:fs";
import { create, globals } from "webgpu";
import { setStorageBindingLimit } from "./buffers.js";

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

/**
 * what identifies the adapter openDevice() opens (vendor, architecture, device, description),
 * without opening a device: for choosing code tuned for it before compiling
 */
export async function defaultAdapterInfo(): Promise<GPUAdapterInfo> {
  return (await pickAdapter()).info;
}

export interface OpenDeviceOptions {
  /**
   * the largest storage binding archc's kernels may use, in bytes, when smaller than the device's
   * maxStorageBufferBindingSize. WebGPU cannot request a limit below the default, so tests set this
   * to exercise the chunked paths (the AdamW walk, the executor's limit check) on small models.
   */
  maxStorageBindingBytes?: number;
}

/** opens a device with the adapter's own limits for the resources kernels use most */
export async function openDevice(options: OpenDeviceOptions = {}): Promise<GpuContext> {
  const adapter = await pickAdapter();
  const description = describeAdapter(adapter);
  // Only the limits kernels use are raised to the adapter's maximum. (Dawn's two warnings about
  // "maxDynamic*BuffersPerPipelineLayout artificially reduced" on lavapipe come from its adapter
  // discovery, before any device is requested, not from these limits.)
  const requiredLimits: Record<string, number> = {};
  for (const key of LIMITS_THAT_MATTER)
    if (key !== "minStorageBufferOffsetAlignment") requiredLimits[key] = description.limits[key];
  const device = await adapter.requestDevice({ requiredLimits });
  if (!device) throw new DeviceError(`the adapter ${description.name} refused to create a device`);
  watchDevice(device);
  if (options.maxStorageBindingBytes !== undefined)
    setStorageBindingLimit(device, options.maxStorageBindingBytes);
  return { adapter, device, description };
}

/** runs fn with a fresh device and always destroys the device afterwards */
export async function withDevice<T>(
  fn: (gpu: GpuContext) => Promise<T>,
  options: OpenDeviceOptions = {},
): Promise<T> {
  const context = await openDevice(options);
  try {
    const result = await fn(context);
    throwIfDeviceFailed(context.device);
    return result;
  } finally {
    forgetDevice(context.device);
    context.device.destroy();
  }
}

// ---------------------------------------------------------------------------------------------
// Device errors are fatal. Dawn reports a validation or out-of-memory error of a call outside an
// error scope as an "uncapturederror" event (and prints it when nobody listens); the call itself
// goes on, and a command buffer that used the bad object is dropped at submit, so a readback
// returns zeros. Every device archc opens records the first such error (and a loss other than
// destroy()), and the points that hand results to the user (readbacks, the next encode of a
// step) throw it as a DeviceError. Checking costs a map lookup: nothing waits on the device.

export interface DeviceFault {
  kind: "validation" | "out-of-memory" | "internal" | "lost" | "error";
  message: string;
}

interface DeviceWatch {
  first?: DeviceFault;
  /** errors after the first */
  more: number;
}

const watches = new WeakMap<GPUDevice, DeviceWatch>();
/** watched devices not yet destroyed, for readbacks that do not name their device */
const liveWatches = new Map<GPUDevice, DeviceWatch>();

/** the longest Dawn message kept (its messages name the object and the call chain) */
const MESSAGE_LIMIT = 4000;

function faultKind(error: GPUError): DeviceFault["kind"] {
  const name = error?.constructor?.name ?? "";
  if (/Validation/.test(name)) return "validation";
  if (/OutOfMemory/.test(name)) return "out-of-memory";
  if (/Internal/.test(name)) return "internal";
  return "error";
}

function record(watch: DeviceWatch, fault: DeviceFault): void {
  if (watch.first) watch.more += 1;
  else watch.first = { kind: fault.kind, message: fault.message.trim().slice(0, MESSAGE_LIMIT) };
}

/**
 * records the device's first uncaptured error and any loss other than destroy(); openDevice does
 * this for every device it opens. Idempotent.
 */
export function watchDevice(device: GPUDevice): void {
  if (watches.has(device)) return;
  const watch: DeviceWatch = { more: 0 };
  watches.set(device, watch);
  liveWatches.set(device, watch);
  const onError = (event: Event) => {
    const error = (event as GPUUncapturedErrorEvent).error;
    record(watch, { kind: faultKind(error), message: error?.message ?? String(error) });
    // handled here: keeps Dawn from printing it as well
    event.preventDefault();
  };
  if (typeof device.addEventListener === "function") device.addEventListener("uncapturederror", onError);
  else device.onuncapturederror = onError;
  void device.lost.then((info) => {
    if (info.reason === "destroyed") liveWatches.delete(device);
    else
      record(watch, { kind: "lost", message: `the device was lost: ${info.message || "no reason given"}` });
  });
}

/** stops the unnamed-device checks of readMapped looking at this device (it is being destroyed) */
export function forgetDevice(device: GPUDevice): void {
  liveWatches.delete(device);
}

/** the first error the device reported outside an error scope, if any */
export function deviceFault(device: GPUDevice): DeviceFault | undefined {
  return watches.get(device)?.first;
}

function describeFault(fault: DeviceFault, more: number, during: string | undefined): string {
  const what =
    fault.kind === "lost"
      ? fault.message
      : fault.kind === "out-of-memory"
        ? `the GPU ran out of memory: ${fault.message}`
        : `the GPU device reported a${fault.kind === "internal" ? "n internal" : fault.kind === "validation" ? " validation" : "n"} error: ${fault.message}`;
  const tail = more > 0 ? `\n(and ${more} later error${more === 1 ? "" : "s"})` : "";
  return `${during ? `${during}: ` : ""}${what}${tail}`;
}

/**
 * throws a DeviceError when the device (by default: any watched device still open) has reported
 * an error; `during` says what was being done, for the message
 */
export function throwIfDeviceFailed(device?: GPUDevice, during?: string): void {
  const candidates = device ? [watches.get(device)] : [...liveWatches.values()];
  for (const watch of candidates)
    if (watch?.first) throw new DeviceError(describeFault(watch.first, watch.more, during));
}

/**
 * runs `fn` (synchronous GPU calls: buffer creation, bind groups) inside validation and
 * out-of-memory error scopes and throws a DeviceError naming `what` if either caught an error
 */
export async function withErrorScopes<T>(device: GPUDevice, what: string, fn: () => T): Promise<T> {
  device.pushErrorScope("out-of-memory");
  device.pushErrorScope("validation");
  let result: T;
  try {
    result = fn();
  } catch (err) {
    await device.popErrorScope();
    await device.popErrorScope();
    throw err;
  }
  const validation = await device.popErrorScope();
  const memory = await device.popErrorScope();
  const error = memory ?? validation;
  if (error)
    throw new DeviceError(
      describeFault({ kind: memory ? "out-of-memory" : "validation", message: error.message }, 0, what),
    );
  return result;
}

export function describeKind(d: AdapterDescription): string {
  return d.software ? "software" : "hardware";
}
