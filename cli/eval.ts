// `archc eval CKPT`: the loss of a trained checkpoint on its validation split (rebuilt exactly as
// training builds it, so the figure equals the run's logged val_loss at that step), on a text file
// or on given token ids. The forward pass runs on the GPU; `--out` also writes the logits and the
// model's depth statistics (AttnRes weights, hidden-state RMS) to a safetensors file.

import type { Command } from "commander";
import { readFileSync } from "node:fs";
import type { CheckpointInfo, LoadedCheckpoint } from "../runtime/checkpoint.js";
import type { Batch } from "../runtime/data/sampler.js";
import { openCheckpoint } from "./open-checkpoint.js";
import { EXIT, reportFailure, UserError } from "./common.js";
import {
  NO_TUNING_HELP,
  NO_TUNING_OPTION,
  TUNING_HELP,
  TUNING_OPTION,
  tuningFor,
  type TuningFlags,
} from "./tuning-flags.js";

interface EvalFlags extends TuningFlags {
  text?: string;
  tokens?: string;
  batch?: string;
  seq?: string;
  all?: boolean;
  out?: string;
  probeSeqs: string;
  json?: boolean;
}

/** how many sequences `--out` runs through the float64 depth probe unless told otherwise */
const DEFAULT_PROBE_SEQS = 4;

export function register(program: Command): void {
  program
    .command("eval")
    .description(
      "evaluate a checkpoint: mean loss and perplexity on its validation split, a text or token ids",
    )
    .argument("<checkpoint>", "checkpoint directory, or a run directory (uses its latest checkpoint)")
    .option("--text <file>", "evaluate on this text, tokenised with the checkpoint's tokenizer")
    .option("--tokens <ids>", 'evaluate on these token ids, e.g. "1,2,3"')
    .option("--batch <n>", "windows per forward pass (default: the training batch)")
    .option("--seq <n>", "tokens per window (default: the training seq; at most the model's context)")
    .option(
      "--all",
      "with --out on the validation split: write the logits of every batch, not only the first",
    )
    .option("--out <file>", "write logits, tokens, targets and depth statistics to a .safetensors file")
    .option(
      "--probe-seqs <n>",
      "windows the --out depth statistics average over, computed in float64 on the CPU",
      String(DEFAULT_PROBE_SEQS),
    )
    .option("--json", "print one JSON object instead of text")
    .option(TUNING_OPTION, TUNING_HELP)
    .option(NO_TUNING_OPTION, NO_TUNING_HELP)
    .addHelpText(
      "after",
      `
Without --text or --tokens, the checkpoint's validation split is rebuilt from its training data
exactly as training does (same tokenizer, split, windows and eval_batches), so at the training
batch and seq the loss equals the val_loss metrics.jsonl logged at that step.

--text and --tokens are cut into windows of seq+1 tokens that overlap by one token, so every token
after the first is predicted exactly once; tokens after the last whole window are not scored (the
output says how many). A text needs at least seq+1 tokens (use --seq for a short one).

--out FILE.safetensors holds: logits F32 [windows, seq, vocab] (every window of --text/--tokens;
the first validation batch, or all with --all), tokens and targets I32 [windows, seq], the mean
depth-attention weights attnres.<aggregation>.weights F32 [sources] of an AttnRes model (their source
names in __metadata__["attnres.sources"]), and depth.input_rms / depth.output_rms F32 [sublayers].
The depth statistics come from the float64 reference interpreter over the first --probe-seqs
windows: keep it small, it runs on the CPU.`,
    )
    .action(async (checkpoint: string, flags: EvalFlags) => {
      try {
        await evalCommand(checkpoint, flags);
      } catch (err) {
        process.exitCode = reportFailure(err);
      }
    });
}

function positiveInteger(value: string, flag: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isSafeInteger(n) || n < 1)
    throw new UserError(`${flag} must be a positive integer, got '${value}'`, EXIT.usage);
  return n;
}

/** "1,2,3" (commas and/or spaces) as token ids, each checked against the model's vocabulary */
export function parseTokenList(list: string, vocab: number): Int32Array {
  const parts = list.split(/[\s,]+/).filter((p) => p !== "");
  if (parts.length === 0) throw new UserError("--tokens is empty", EXIT.usage);
  return checkTokenRange(
    Int32Array.from(parts, (p) => {
      if (!/^-?\d+$/.test(p)) throw new UserError(`--tokens: '${p}' is not an integer token id`, EXIT.usage);
      return Number(p);
    }),
    vocab,
    "--tokens",
  );
}

export function checkTokenRange(ids: Int32Array, vocab: number, what: string): Int32Array {
  const bad = ids.findIndex((id) => id < 0 || id >= vocab);
  if (bad >= 0)
    throw new UserError(
      `${what}: token id ${ids[bad]} at position ${bad} is outside the vocabulary [0, ${vocab})`,
    );
  return ids;
}

/** a text as the checkpoint's model reads it: the tokenizer it was trained with, never plain bytes */
export async function tokensOfText(
  info: Pick<CheckpointInfo, "tokenizer" | "model">,
  text: string,
  what: string,
): Promise<Int32Array> {
  const { loadTokenizer } = await import("../runtime/data/tokenizer.js");
  const tokenizer = await loadTokenizer(info.tokenizer);
  return checkTokenRange(Int32Array.from(tokenizer.encode(text)), info.model.vocab, what);
}

/** windows of seq+1 tokens overlapping by one, `batch` to a batch; the last batch may be smaller */
export function textBatches(
  ids: Int32Array,
  batch: number,
  seq: number,
  what: string,
): { batches: Batch[]; unscored: number } {
  const windows = Math.floor((ids.length - 1) / seq);
  if (windows < 1)
    throw new UserError(
      `${what} is ${ids.length} tokens; evaluation needs at least seq+1 = ${seq + 1} (pass a smaller --seq)`,
    );
  const batches: Batch[] = [];
  for (let first = 0; first < windows; first += batch) {
    const rows = Math.min(batch, windows - first);
    const current: Batch = { tokens: new Int32Array(rows * seq), targets: new Int32Array(rows * seq) };
    for (let r = 0; r < rows; r++) {
      const start = (first + r) * seq;
      current.tokens.set(ids.subarray(start, start + seq), r * seq);
      current.targets.set(ids.subarray(start + 1, start + seq + 1), r * seq);
    }
    batches.push(current);
  }
  return { batches, unscored: ids.length - 1 - windows * seq };
}

interface EvalInput {
  /** "validation", a file name, or "--tokens" */
  description: string;
  kind: "validation" | "text" | "tokens";
  batches: Batch[];
  unscored: number;
}

async function evalInput(
  checkpoint: LoadedCheckpoint,
  flags: EvalFlags,
  batch: number,
  seq: number,
): Promise<EvalInput> {
  const { info } = checkpoint;
  if (flags.tokens !== undefined) {
    const ids = parseTokenList(flags.tokens, info.model.vocab);
    return { description: "--tokens", kind: "tokens", ...textBatches(ids, batch, seq, "--tokens") };
  }
  if (flags.text !== undefined) {
    let text: string;
    try {
      text = readFileSync(flags.text, "utf8");
    } catch (err) {
      throw new UserError(`cannot read ${flags.text}: ${(err as Error).message}`);
    }
    const ids = await tokensOfText(info, text, flags.text);
    return { description: flags.text, kind: "text", ...textBatches(ids, batch, seq, flags.text) };
  }
  const { loadTokenizer } = await import("../runtime/data/tokenizer.js");
  const { loadCorpus } = await import("../runtime/data/corpus.js");
  const { validationBatches } = await import("../runtime/data/sampler.js");
  const source = info.data.source;
  let batches: Batch[];
  try {
    // the same steps as runtime/train/data-setup.ts: the recorded source is already resolved
    const corpus = loadCorpus(source, await loadTokenizer(info.tokenizer));
    batches = validationBatches(corpus.validation, batch, seq, info.train.evalBatches);
  } catch (err) {
    throw new UserError(`cannot rebuild the validation split of ${source}: ${(err as Error).message}`);
  }
  return { description: `validation split of ${source}`, kind: "validation", batches, unscored: 0 };
}

async function loadModelCheckpoint(path: string): Promise<LoadedCheckpoint> {
  const checkpoint = await openCheckpoint(path);
  const dir = checkpoint.dir;
  if (checkpoint.info.engine === "cpu-bigram")
    throw new UserError(
      `${dir} was trained with --cpu-bigram (a pipeline demo, not the model); eval runs the model`,
    );
  return checkpoint;
}

interface ForwardResult {
  loss: number;
  /** logits of the batches asked for, in order */
  logits: Float32Array[];
  device: string;
}

/** Every batch through the compiled forward graph; one executable per distinct batch size. */
async function runForward(
  checkpoint: LoadedCheckpoint,
  batches: Batch[],
  seq: number,
  wantLogits: (index: number) => boolean,
  flags: TuningFlags,
): Promise<ForwardResult> {
  const model = checkpoint.info.model;
  const { lowerForCli } = await import("./lower-for-cli.js");
  const { compileGraph } = await import("../compiler/compile.js");
  const { withDevice, DeviceError } = await import("../runtime/device.js");
  const { Executor } = await import("../runtime/executor.js");
  const { DeviceLimitError } = await import("../runtime/buffers.js");
  const sizes = [...new Set(batches.map((b) => b.tokens.length / seq))];
  const graphs = new Map(sizes.map((rows) => [rows, lowerForCli(model, { batch: rows, seq })]));
  const { expectCheckpointFits } = await import("./open-checkpoint.js");
  expectCheckpointFits(checkpoint, graphs.values().next().value!.params);
  return withDevice(async (gpu) => {
    const executors = new Map<number, import("../runtime/executor.js").Executor>();
    const tuning = await tuningFor(gpu.adapter.info, flags);
    try {
      for (const [rows, graph] of graphs) {
        const exe = compileGraph(graph, { batch: rows, seq, vocab: model.vocab, tuning });
        const executor = await Executor.create(gpu.device, exe).catch((err: unknown) => {
          throw err instanceof DeviceLimitError ? new UserError(err.message) : err;
        });
        executors.set(rows, executor);
        executor.setParams(checkpoint.params);
      }
      const losses: number[] = [];
      const logits: Float32Array[] = [];
      for (const [i, b] of batches.entries()) {
        const executor = executors.get(b.tokens.length / seq)!;
        const outputs = wantLogits(i) ? ["loss", "logits"] : ["loss"];
        const result = await executor.run({ tokens: b.tokens, targets: b.targets }, outputs);
        losses.push(result.loss[0]);
        if (wantLogits(i)) logits.push(result.logits as Float32Array);
      }
      return { loss: meanLoss(losses, batches), logits, device: gpu.description.name };
    } finally {
      for (const executor of executors.values()) executor.destroy();
    }
  }).catch((err: unknown) => {
    throw err instanceof DeviceError ? new UserError(err.message) : err;
  });
}

/**
 * The mean over every scored token. Equal batches are averaged exactly as the training loop
 * averages its validation batches (sum, then divide), so the figure matches to the last bit.
 */
function meanLoss(losses: number[], batches: Batch[]): number {
  const sizes = batches.map((b) => b.tokens.length);
  if (sizes.every((n) => n === sizes[0])) {
    let total = 0;
    for (const loss of losses) total += loss;
    return total / losses.length;
  }
  const tokens = sizes.reduce((a, b) => a + b, 0);
  return losses.reduce((sum, loss, i) => sum + loss * sizes[i], 0) / tokens;
}

function concat<T extends Int32Array | Float32Array>(parts: T[], make: (n: number) => T): T {
  const out = make(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

async function writeEvalTensors(
  path: string,
  checkpoint: LoadedCheckpoint,
  written: Batch[],
  logits: Float32Array[],
  seq: number,
  probeSeqs: number,
): Promise<{ probeTokens: number }> {
  const { writeSafetensors } = await import("../runtime/safetensors.js");
  const { probeDepth } = await import("../ablate/probe.js");
  type Tensor = import("../runtime/safetensors.js").Tensor;
  const model = checkpoint.info.model;
  const tokens = concat(
    written.map((b) => b.tokens),
    (n) => new Int32Array(n),
  );
  const targets = concat(
    written.map((b) => b.targets),
    (n) => new Int32Array(n),
  );
  const windows = tokens.length / seq;
  const tensors = new Map<string, Tensor>([
    [
      "logits",
      { dtype: "F32", shape: [windows, seq, model.vocab], data: concat(logits, (n) => new Float32Array(n)) },
    ],
    ["tokens", { dtype: "I32", shape: [windows, seq], data: tokens }],
    ["targets", { dtype: "I32", shape: [windows, seq], data: targets }],
  ]);
  const probed = Math.min(probeSeqs, windows);
  const probe = probeDepth(model, checkpoint.params, tokens.subarray(0, probed * seq), {
    batch: probed,
    seq,
  });
  for (const a of probe.aggregations)
    tensors.set(`attnres.${a.name}.weights`, {
      dtype: "F32",
      shape: [a.sources.length],
      data: Float32Array.from(a.weights),
    });
  const rmsOf = (key: "inputRms" | "outputRms") => Float32Array.from(probe.sublayers, (s) => s[key]);
  tensors.set("depth.input_rms", { dtype: "F32", shape: [probe.sublayers.length], data: rmsOf("inputRms") });
  tensors.set("depth.output_rms", {
    dtype: "F32",
    shape: [probe.sublayers.length],
    data: rmsOf("outputRms"),
  });
  const metadata: Record<string, string> = {
    format: "archc-eval",
    model: model.name,
    step: String(checkpoint.info.step),
    residual: probe.residual,
    "depth.sublayers": JSON.stringify(probe.sublayers.map((s) => s.name)),
    "depth.final_rms": String(probe.finalRms),
    "depth.tokens": String(probe.tokens),
  };
  if (probe.aggregations.length > 0)
    metadata["attnres.sources"] = JSON.stringify(
      Object.fromEntries(probe.aggregations.map((a) => [a.name, a.sources])),
    );
  try {
    writeSafetensors(path, tensors, metadata);
  } catch (err) {
    throw new UserError(`cannot write ${path}: ${(err as Error).message}`);
  }
  return { probeTokens: probe.tokens };
}

async function evalCommand(path: string, flags: EvalFlags): Promise<void> {
  if (flags.text !== undefined && flags.tokens !== undefined)
    throw new UserError("give --text or --tokens, not both", EXIT.usage);
  if (flags.out !== undefined && !flags.out.endsWith(".safetensors"))
    throw new UserError(`--out must name a .safetensors file, got '${flags.out}'`, EXIT.usage);
  const probeSeqs = positiveInteger(flags.probeSeqs, "--probe-seqs");
  const checkpoint = await loadModelCheckpoint(path);
  const { info } = checkpoint;
  const batch = flags.batch !== undefined ? positiveInteger(flags.batch, "--batch") : info.train.batch;
  const seq = flags.seq !== undefined ? positiveInteger(flags.seq, "--seq") : info.train.seq;
  if (seq > info.model.context)
    throw new UserError(
      `--seq ${seq} exceeds model ${info.model.name}'s context ${info.model.context}`,
      EXIT.usage,
    );
  if (flags.all && (flags.text !== undefined || flags.tokens !== undefined))
    throw new UserError(
      "--all is for the validation split; --text and --tokens write every window",
      EXIT.usage,
    );

  const input = await evalInput(checkpoint, flags, batch, seq);
  // logits are written for what --out covers: all of a text, the first validation batch unless --all
  const writeAll = input.kind !== "validation" || flags.all === true;
  const wantLogits = (i: number) => flags.out !== undefined && (writeAll || i === 0);
  const forward = await runForward(checkpoint, input.batches, seq, wantLogits, flags);
  const tokens = input.batches.reduce((n, b) => n + b.tokens.length, 0);
  let probeTokens: number | undefined;
  if (flags.out !== undefined) {
    const written = input.batches.filter((_, i) => wantLogits(i));
    ({ probeTokens } = await writeEvalTensors(
      flags.out,
      checkpoint,
      written,
      forward.logits,
      seq,
      probeSeqs,
    ));
  }
  const matchesTraining = input.kind === "validation" && batch === info.train.batch && seq === info.train.seq;
  const report = {
    checkpoint: checkpoint.dir,
    step: info.step,
    model: info.model.name,
    tokenizer: info.tokenizer,
    input: input.kind,
    source: input.description,
    batch,
    seq,
    batches: input.batches.length,
    tokens,
    unscored_tokens: input.unscored,
    loss: forward.loss,
    perplexity: Math.exp(forward.loss),
    device: forward.device,
    ...(flags.out !== undefined ? { out: flags.out, probe_tokens: probeTokens } : {}),
  };
  if (flags.json) {
    process.stdout.write(JSON.stringify(report) + "\n");
    return;
  }
  const lines = [
    `${info.model.name} at step ${info.step} (${checkpoint.dir}), ${info.tokenizer} tokens, on ${forward.device}`,
    `${input.description}: ${input.batches.length} batch${input.batches.length === 1 ? "" : "es"} of up to ${batch} x ${seq} tokens` +
      (input.unscored > 0
        ? `; the last ${input.unscored} tokens are not scored (shorter than a window)`
        : "") +
      (input.kind === "validation" && !matchesTraining
        ? " (batch or seq differ from training: not its val_loss)"
        : ""),
    `loss ${forward.loss.toFixed(6)}  perplexity ${report.perplexity.toFixed(3)}  tokens ${tokens}`,
  ];
  if (flags.out !== undefined) lines.push(`wrote ${flags.out} (depth statistics over ${probeTokens} tokens)`);
  process.stdout.write(lines.join("\n") + "\n");
}
