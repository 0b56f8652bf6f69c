// The peak rates benchmarks set their floors against: datasheet figures for known GPUs, and for a
// software adapter a nominal AVX2 figure of the CPU it runs on.

import { cpus } from "node:os";
import type { AdapterDescription } from "../runtime/device.js";

/** fp32 FLOP/s (non-tensor-core) and memory bandwidth from the vendor's datasheet */
export function datasheetPeak(d: AdapterDescription): { gflops: number; gbps: number } | undefined {
  if (/H200/i.test(d.name)) return { gflops: 67_000, gbps: 4_800 };
  if (/H100/i.test(d.name)) return { gflops: 67_000, gbps: 3_350 };
  return undefined;
}

/** cores x 8 fp32 lanes x 2 FMA units x 2 FLOPs x clock */
export function nominalCpuGflops(): number {
  const cores = cpus();
  // some virtual machines report a clock of 0; assume 2.5 GHz then
  const ghz = (cores[0]?.speed || 2500) / 1000;
  return cores.length * 8 * 2 * 2 * ghz;
}

/** the figure a floor is computed from: --peak-gflops, else the datasheet, else the nominal CPU figure */
export function peakGflops(
  d: AdapterDescription,
  override: string | undefined,
): { gflops: number; source: string } {
  if (override !== undefined) return { gflops: Number(override), source: "flag" };
  const sheet = datasheetPeak(d);
  if (sheet) return { gflops: sheet.gflops, source: "datasheet" };
  return { gflops: nominalCpuGflops(), source: "nominal AVX2" };
}
