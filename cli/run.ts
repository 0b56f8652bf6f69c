// `archc run model.archx`: execute a compiled model with the runtime only (no compiler): random or
// loaded weights, text tokenised (bytes or gpt2, see chooseTokenizer) and cut into batch x (seq+1)
// windows, and the loss printed.

import type { Command } from "commander";
import { readFileSync } from "node:fs";
import type { TokenizerName } from "../runtime/data/tokenizer.js";
import { EXIT, reportFailure, UserError } from "./common.js";

interface RunFlags {
  text?: string;
  prompt?: string;
  weights?: string;
  seed: string;
  tokenizer?: string;
}

const DEFAULT_TEXT =
  "The quick brown fox jumps over the lazy dog. A compiler turns a description of a network into kernels; " +
  "a runtime runs them. Attention residuals let each layer choose what it reads from the layers before it.\n";

/** GPT-2's BPE vocabulary (r50k_base); a model with at least this many ids was made for it */
export const GPT2_VOCAB_SIZE = 50257;

/**
 * The tokenizer `archc run` feeds an executable with. An .archx records no tokenizer (it holds a
 * compiled graph, not a train block), so without --tokenizer it follows the vocabulary: gpt2 for a
 * vocab of at least GPT-2's 50257 ids, bytes otherwise.
 */
export function chooseTokenizer(flag: string | undefined, vocab: number): TokenizerName {
  if (flag === undefined || flag === "auto") return vocab >= GPT2_VOCAB_SIZE ? "gpt2" : "bytes";
  if (flag !== "bytes" && flag !== "gpt2")
    throw new UserError(`--tokenizer must be bytes, gpt2 or auto, got '${flag}'`, EXIT.usage);
  if (flag === "gpt2" && vocab < GPT2_VOCAB_SIZE)
    throw new UserError(
      `--tokenizer gpt2 yields ids up to ${GPT2_VOCAB_SIZE - 1}, but this executable's vocab is ${vocab}`,
    );
  return flag;
}

/**
 * tokens and next-token targets from batch windows of seq+1 ids, wrapping around when the ids are
 * short; ids >= vocab (bytes for a model with fewer than 256) are taken modulo vocab
 */
export function tokenWindows(
  ids: ArrayLike<number>,
  batch: number,
  seq: number,
  vocab: number,
): { tokens: Int32Array; targets: Int32Array; wrapped: boolean; clipped: boolean } {
  if (ids.length < 2) throw new UserError("the text needs at least two tokens");
  const tokens = new Int32Array(batch * seq);
  const targets = new Int32Array(batch * seq);
  let clipped = false;
  const at = (i: number) => {
    const id = ids[i % ids.length];
    if (id >= vocab) clipped = true;
    return id % vocab;
  };
  for (let b = 0; b < batch; b++)
    for (let t = 0; t < seq; t++) {
      const start = b * (seq + 1) + t;
      tokens[b * seq + t] = at(start);
      targets[b * seq + t] = at(start + 1);
    }
  return { tokens, targets, wrapped: batch * (seq + 1) > ids.length, clipped };
}

/** tokenWindows over the text's UTF-8 bytes */
export function byteWindows(text: string, batch: number, seq: number, vocab: number) {
  return tokenWindows(new TextEncoder().encode(text), batch, seq, vocab);
}

function readText(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    throw new UserError(`cannot read ${path}: ${(err as Error).message}`);
  }
}

async function loadWeights(
  path: string,
  params: { name: string; shape: number[] }[],
): Promise<Map<string, Float32Array>> {
  const { readSafetensors } = await import("../runtime/safetensors.js");
  // a damaged file is reported by the reader itself, naming the file
  const file = readSafetensors(path);
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
    .option(
      "--tokenizer <name>",
      "bytes, gpt2, or auto: gpt2 when the vocab has at least 50257 ids (GPT-2's), else bytes",
      "auto",
    )
    .action(async (path: string, flags: RunFlags) => {
      try {
        const { loadExecutable, ArchxError } = await import("../format/archx.js");
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
        const text = flags.text !== undefined ? readText(flags.text) : (flags.prompt ?? DEFAULT_TEXT);
        const tokenizerName = chooseTokenizer(flags.tokenizer, vocab);
        const { loadTokenizer } = await import("../runtime/data/tokenizer.js");
        const ids = (await loadTokenizer(tokenizerName)).encode(text);
        const { tokens, targets, wrapped, clipped } = tokenWindows(ids, exe.batch, exe.seq, vocab);
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
                ` (${ids.length} ${tokenizerName} tokens)` +
                `${wrapped ? " (shorter than batch x (seq+1), repeated)" : ""}${clipped ? ` (ids >= vocab ${vocab} taken modulo)` : ""}`,
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
