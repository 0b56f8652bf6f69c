// `archc generate CHECKPOINT --prompt STR`: sample text from a trained checkpoint, streamed to
// stdout as it is produced.

import type { Command } from "commander";
import { EXIT, reportFailure, UserError } from "./common.js";
import { expectCheckpointFits, openCheckpoint } from "./open-checkpoint.js";
import {
  NO_TUNING_HELP,
  NO_TUNING_OPTION,
  TUNING_HELP,
  TUNING_OPTION,
  tuningFor,
  type TuningFlags,
} from "./tuning-flags.js";

interface GenerateFlags extends TuningFlags {
  prompt: string;
  tokens: string;
  temperature: string;
  topK: string;
  seed: string;
  decoder: string;
}

export function register(program: Command): void {
  program
    .command("generate")
    .description("generate text from a checkpoint (a ckpt-N directory or a run directory)")
    .argument("<checkpoint>", "checkpoint directory, or a run directory (uses its latest checkpoint)")
    .requiredOption("--prompt <text>", "text to continue")
    .option("--tokens <n>", "tokens to generate", "200")
    .option("--temperature <t>", "sampling temperature; 0 is greedy", "0.8")
    .option("--top-k <k>", "sample among the k most likely tokens; 0 for all", "40")
    .option("--seed <n>", "sampling seed", "0")
    .option(
      "--decoder <where>",
      "gpu: decode on the GPU with a key/value cache; cpu: the float64 reference decoder (slow, exact)",
      "gpu",
    )
    .option(TUNING_OPTION, TUNING_HELP)
    .option(NO_TUNING_OPTION, NO_TUNING_HELP)
    .action(async (checkpoint: string, flags: GenerateFlags) => {
      try {
        await generateCommand(checkpoint, flags);
      } catch (err) {
        process.exitCode = reportFailure(err);
      }
    });
}

function numberFlag(
  value: string,
  flag: string,
  { integer, min }: { integer: boolean; min: number },
): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < min || (integer && !Number.isSafeInteger(n))) {
    throw new UserError(
      `${flag} must be ${integer ? "an integer" : "a number"} >= ${min}, got '${value}'`,
      EXIT.usage,
    );
  }
  return n;
}

async function generateCommand(path: string, flags: GenerateFlags): Promise<void> {
  const maxTokens = numberFlag(flags.tokens, "--tokens", { integer: true, min: 1 });
  const temperature = numberFlag(flags.temperature, "--temperature", { integer: false, min: 0 });
  const topK = numberFlag(flags.topK, "--top-k", { integer: true, min: 0 });
  const seed = numberFlag(flags.seed, "--seed", { integer: true, min: 0 });

  if (flags.decoder !== "gpu" && flags.decoder !== "cpu")
    throw new UserError(`--decoder must be gpu or cpu, got '${flags.decoder}'`, EXIT.usage);
  const checkpoint = await openCheckpoint(path);
  const dir = checkpoint.dir;
  const { loadTokenizer } = await import("../runtime/data/tokenizer.js");
  const tokenizer = await loadTokenizer(checkpoint.info.tokenizer);

  const prompt = Array.from(tokenizer.encode(flags.prompt));
  // an empty prompt starts where a new document would
  const start = prompt.length > 0 ? prompt : [...tokenizer.documentSeparator];
  if (checkpoint.info.engine !== "cpu-bigram" && flags.decoder === "gpu") {
    const { withDevice, DeviceError } = await import("../runtime/device.js");
    await withDevice(async (gpu) => {
      const tuning = await tuningFor(gpu.adapter.info, flags);
      const decoder = await openDeviceDecoder(checkpoint, gpu.device, tuning);
      try {
        await sample(decoder, start, flags.prompt, { maxTokens, temperature, topK, seed }, tokenizer);
      } finally {
        decoder.dispose();
      }
    }).catch((err: unknown) => {
      // without a usable GPU, the float64 decoder still samples (slowly)
      throw err instanceof DeviceError
        ? new UserError(`${err.message} (or decode on the CPU: --decoder cpu)`)
        : err;
    });
    return;
  }

  let decoder: import("../runtime/train/decode.js").Decoder;
  if (checkpoint.info.engine === "cpu-bigram") {
    const { BigramDecoder } = await import("../runtime/train/bigram-decoder.js");
    const { BIGRAM_TABLE } = await import("../runtime/train/cpu-bigram.js");
    const table = checkpoint.params.get(BIGRAM_TABLE);
    if (!table) throw new UserError(`${dir}: a cpu-bigram checkpoint without "${BIGRAM_TABLE}"`);
    decoder = new BigramDecoder(table, checkpoint.shapes.get(BIGRAM_TABLE)![0]);
  } else {
    const { KvCacheDecoder } = await import("../compiler/reference/kv-cache-decoder.js");
    decoder = new KvCacheDecoder(checkpoint.info.model, checkpoint.params);
  }

  try {
    await sample(decoder, start, flags.prompt, { maxTokens, temperature, topK, seed }, tokenizer);
  } finally {
    decoder.dispose?.();
  }
}

/** the checkpoint's model compiled for one decoded position at a time, its parameters uploaded */
async function openDeviceDecoder(
  checkpoint: Awaited<ReturnType<typeof openCheckpoint>>,
  device: GPUDevice,
  tuning: import("../format/tuning.js").TuningTable | undefined,
): Promise<import("../runtime/decode/device-decoder.js").DeviceDecoder> {
  const model = checkpoint.info.model;
  const { lowerDecodeStepForCli } = await import("./lower-for-cli.js");
  const { compileGraph } = await import("../compiler/compile.js");
  const { DeviceDecoder } = await import("../runtime/decode/device-decoder.js");
  const { DeviceLimitError } = await import("../runtime/buffers.js");
  const graph = lowerDecodeStepForCli(model, { batch: 1 });
  expectCheckpointFits(checkpoint, graph.params);
  const step = compileGraph(graph, { batch: 1, seq: 1, vocab: model.vocab, tuning });
  return DeviceDecoder.create(device, step, checkpoint.params, model.context).catch((err: unknown) => {
    throw err instanceof DeviceLimitError ? new UserError(err.message) : err;
  });
}

/** samples after the prompt, streaming the text to stdout as it comes */
async function sample(
  decoder: import("../runtime/train/decode.js").Decoder,
  start: number[],
  promptText: string,
  options: { maxTokens: number; temperature: number; topK: number; seed: number },
  tokenizer: Awaited<ReturnType<typeof import("../runtime/data/tokenizer.js").loadTokenizer>>,
): Promise<void> {
  const { generate } = await import("../runtime/train/decode.js");
  process.stdout.write(promptText);
  const produced: number[] = [];
  let printed = 0;
  const flush = (final: boolean): void => {
    const text = tokenizer.decode(produced);
    // hold back a partial UTF-8 character (bytes tokenizer) until its last byte arrives
    const safe = final ? text.length : text.endsWith("\uFFFD") ? text.lastIndexOf("\uFFFD") : text.length;
    if (safe > printed) {
      process.stdout.write(text.slice(printed, safe));
      printed = safe;
    }
  };
  await generate(decoder, start, {
    ...options,
    onToken: (id) => {
      produced.push(id);
      flush(false);
    },
  });
  flush(true);
  process.stdout.write("\n");
}
