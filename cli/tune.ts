// `archc tune [FILE.arch ...]`: on the current adapter, measure every kernel variant for the shape
// classes the models' training steps compile (default: the package's examples/tiny.arch), check
// each against the float64 reference, and write a tuning file that keeps the fastest per class
// with every variant's time. `archc train`, `eval`, `bench` and `ablate` then compile with it on
// this adapter (--tuning FILE, ARCHC_TUNING, or the package's tuning/ folder).

import type { Command } from "commander";
import { existsSync, writeFileSync } from "node:fs";
import { EXIT, reportFailure, UserError } from "./common.js";
import { integerFlag } from "./flags.js";

interface TuneFlags {
  out: string;
  repeats: string;
  ops?: string[];
  infer?: boolean;
  decode?: boolean;
  batch?: string;
  seq?: string;
  timestamps: boolean;
  json?: boolean;
}

export const DEFAULT_TUNING_OUT = "archc-tuning.json";

export function register(program: Command): void {
  program
    .command("tune")
    .description(
      "measure the kernel variants on this GPU for a model's shapes and write the fastest per shape class to a tuning file",
    )
    .argument("[files...]", ".arch files (each file's last model; default: the package's examples/tiny.arch)")
    .option(
      "--out <file>",
      "the tuning file to write (entries for other shape classes it holds are kept)",
      DEFAULT_TUNING_OUT,
    )
    .option("--repeats <n>", "timed dispatches per variant in each of 3 rounds", "5")
    .option("--ops <ops...>", "tune only these ops (default: every op with variants)")
    .option("--infer", "the forward pass's shapes only, not the training step's")
    .option("--decode", "also decoding's shapes: one token per sequence, at batch 1 and 16")
    .option("--batch <n>", "sequences per step (default: each file's train block, else 8)")
    .option("--seq <n>", "tokens per sequence (default: each file's train block, else the model's context)")
    .option("--no-timestamps", "time by the wall clock even when the adapter has timestamp queries")
    .option("--json", "print the measurements and the tuning file as JSON (the table goes to stderr)")
    .addHelpText(
      "after",
      `
Each (op, shape class) the models compile is probed with one node of its most costly shape, alone
in a graph. Every variant that node can use is compiled, checked against the float64 reference
(relative error <= 1e-4; a variant that fails is refused and reported) and timed: with timestamp
queries per dispatch when the adapter has them, else by the wall clock over a submission of
dispatches. A variant replaces the default only when it is more than 2% faster. A software
driver compiles each pipeline on first use, which can take seconds per variant.

The file names this adapter (vendor, architecture, device, description); it is used only on an
adapter with the same four. Commit it, pass it with --tuning, set ARCHC_TUNING, or ship it in the
package's tuning/ folder. See docs/tuning.md.`,
    )
    .action(async (files: string[], flags: TuneFlags) => {
      try {
        await tuneCommand(files, flags);
      } catch (err) {
        const { DeviceError } = await import("../runtime/device.js");
        const { DeviceLimitError } = await import("../runtime/buffers.js");
        const deviceRefused = err instanceof DeviceError || err instanceof DeviceLimitError;
        process.exitCode = reportFailure(deviceRefused ? new UserError(err.message) : err);
      }
    });
}

async function defaultModelFile(): Promise<string> {
  const { stdlibDirectory } = await import("../compiler/check/loader.js");
  const { dirname, join } = await import("node:path");
  return join(dirname(stdlibDirectory()), "examples", "tiny.arch");
}

/** the batch sizes `archc bench --decode` times decoding at */
const DECODE_BATCHES = [1, 16];

/** the graphs whose kernels get tuned: each file's model at its train block's shape */
async function modelGraphs(files: string[], flags: TuneFlags) {
  const { loadModel } = await import("./load-model.js");
  const { loadProgram } = await import("../compiler/frontend.js");
  const { defaultTrainSpec } = await import("../runtime/train/defaults.js");
  const { shapeProblem } = await import("../compiler/check/limits.js");
  const { lowerModel, lowerDecodeStep } = await import("../compiler/ir/lower.js");
  const { differentiate } = await import("../compiler/passes/autodiff.js");
  const { foldNormsIntoProducts } = await import("../compiler/passes/norm-prologue.js");
  const batchFlag = integerFlag(flags.batch, "--batch", 1);
  const seqFlag = integerFlag(flags.seq, "--seq", 1);
  const graphs = [];
  const described: string[] = [];
  for (const file of files) {
    const model = await loadModel(file, undefined);
    const trains = [...loadProgram([file]).program.trains.values()];
    const train = trains.find((t) => t.model === model.name) ?? defaultTrainSpec(model);
    const batch = batchFlag ?? train.batch;
    const seq = seqFlag ?? Math.min(train.seq, model.context);
    if (seq > model.context)
      throw new UserError(`--seq ${seq} exceeds model ${model.name}'s context ${model.context}`, EXIT.usage);
    const problem = shapeProblem(model, batch, seq);
    if (problem)
      throw new UserError(`model ${model.name} cannot run at batch ${batch} x seq ${seq}: ${problem}`);
    const forward = lowerModel(model, { batch, seq });
    // forward-only programs fold their norms into the products (as compileGraph does), so their
    // classes are those of the kernels they will really run
    graphs.push(flags.infer ? foldNormsIntoProducts(forward) : differentiate(forward));
    described.push(`${model.name} (${file}) at batch ${batch} x seq ${seq}`);
    if (flags.decode) {
      for (const sequences of DECODE_BATCHES)
        graphs.push(foldNormsIntoProducts(lowerDecodeStep(model, { batch: sequences })));
      described.push(`${model.name} decoding at batch ${DECODE_BATCHES.join(" and ")}`);
    }
  }
  return { graphs, described };
}

/** the entries already in --out, kept for classes not measured now; another adapter's file is refused */
async function previousFile(out: string, adapter: import("../format/tuning.js").AdapterIdentity) {
  if (!existsSync(out)) return undefined;
  const { readTuningFile, sameAdapter, describeIdentity } = await import("../format/tuning.js");
  const { variantNames } = await import("../compiler/ops/registry.js");
  const previous = readTuningFile(out, variantNames);
  if (!sameAdapter(previous.adapter, adapter))
    throw new UserError(
      `${out} holds tuning for ${describeIdentity(previous.adapter)}, not this adapter (${describeIdentity(adapter)}); choose another --out`,
    );
  return previous;
}

async function tuneCommand(files: string[], flags: TuneFlags): Promise<void> {
  const repeats = integerFlag(flags.repeats, "--repeats", 1)!;
  const { tunableOps } = await import("../compiler/ops/registry.js");
  const tunable = tunableOps();
  const ops = flags.ops ?? tunable;
  for (const op of ops)
    if (!tunable.includes(op))
      throw new UserError(
        `--ops: ${op} has no kernel variants (ops with variants: ${tunable.join(", ")})`,
        EXIT.usage,
      );
  const { graphs, described } = await modelGraphs(
    files.length > 0 ? files : [await defaultModelFile()],
    flags,
  );
  const log = (line: string) => process.stderr.write(`${line}\n`);
  log(
    `tuning ${ops.join(", ")} for ${described.join("; ")} (${flags.infer ? "forward pass" : "training step"}${flags.decode ? " and decoding" : ""})`,
  );

  const { runTune, tuningFileOf } = await import("../bench/tune/run-tune.js");
  const { formatTune } = await import("../bench/tune/table.js");
  const { serializeTuningFile } = await import("../format/tuning.js");
  // a file of another adapter at --out is refused before anything is measured
  const { defaultAdapterInfo } = await import("../runtime/device.js");
  const previous = await previousFile(flags.out, await defaultAdapterInfo());
  const result = await runTune({ graphs, ops, repeats, timestamps: flags.timestamps, log });
  const file = tuningFileOf(result, previous);
  try {
    writeFileSync(flags.out, serializeTuningFile(file));
  } catch (err) {
    throw new UserError(`cannot write ${flags.out}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const table = formatTune(result);
  const footer = `wrote ${flags.out}: ${file.entries.length} entr${file.entries.length === 1 ? "y" : "ies"}; compile with it by --tuning ${flags.out}, or ARCHC_TUNING\n`;
  if (flags.json) {
    process.stderr.write(table + footer);
    process.stdout.write(JSON.stringify({ ...result, tuning: file }, null, 1) + "\n");
  } else {
    process.stdout.write(table + footer);
  }
}
