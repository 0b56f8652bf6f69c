// `archc run model.archx`: execute a compiled model with the runtime only (no compiler): random or
// loaded weights, byte-tokenised text cut into batch x (seq+1) windows, and the loss printed.

import type { Command } from "commander";
import { readFileSync } from "node:fs";
import { reportFailure, UserError } from "./common.js";

interface RunFlags {
  text?: string;
  prompt?: string;
  weights?: string;
  seed: string;
}

const DEFAULT_TEXT =
  "The quick brown fox jumps over the lazy dog. A compiler turns a description of a network into kernels; " +
  "a runtime runs them. Attention residuals let each layer choose what it reads from the layers before it.\n";

/** tokens and next-token targets from byte windows of the text, wrapping around when it is short */
export function byteWindows(
  text: string,
  batch: number,
  seq: number,
  vocab: number,
): { tokens: Int32Array; targets: Int32Array; wrapped: boolean; clipped: boolean } {
  const bytes = new TextEncoder().encode(text);
  if (bytes.length < 2) throw new UserError("the text needs at least two bytes");
  const tokens = new Int32Array(batch * seq);
  const targets = new Int32Array(batch * seq);
  let clipped = false;
  const at = (i: number) => {
    const byte = bytes[i % bytes.length];
    if (byte >= vocab) clipped = true;
    return byte % vocab;
  };
  for (let b = 0; b < batch; b++)
    for (let t = 0; t < seq; t++) {
      const start = b * (seq + 1) + t;
      tokens[b * seq + t] = at(start);
      targets[b * seq + t] = at(start + 1);
    }
  return { tokens, targets, wrapped: batch * (seq + 1) > bytes.length, clipped };
}

async function loadWeights(
  path: string,
  params: { name: string; shape: number[] }[],
): Promise<Map<string, Float32Array>> {
  const { readSafetensors } = await import("../runtime/safetensors.js");
  let file;
  try {
    file = readSafetensors(path);
  } catch (err) {
    throw new UserError(`cannot read weights ${path}: ${(err as Error).message}`);
  }
  const values = new Map<string, Float32Array>();
  for (const p of params) {
    const tensor = file.tensors.get(p.name);
    if (!tensor) throw new UserError(`${path} has no tensor '${p.name}' that the model needs`);
    if (tensor.dtype !== "F32" || tensor.shape.join(",") !== p.shape.join(","))
      throw new UserError(
        `${path}: '${p.name}' is ${tensor.dtype}[${tensor.shape}], the model needs F32[${p.shape}]`,
      );
    values.set(p.name, tensor.data as Float32Array);
  }
  return values;
}

export function register(program: Command): void {
  program
    .command("run")
    .description("run a compiled .archx executable on text and print the loss (runtime only, no compiler)")
    .argument("<executable>", ".archx file from archc compile")
    .option("--text <file>", "text file to evaluate on")
    .option("--prompt <text>", "text given inline")
    .option("--weights <file>", "parameters from a .safetensors file (default: random init)")
    .option("--seed <n>", "seed for random weights", "0")
    .action(async (path: string, flags: RunFlags) => {
      try {
        const { loadExecutable, ArchxError } = await import("../runtime/archx.js");
        let exe;
        try {
          exe = loadExecutable(path);
        } catch (err) {
          if (err instanceof ArchxError) throw new UserError(err.message);
          throw err;
        }
        if (exe.batch === null || exe.seq === null)
          throw new UserError(`${path} does not record its batch and sequence length`);
        const vocab = exe.vocab ?? 256;
        const text =
          flags.text !== undefined ? readFileSync(flags.text, "utf8") : (flags.prompt ?? DEFAULT_TEXT);
        const { tokens, targets, wrapped, clipped } = byteWindows(text, exe.batch, exe.seq, vocab);
        const seed = Number(flags.seed);
        if (!Number.isInteger(seed)) throw new UserError(`--seed must be an integer, got '${flags.seed}'`);

        const { initParams } = await import("../runtime/init.js");
        const params = flags.weights
          ? await loadWeights(flags.weights, exe.params)
          : initParams(exe.params, seed);
        const { withDevice, DeviceError } = await import("../runtime/device.js");
        const { Executor } = await import("../runtime/executor.js");
        const { DeviceLimitError } = await import("../runtime/buffers.js");
        await withDevice(async (gpu) => {
          const started = performance.now();
          const executor = await Executor.create(gpu.device, exe).catch((err: unknown) => {
            if (err instanceof DeviceLimitError) throw new UserError(err.message);
            throw err;
          });
          try {
            executor.setParams(params);
            const setupMs = performance.now() - started;
            // the first run also pays for the driver's lazy shader compilation, so a second is timed too
            const firstStarted = performance.now();
            const { loss } = await executor.run({ tokens, targets }, ["loss"]);
            const firstMs = performance.now() - firstStarted;
            const runStarted = performance.now();
            await executor.run({ tokens, targets }, ["loss"]);
            const runMs = performance.now() - runStarted;
            const lines = [
              `${exe.model} on ${gpu.description.name} (${gpu.description.software ? "software" : "hardware"})`,
              `weights: ${flags.weights ?? `random (seed ${seed})`}; text: ${flags.text ?? (flags.prompt !== undefined ? "--prompt" : "built-in sample")}` +
                `${wrapped ? " (shorter than batch x (seq+1), repeated)" : ""}${clipped ? ` (bytes >= vocab ${vocab} taken modulo)` : ""}`,
              `kernels per forward pass: ${executor.kernelCount} (${executor.pipelineCount} pipelines)`,
              `loss ${loss[0].toFixed(4)} (ln vocab = ${Math.log(vocab).toFixed(4)})`,
              `time: ${runMs.toFixed(1)} ms per forward pass; first pass ${firstMs.toFixed(0)} ms (driver shader compilation), setup ${setupMs.toFixed(0)} ms`,
            ];
            process.stdout.write(lines.join("\n") + "\n");
          } finally {
            executor.destroy();
          }
        }).catch((err: unknown) => {
          if (err instanceof DeviceError) throw new UserError(err.message);
          throw err;
        });
      } catch (err) {
        process.exitCode = reportFailure(err);
      }
    });
}
