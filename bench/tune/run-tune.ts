// The measuring behind `archc tune`: the shape classes the given graphs compile kernels for, each
// measured on one device (measure.ts), and the tuning file that keeps the chosen variant of each
// with every variant's time (format/tuning.ts).

import type { Graph } from "../../compiler/ir/ir.js";
import { adapterIdentity, TUNING_FORMAT, TUNING_VERSION, type AdapterIdentity } from "../../format/tuning.js";
import type { TuningEntry, TuningFile } from "../../format/tuning.js";
import { describeAdapter, throwIfDeviceFailed } from "../../runtime/device.js";
import { openProfilingDevice } from "../../runtime/profile/device.js";
import { tuneClasses } from "./classes.js";
import { measureClass, type ClassMeasurement, type TimingMethod } from "./measure.js";

export interface TuneOptions {
  graphs: Graph[];
  ops: readonly string[];
  /** timed dispatches per variant and round */
  repeats: number;
  /** use timestamp queries when the adapter has them */
  timestamps: boolean;
  log?: (line: string) => void;
}

export interface TuneResult {
  adapter: AdapterIdentity & { name: string; software: boolean };
  method: TimingMethod;
  repeats: number;
  classes: ClassMeasurement[];
  seconds: number;
}

export async function runTune(options: TuneOptions): Promise<TuneResult> {
  const log = options.log ?? (() => undefined);
  const started = performance.now();
  const classes = tuneClasses(options.graphs, options.ops);
  const gpu = await openProfilingDevice(options.timestamps);
  try {
    const description = describeAdapter(gpu.adapter);
    const measured: ClassMeasurement[] = [];
    for (const [i, c] of classes.entries()) {
      const start = performance.now();
      const m = await measureClass(gpu, c, options.repeats);
      measured.push(m);
      const seconds = ((performance.now() - start) / 1000).toFixed(1);
      log(`[${i + 1}/${classes.length}] ${c.op} ${c.shapeClass}: ${m.chosen} (${seconds} s)`);
    }
    throwIfDeviceFailed(gpu.device, "tuning");
    return {
      adapter: {
        ...adapterIdentity(gpu.adapter.info),
        name: description.name,
        software: description.software,
      },
      method: gpu.timestamps ? "timestamp-query" : "wall-clock",
      repeats: options.repeats,
      classes: measured,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    gpu.device.destroy();
  }
}

/** milliseconds kept in a tuning file: 4 significant digits are more than the noise allows */
const round = (ms: number) => Number(ms.toPrecision(4));

/** the tuning file of a result; entries of `previous` (same adapter) for classes not measured stay */
export function tuningFileOf(result: TuneResult, previous?: TuningFile): TuningFile {
  const entries: TuningEntry[] = result.classes
    .filter((c) => c.variants.some((v) => v.ms !== undefined))
    .map((c) => ({
      op: c.op,
      shapeClass: c.shapeClass,
      variant: c.chosen,
      ms: Object.fromEntries(
        c.variants.filter((v) => v.ms !== undefined).map((v) => [v.variant, round(v.ms!)]),
      ),
    }));
  const measured = new Set(entries.map((e) => `${e.op} ${e.shapeClass}`));
  const kept = (previous?.entries ?? []).filter((e) => !measured.has(`${e.op} ${e.shapeClass}`));
  const all = [...kept, ...entries].sort((a, b) =>
    a.op === b.op ? a.shapeClass.localeCompare(b.shapeClass) : a.op.localeCompare(b.op),
  );
  return {
    format: TUNING_FORMAT,
    version: TUNING_VERSION,
    adapter: adapterIdentity(result.adapter),
    entries: all,
  };
}
