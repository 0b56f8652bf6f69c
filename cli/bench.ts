// `archc bench FILE`: how fast a model trains (or runs forward) on this device, and, with
// --compare, how other models compare on the same device in the same process: the models' steps
// are interleaved in rounds (A B A B ...), each reports its median round, and every figure gets a
// ratio against the first model. Per-kernel GPU times come from timestamp queries when the adapter
// has them, otherwise from one submission per kernel. `--print-spec` prints the checked models and
// training settings as JSON for bench/torch_ref.py instead of running anything.

import type { Command } from "commander";
import { writeFileSync } from "node:fs";
import type { ModelSpec, TrainSpec } from "../format/spec.js";
import { EXIT, reportFailure, UserError } from "./common.js";
import { integerFlag } from "./flags.js";
import {
  NO_TUNING_HELP,
  NO_TUNING_OPTION,
  TUNING_HELP,
  TUNING_OPTION,
  type TuningFlags,
} from "./tuning-flags.js";

interface BenchFlags extends TuningFlags {
  train?: boolean;
  infer?: boolean;
  decode?: boolean;
  compare?: string[];
  model?: string;
  batch?: string;
  seq?: string;
  steps: string;
  warmup: string;
  round?: string;
  profileRepeats: string;
  timestamps: boolean;
  peakGflops?: string;
  peakGbps?: string;
  json?: string;
  printSpec?: boolean;
}

export const BENCH_FORMAT = "archc-bench";
export const SPEC_FORMAT = "archc-bench-spec";

export function register(program: Command): void {
  program
    .command("bench")
    .description(
      "time a model's training step (or forward pass, or decoding) on the GPU, against other models with --compare",
    )
    .argument("<file>", ".arch file (its last model, or --model)")
    .option("--train", "time training steps: forward, backward and AdamW (the default)")
    .option("--infer", "time the forward pass only")
    .option("--decode", "time token-by-token decoding with the KV cache: per-token latency at batch 1 and 16")
    .option("--compare <files...>", "also time these models, interleaved with the first: FILE or FILE:MODEL")
    .option("--model <name>", "model of FILE to time (default: the file's last model)")
    .option("--batch <n>", "sequences per step (default: FILE's train block, else 8; --decode: 1 and 16)")
    .option(
      "--seq <n>",
      "tokens per sequence (default: FILE's train block, else the model's context; --decode: positions decoded)",
    )
    .option("--steps <n>", "timed steps per model, after warm-up", "10")
    .option("--warmup <n>", "untimed steps per model after the first", "2")
    .option("--round <n>", "steps per round of the interleaving, one sync each (default: steps / 5)")
    .option("--profile-repeats <n>", "per-kernel profiles per model, medians taken; 0 skips the profile", "3")
    .option("--no-timestamps", "profile with one submission per kernel even when timestamp queries exist")
    .option("--peak-gflops <n>", "peak fp32 GFLOP/s to compare against (default: datasheet or nominal CPU)")
    .option("--peak-gbps <n>", "peak memory GB/s to compare against (default: datasheet, else none)")
    .option("--json <out>", "write the results as JSON to this file ('-': stdout, and the table to stderr)")
    .option(TUNING_OPTION, TUNING_HELP)
    .option(NO_TUNING_OPTION, NO_TUNING_HELP)
    .option(
      "--print-spec",
      "print the checked models and training settings as JSON (for bench/torch_ref.py) and exit",
    )
    .addHelpText(
      "after",
      `
Each model is compiled once on one device. After a first step (timed apart: software drivers
compile shaders then) and --warmup steps, the models run in rounds of --round steps each, in turn
(A B A B ...), one sync at the end of each round; a model's step time is its median round. Tokens
come from a fixed synthetic pattern; the learning rate is the train block's peak lr, constant.

Reported per model: step time and tokens/s; forward, backward and optimizer time per step and the
GPU time of each kernel kind (from a profile of one step: with timestamp queries, every dispatch in
its own compute pass inside one submission; without, one submission per kernel, which adds a
submission's latency to each); device memory archc allocated; dispatches and submissions per step;
achieved FLOP/s (3x the forward's matmul, attention and AttnRes FLOPs for a training step) and
bytes/s (every value a kernel binds, read or written once), against the peak. With --compare, each
figure's ratio to the first model's.

--train (default) times a whole optimizer step: forward, backward, gradient norm and AdamW, one
submission. --infer times forward passes (logits and loss), several per submission, no uploads or
readbacks. --decode times what archc generate does per token: one position of every sequence
through the compiled decoding step (KV caches on the device), one submission, the logits read
back; positions run 0..seq-1 and start again, so the step time is the mean per-token latency over
a sequence of --seq tokens. Without --batch it decodes at batch 1 and at batch 16, and ratios
compare models at the same batch size.

--print-spec prints {format: "${SPEC_FORMAT}", train, batch, seq, models: [{label, file, model,
flops, params}]}: what bench/torch_ref.py builds the same models from.`,
    )
    .action(async (file: string, flags: BenchFlags) => {
      try {
        await benchCommand(file, flags);
      } catch (err) {
        // a device that rejects the work (a validation or out-of-memory error, a model over its
        // limits) ends the benchmark with its message, like every other device command
        const { DeviceError } = await import("../runtime/device.js");
        const { DeviceLimitError } = await import("../runtime/buffers.js");
        const deviceRefused = err instanceof DeviceError || err instanceof DeviceLimitError;
        process.exitCode = reportFailure(deviceRefused ? new UserError(err.message) : err);
      }
    });
}

export interface BenchTarget {
  label: string;
  file: string;
  model: ModelSpec;
}

/** "FILE" or "FILE:MODEL" */
function splitTarget(arg: string): { file: string; model?: string } {
  const at = arg.lastIndexOf(":");
  if (at > 0 && arg.slice(0, at).endsWith(".arch"))
    return { file: arg.slice(0, at), model: arg.slice(at + 1) };
  return { file: arg };
}

async function loadTarget(
  file: string,
  modelName: string | undefined,
): Promise<{ target: BenchTarget; train?: TrainSpec }> {
  const { loadModel } = await import("./load-model.js");
  const model = await loadModel(file, modelName);
  const { loadProgram } = await import("../compiler/frontend.js");
  const trains = [...loadProgram([file]).program.trains.values()];
  const train = trains.find((t) => t.model === model.name) ?? (trains.length === 1 ? trains[0] : undefined);
  return { target: { label: model.name, file, model }, train };
}

/** the first model, the compared ones, and the one TrainSpec all of them run under */
export async function benchTargets(
  file: string,
  flags: Pick<BenchFlags, "compare" | "model" | "batch" | "seq">,
): Promise<{ targets: BenchTarget[]; train: TrainSpec }> {
  const first = await loadTarget(file, flags.model);
  const targets = [first.target];
  for (const arg of flags.compare ?? []) {
    const { file: other, model } = splitTarget(arg);
    targets.push((await loadTarget(other, model)).target);
  }
  // two targets with one model name (a file compared with itself) get distinct labels
  const seen = new Map<string, number>();
  for (const t of targets) {
    const n = (seen.get(t.label) ?? 0) + 1;
    seen.set(t.label, n);
    if (n > 1) t.label = `${t.label} (${n})`;
  }
  const { defaultTrainSpec } = await import("../runtime/train/defaults.js");
  const train: TrainSpec = { ...(first.train ?? defaultTrainSpec(first.target.model)) };
  const batch = integerFlag(flags.batch, "--batch", 1);
  const seq = integerFlag(flags.seq, "--seq", 1);
  if (batch !== undefined) train.batch = batch;
  if (seq !== undefined) train.seq = seq;
  else train.seq = Math.min(train.seq, ...targets.map((t) => t.model.context));
  const { shapeProblem } = await import("../compiler/check/limits.js");
  for (const { model } of targets) {
    if (train.seq > model.context)
      throw new UserError(
        `--seq ${train.seq} exceeds model ${model.name}'s context ${model.context}`,
        EXIT.usage,
      );
    const problem = shapeProblem(model, train.batch, train.seq);
    if (problem)
      throw new UserError(
        `model ${model.name} cannot run at batch ${train.batch} x seq ${train.seq}: ${problem}`,
      );
  }
  if (targets.some((t) => t.model.vocab !== targets[0].model.vocab))
    process.stderr.write(
      "archc bench: the models' vocabularies differ; tokens/s still compares, logits do not\n",
    );
  return { targets, train };
}

async function printSpec(targets: BenchTarget[], train: TrainSpec): Promise<void> {
  const { lowerModel } = await import("../compiler/ir/lower.js");
  const { stepFlops } = await import("../bench/measure.js");
  const graphs = targets.map((t) => lowerModel(t.model, { batch: train.batch, seq: train.seq }));
  const spec = {
    format: SPEC_FORMAT,
    version: 1,
    batch: train.batch,
    seq: train.seq,
    train,
    models: targets.map((t, i) => ({
      label: t.label,
      file: t.file,
      model: t.model,
      flops: stepFlops(graphs[i]),
      params: graphs[i].params.map((p) => ({
        name: p.name,
        shape: p.shape,
        init: p.init,
        decay: p.decay,
      })),
    })),
  };
  process.stdout.write(JSON.stringify(spec, null, 1) + "\n");
}

async function benchCommand(file: string, flags: BenchFlags): Promise<void> {
  if ([flags.train, flags.infer, flags.decode].filter(Boolean).length > 1)
    throw new UserError("--train, --infer and --decode exclude each other", EXIT.usage);
  const { targets, train } = await benchTargets(file, flags);
  if (flags.printSpec) return printSpec(targets, train);

  const steps = integerFlag(flags.steps, "--steps", 1)!;
  const warmup = integerFlag(flags.warmup, "--warmup", 0)!;
  const round = integerFlag(flags.round, "--round", 1) ?? Math.max(1, Math.floor(steps / 5));
  const repeats = integerFlag(flags.profileRepeats, "--profile-repeats", 0)!;
  const peakGflops =
    flags.peakGflops === undefined ? undefined : positiveNumber(flags.peakGflops, "--peak-gflops");
  const peakGbps = flags.peakGbps === undefined ? undefined : positiveNumber(flags.peakGbps, "--peak-gbps");

  const { runBench, formatBench } = await import("../bench/run-bench.js");
  const result = await runBench({
    targets,
    train,
    mode: flags.infer ? "infer" : flags.decode ? "decode" : "train",
    decodeBatches: flags.decode && flags.batch === undefined ? [1, 16] : undefined,
    steps,
    warmup,
    round,
    profileRepeats: repeats,
    timestamps: flags.timestamps,
    peakGflops,
    peakGbps,
    tuning: flags.tuning,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  const table = formatBench(result);
  const json = JSON.stringify(result, null, 1) + "\n";
  if (flags.json === "-") {
    process.stderr.write(table);
    process.stdout.write(json);
  } else {
    process.stdout.write(table);
    if (flags.json !== undefined) {
      try {
        writeFileSync(flags.json, json);
      } catch (err) {
        throw new UserError(
          `cannot write ${flags.json}: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
    }
  }
}

function positiveNumber(value: string, flag: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n <= 0)
    throw new UserError(`${flag} must be a positive number, got '${value}'`, EXIT.usage);
  return n;
}
