// The storage bindings of a model's training step, compiled on the CPU: each pool's size, the
// widest binding a pooled kernel (one over many values) makes, and the widest single value, against
// the whole pools such kernels bound before they bound byte ranges. Prints a table and JSON.
//   node dist/bench/bindings.js FILE [--model NAME] [--batch N] [--seq N]

import { parseArgs } from "node:util";
import { compileTraining } from "../compiler/compile.js";
import { findModel, formatDiagnostics, hasErrors, loadProgram } from "../compiler/frontend.js";
import { formatBytes } from "../runtime/buffers.js";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { model: { type: "string" }, batch: { type: "string", default: "8" }, seq: { type: "string" } },
});
const loaded = loadProgram([positionals[0]]);
if (hasErrors(loaded)) throw new Error(formatDiagnostics(loaded));
const model = findModel(loaded, values.model);
const shape = { batch: Number(values.batch), seq: Number(values.seq ?? model.context) };
const exe = compileTraining(model, shape).train;

const ranges = exe.kernels.flatMap((k) => k.bindings.flatMap((b) => ("pool" in b ? [b] : [])));
const result = {
  model: model.name,
  ...shape,
  pools: Object.fromEntries(exe.pools.map((p) => [p.usage, p.size])),
  pooledKernels: exe.kernels.filter((k) => k.bindings.some((b) => "pool" in b)).length,
  widestRange: Math.max(0, ...ranges.map((b) => b.size ?? exe.pools[b.pool].size)),
  widestWholePool: Math.max(0, ...ranges.map((b) => exe.pools[b.pool].size)),
  widestValue: Math.max(...exe.values.map((v) => v.size)),
};
console.log(`${result.model}, batch ${shape.batch} x seq ${shape.seq}, training step`);
console.log("| pools | pooled kernels | widest pool range | whole pool it lies in | widest value |");
console.log("| --- | ---: | ---: | ---: | ---: |");
console.log(
  `| ${exe.pools.map((p) => `${p.usage} ${formatBytes(p.size)}`).join(", ")} | ${result.pooledKernels} | ` +
    `${formatBytes(result.widestRange)} | ${formatBytes(result.widestWholePool)} | ${formatBytes(result.widestValue)} |`,
);
console.log(JSON.stringify(result));
