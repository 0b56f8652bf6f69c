// Writes an ablation report into the sweep folder: report.json (every number), report.csv (the
// table), report.md (the table, the compute multiplier and the figures, for a paper's appendix), and
// each figure as SVG and PNG under figures/.

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ReportData, VariantReport } from "./build.js";
import { depthHeatmapSpec, depthRmsSpec, finalLossSpec, lossCurvesSpec, scalingSpec } from "./charts.js";
import { formatFlops } from "./multiplier.js";
import { renderChart } from "./render.js";
import { makeOutputDir } from "../../format/output-dir.js";

export const REPORT_FILES = { json: "report.json", csv: "report.csv", md: "report.md", figures: "figures" };

const fixed = (x: number | undefined, digits: number): string => (x === undefined ? "–" : x.toFixed(digits));
const signed = (x: number, digits: number): string => (x >= 0 ? "+" : "") + x.toFixed(digits);

function lossCell(v: VariantReport, which: "trainLoss" | "valLoss"): string {
  const s = v[which];
  if (!s) return "–";
  return s.n > 1 ? `${s.mean.toFixed(4)} ± ${s.std.toFixed(4)} (n=${s.n})` : `${s.mean.toFixed(4)} (n=1)`;
}

function deltaCell(v: VariantReport): string {
  if (v.baseline) return "baseline";
  if (!v.delta) return "–";
  const ci = v.delta.interval
    ? ` [${signed(v.delta.interval.low, 4)}, ${signed(v.delta.interval.high, 4)}]`
    : " (no interval: fewer than 2 seeds)";
  return `${signed(v.delta.diff, 4)}${ci}, ×${v.delta.ratio.toFixed(4)}`;
}

function multiplierCell(v: VariantReport): string {
  if (v.baseline) return "1 (baseline)";
  const m = v.multiplier;
  if (!m) return "–";
  if (m.mean === undefined) {
    const bounds = [
      ...(m.lowerBound !== undefined ? [`≥ ${m.lowerBound.toFixed(2)}×`] : []),
      ...(m.upperBound !== undefined ? [`≤ ${m.upperBound.toFixed(2)}×`] : []),
    ];
    return bounds.length > 0 ? `not measurable (${bounds.join(", ")})` : "not measurable";
  }
  const spread = m.n > 1 ? ` ± ${m.std!.toFixed(2)}` : "";
  const missing = m.notMeasurable > 0 ? `, ${m.notMeasurable} seed(s) not measurable` : "";
  return `${m.mean.toFixed(2)}×${spread} (n=${m.n}${missing})`;
}

function statusCell(v: VariantReport): string {
  const parts: string[] = [];
  const finished = v.runs.filter((r) => r.status === "finished").length;
  parts.push(`${finished}/${v.runs.length} finished`);
  if (v.diverged) parts.push(`${v.diverged} diverged`);
  if (v.failed) parts.push(`${v.failed} failed`);
  if (v.incomplete) parts.push(`${v.incomplete} incomplete`);
  return parts.join(", ");
}

const mib = (bytes: number | undefined) => (bytes === undefined ? "–" : (bytes / 2 ** 20).toFixed(1));

const COLUMNS: { header: string; cell: (v: VariantReport) => string; csv: (v: VariantReport) => string }[] = [
  { header: "variant", cell: (v) => `\`${v.label}\`${v.baseline ? " (baseline)" : ""}`, csv: (v) => v.label },
  { header: "params", cell: (v) => v.parameters.toLocaleString("en-US"), csv: (v) => String(v.parameters) },
  { header: "train loss", cell: (v) => lossCell(v, "trainLoss"), csv: (v) => fixed(v.trainLoss?.mean, 6) },
  { header: "val loss", cell: (v) => lossCell(v, "valLoss"), csv: (v) => fixed(v.valLoss?.mean, 6) },
  { header: "Δ val vs reference [95% CI], ratio", cell: deltaCell, csv: (v) => fixed(v.delta?.diff, 6) },
  { header: "compute multiplier", cell: multiplierCell, csv: (v) => fixed(v.multiplier?.mean, 4) },
  { header: "tokens/s", cell: (v) => fixed(v.tokensPerSecond, 0), csv: (v) => fixed(v.tokensPerSecond, 1) },
  {
    header: "step ms",
    cell: (v) => fixed(v.stepSeconds && v.stepSeconds * 1000, 1),
    csv: (v) => fixed(v.stepSeconds && v.stepSeconds * 1000, 2),
  },
  { header: "device MiB", cell: (v) => mib(v.deviceBytes), csv: (v) => mib(v.deviceBytes) },
  { header: "compile s", cell: (v) => fixed(v.compileSeconds, 1), csv: (v) => fixed(v.compileSeconds, 2) },
  {
    header: "to first step s",
    cell: (v) => fixed(v.firstStepSeconds, 1),
    csv: (v) => fixed(v.firstStepSeconds, 2),
  },
  { header: "runs", cell: statusCell, csv: statusCell },
];

const CSV_EXTRA: { header: string; value: (v: VariantReport) => string }[] = [
  { header: "val_loss_std", value: (v) => fixed(v.valLoss?.std, 6) },
  { header: "val_loss_n", value: (v) => String(v.valLoss?.n ?? 0) },
  { header: "train_loss_std", value: (v) => fixed(v.trainLoss?.std, 6) },
  { header: "delta_low", value: (v) => fixed(v.delta?.interval?.low, 6) },
  { header: "delta_high", value: (v) => fixed(v.delta?.interval?.high, 6) },
  { header: "ratio", value: (v) => fixed(v.delta?.ratio, 6) },
  { header: "multiplier_std", value: (v) => fixed(v.multiplier?.std, 4) },
  { header: "flops_per_step", value: (v) => String(v.flopsPerStep) },
];

function csvQuote(cell: string): string {
  return /[",\n]/.test(cell) ? `"${cell.replace(/"/g, '""')}"` : cell;
}

export function reportCsv(data: ReportData): string {
  const header = [...COLUMNS.map((c) => c.header), ...CSV_EXTRA.map((c) => c.header)];
  const rows = data.variants.map((v) => [
    ...COLUMNS.map((c) => c.csv(v)),
    ...CSV_EXTRA.map((c) => c.value(v)),
  ]);
  return [header, ...rows].map((row) => row.map(csvQuote).join(",")).join("\n") + "\n";
}

function markdownTable(data: ReportData): string {
  const lines = [
    `| ${COLUMNS.map((c) => c.header).join(" | ")} |`,
    `| ${COLUMNS.map((_, i) => (i < 1 ? "---" : "---:")).join(" | ")} |`,
    ...data.variants.map((v) => `| ${COLUMNS.map((c) => c.cell(v).replace(/\|/g, "\\|")).join(" | ")} |`),
  ];
  return lines.join("\n");
}

function multiplierSection(data: ReportData): string {
  const lines = [
    "## Compute multiplier",
    "",
    "How much more training compute the reference needs to reach each variant's final validation loss: " +
      "the reference's validation loss against training FLOPs (3× forward FLOPs per step), running " +
      "minimum, interpolated in log compute, read at the variant's final loss; per seed (seed i of the " +
      "variant against seed i of the reference), then mean ± std.",
    "",
  ];
  for (const v of data.variants) {
    if (v.baseline || !v.multiplier) continue;
    lines.push(`- \`${v.label}\` against \`${v.reference}\`: ${multiplierCell(v)}`);
    for (const reason of v.multiplier.reasons) lines.push(`  - not measurable for ${reason}`);
  }
  if (data.scaling) {
    lines.push("", "### Scaling fits L(C) = a·C^(−b) per residual kind", "");
    if (data.scaling.note) lines.push(data.scaling.note, "");
    lines.push(
      "| residual | points | a | b | R² | multiplier at each size |",
      "| --- | ---: | ---: | ---: | ---: | --- |",
    );
    const baselineKind = data.variants.find((v) => v.baseline)?.values.residual;
    for (const f of data.scaling.fits) {
      const at = f.multipliers
        .map((m) => {
          const s = m.overSeeds;
          const spread =
            s.n > 1 && s.std !== undefined
              ? ` (seeds: ${s.mean!.toFixed(3)} ± ${s.std.toFixed(3)}, n=${s.n})`
              : "";
          return `${m.multiplier.toFixed(3)}× at ${formatFlops(m.flops)}${spread}${m.extrapolated ? ", extrapolated" : ""}`;
        })
        .join("; ");
      const cell = at || (f.kind === baselineKind ? "baseline kind" : (f.note ?? "–"));
      lines.push(
        `| \`${f.kind}\` | ${f.points.length} | ${f.fit ? f.fit.a.toPrecision(4) : "–"} | ${f.fit ? f.fit.b.toFixed(4) : "–"} | ` +
          `${f.fit ? f.fit.r2.toFixed(3) : "–"} | ${cell} |`,
      );
    }
  }
  return lines.join("\n");
}

interface Figure {
  name: string;
  caption: string;
}

async function writeFigures(data: ReportData, dir: string): Promise<Figure[]> {
  const figuresDir = join(dir, REPORT_FILES.figures);
  makeOutputDir(figuresDir);
  const figures: Figure[] = [];
  const emit = async (name: string, caption: string, spec: Parameters<typeof renderChart>[0]) => {
    const { svg, png } = await renderChart(spec);
    writeFileSync(join(figuresDir, `${name}.svg`), svg);
    writeFileSync(join(figuresDir, `${name}.png`), png);
    figures.push({ name, caption });
  };
  const series = data.variants.flatMap((v) =>
    v.runs.flatMap((r) => [
      ...r.train.map((p) => ({
        variant: v.label,
        seed: r.seed,
        kind: "train" as const,
        step: p.step,
        tokens: p.step * data.tokensPerStep,
        loss: p.loss,
      })),
      ...r.val.map((p) => ({
        variant: v.label,
        seed: r.seed,
        kind: "val" as const,
        step: p.step,
        tokens: p.step * data.tokensPerStep,
        loss: p.loss,
      })),
    ]),
  );
  await emit(
    "loss-curves",
    "Training and validation loss of every variant (mean over seeds, band: spread over seeds).",
    lossCurvesSpec(series),
  );
  const finals = data.variants
    .filter((v) => v.valLoss)
    .map((v) => ({
      variant: v.label,
      mean: v.valLoss!.mean,
      std: v.valLoss!.std,
      n: v.valLoss!.n,
      baseline: v.baseline,
    }));
  if (finals.length > 0)
    await emit(
      "final-val-loss",
      "Final validation loss per variant (error bars: ± one standard deviation over seeds).",
      finalLossSpec(finals),
    );
  for (const [i, v] of data.variants.entries()) {
    const probe = v.probe;
    if (!probe || probe.aggregations.length === 0) continue;
    const sources = heatmapColumns(probe.aggregations);
    const weights = probe.aggregations.map((a) =>
      sources.map((s) => (a.sources.includes(s) ? a.weights[a.sources.indexOf(s)] : null)),
    );
    // DenseFormer's averages are learned scalars, one per layer output, not attention over depth
    const dense = probe.residual.startsWith("dense");
    await emit(
      `depth-weights-${i + 1}`,
      dense
        ? `DenseFormer weights of \`${v.label}\`: the learned weight each average gives each earlier layer output.`
        : `Depth-attention weights of \`${v.label}\`: each sublayer's weight on each source, averaged over ${probe.tokens} validation tokens.`,
      depthHeatmapSpec(
        dense ? `DenseFormer weights: ${v.label}` : `Depth-attention weights: ${v.label}`,
        probe.aggregations.map((a) => a.name),
        sources,
        weights,
        dense
          ? "learned weight of each layer output in the average after a layer; grey: not averaged"
          : undefined,
        dense ? "average" : undefined,
      ),
    );
  }
  const scaling = data.scaling;
  if (scaling && scaling.fits.some((f) => f.fit))
    await emit(
      "scaling",
      "Final validation loss against training compute per residual kind, with the fitted power laws the multiplier is read from.",
      scalingSpec(
        scaling.fits.flatMap((f) => f.points.map((p) => ({ kind: f.kind, ...p }))),
        scaling.fits.flatMap((f) => (f.fit ? [{ kind: f.kind, a: f.fit.a, b: f.fit.b }] : [])),
      ),
    );
  const rms = data.variants.flatMap((v) =>
    (v.probe?.sublayers ?? []).flatMap((s, depth) => [
      { variant: v.label, depth: depth + 1, what: "hidden state" as const, rms: s.inputRms },
      { variant: v.label, depth: depth + 1, what: "sublayer output" as const, rms: s.outputRms },
    ]),
  );
  if (rms.length > 0)
    await emit(
      "depth-rms",
      "RMS of each sublayer's input (the hidden state) and output, by depth: PreNorm dilution shows as a growing hidden state.",
      depthRmsSpec(rms),
    );
  return figures;
}

function markdown(data: ReportData, figures: Figure[]): string {
  const t = data.train;
  const seeds = data.seeds.length > 1 ? `seeds ${data.seeds.join(", ")}` : `seed ${data.seeds[0]}`;
  const lines = [
    `# Ablation \`${data.ablation}\` of \`${data.base}\``,
    "",
    `Varied: ${data.fields.map((f) => `\`${f}\``).join(", ")}. Train block \`${t.name}\`: ${t.steps} steps of ` +
      `${t.batch}×${t.seq} tokens (${(t.steps * data.tokensPerStep).toLocaleString("en-US")} tokens per run) on ` +
      `${t.data === "brown" ? "the Brown corpus" : t.data} (${t.tokenizer} tokenizer), ${seeds}; every variant sees ` +
      `the same batches in the same order, and parameters it shares with another variant start from the same values.`,
    "",
    `Losses are final values (mean ± sample std over finished seeds). Δ is the variant's validation loss minus its ` +
      `reference's, with a 95% Welch interval; the reference is the baseline, or in a sweep over model sizes the ` +
      `same-size variant with the baseline's residual. Throughput and memory are medians over seeds on the device that ` +
      `trained them; device MiB counts the buffers archc allocated. Compile time (archc's own) and time to the ` +
      `first step (adding the driver's shader compilation and the step-0 evaluation) are those of each variant's ` +
      `first run, in a process that had already compiled the kernels it shares with earlier variants.`,
    "",
    markdownTable(data),
    "",
    multiplierSection(data),
    "",
  ];
  const problems = data.variants.flatMap((v) =>
    v.runs.filter((r) => r.note).map((r) => `- \`${v.label}\` seed ${r.seed}: ${r.status}, ${r.note}`),
  );
  if (problems.length > 0) lines.push("## Runs that did not finish", "", ...problems, "");
  if (figures.length > 0) {
    lines.push("## Figures", "");
    for (const f of figures)
      lines.push(
        `![${f.caption}](figures/${f.name}.png)`,
        "",
        `*${f.caption}* ([SVG](figures/${f.name}.svg))`,
        "",
      );
  }
  return lines.join("\n");
}

/**
 * Every source any aggregation reads, in order of first appearance, with the current block's
 * partial sum last. No single list has them all: with Block AttnRes a sublayer reads the partial
 * and the final aggregation reads the last block in its place.
 */
export function heatmapColumns(aggregations: { sources: string[] }[]): string[] {
  const columns: string[] = [];
  for (const a of aggregations) for (const s of a.sources) if (!columns.includes(s)) columns.push(s);
  return [...columns.filter((s) => s !== "partial"), ...columns.filter((s) => s === "partial")];
}

export async function writeReport(data: ReportData, dir: string): Promise<string[]> {
  writeFileSync(join(dir, REPORT_FILES.json), JSON.stringify(data, null, 2) + "\n");
  writeFileSync(join(dir, REPORT_FILES.csv), reportCsv(data));
  const figures = await writeFigures(data, dir);
  writeFileSync(join(dir, REPORT_FILES.md), markdown(data, figures));
  return [
    REPORT_FILES.md,
    REPORT_FILES.json,
    REPORT_FILES.csv,
    ...figures.map((f) => `${REPORT_FILES.figures}/${f.name}.{svg,png}`),
  ];
}
