// Does this adapter offer an f32 subgroup-matrix (cooperative matrix) configuration? Dawn exposes
// `chromium-experimental-subgroup-matrix` only with the `allow_unsafe_apis` toggle; on an H100 it
// offered int8 configurations only (../shared/gpu/README.md). Prints, and with --json writes, the
// adapter's subgroup features and every configuration it lists, and whether any is f32.
//
//   node dist/bench/subgroup-matrix.js [--json OUT]

import { writeFileSync } from "node:fs";
import { create, globals } from "webgpu";

const FEATURE = "chromium-experimental-subgroup-matrix";

interface MatrixConfig {
  componentType: string;
  resultComponentType: string;
  M: number;
  N: number;
  K: number;
}

async function main(): Promise<void> {
  const at = process.argv.indexOf("--json");
  const out = at >= 0 ? process.argv[at + 1] : undefined;
  Object.assign(globalThis, globals);
  const gpu = create(["enable-dawn-features=allow_unsafe_apis"]);
  const adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
  if (!adapter) throw new Error("no WebGPU adapter found");
  const info = adapter.info as GPUAdapterInfo & {
    subgroupMinSize?: number;
    subgroupMaxSize?: number;
    subgroupMatrixConfigs?: MatrixConfig[];
  };
  const features = [...adapter.features].sort();
  const configs = [...(info.subgroupMatrixConfigs ?? [])].map((c) => ({
    componentType: c.componentType,
    resultComponentType: c.resultComponentType,
    M: c.M,
    N: c.N,
    K: c.K,
  }));
  const result = {
    adapter: { vendor: info.vendor, architecture: info.architecture, description: info.description },
    subgroups: features.includes("subgroups"),
    subgroupSizes: [info.subgroupMinSize ?? null, info.subgroupMaxSize ?? null],
    subgroupMatrix: features.includes(FEATURE),
    configs,
    f32: configs.some((c) => c.componentType === "f32" && c.resultComponentType === "f32"),
    features,
  };
  const text = JSON.stringify(result, null, 1) + "\n";
  process.stdout.write(text);
  if (out) writeFileSync(out, text);
}

main().catch((err: unknown) => {
  process.stderr.write(`subgroup-matrix: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
