// `archc devices`: the WebGPU adapters Dawn finds, with the features and limits kernels care about.

import type { Command } from "commander";
import { reportFailure, UserError } from "./common.js";

export function register(program: Command): void {
  program
    .command("devices")
    .description("list the WebGPU adapters found: name, driver, software or hardware, features and limits")
    .option("--json", "print JSON")
    .action(async (flags: { json?: boolean }) => {
      try {
        const { listAdapters, SETUP_HINT } = await import("../runtime/device.js");
        const { formatBytes } = await import("../runtime/buffers.js");
        const adapters = await listAdapters();
        if (adapters.length === 0) throw new UserError(`no WebGPU adapter found; ${SETUP_HINT}`);
        if (flags.json) {
          process.stdout.write(JSON.stringify(adapters, null, 2) + "\n");
          return;
        }
        for (const a of adapters) {
          const features = Object.entries(a.features)
            .map(([name, on]) => `${name} ${on ? "yes" : "no"}`)
            .join(", ");
          const l = a.limits;
          process.stdout.write(
            [
              `${a.name} (${a.software ? "software" : "hardware"})`,
              `  vendor ${a.vendor || "-"}, architecture ${a.architecture || "-"}, driver ${a.driver || "-"}`,
              `  features: ${features}`,
              `  workgroup storage ${formatBytes(l.maxComputeWorkgroupStorageSize)}, storage binding ${formatBytes(l.maxStorageBufferBindingSize)}, ` +
                `buffer ${formatBytes(l.maxBufferSize)}, invocations/workgroup ${l.maxComputeInvocationsPerWorkgroup}, ` +
                `storage buffers/kernel ${l.maxStorageBuffersPerShaderStage}`,
              "",
            ].join("\n"),
          );
        }
      } catch (err) {
        process.exitCode = reportFailure(err);
      }
    });
}
