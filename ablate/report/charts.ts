// Vega-lite specs for the ablation report's figures. Each function takes plain rows and returns a spec;
// renderChart (render.ts) turns a spec into SVG and PNG.
import type { TopLevelSpec } from "vega-lite";
import { bandOverSeeds, distinctInOrder, emaSmooth, groupBy } from "./series.js";

export { renderChart, type RenderedChart } from "./render.js";

/** Cross-entropy from the trainer is the mean natural-log loss per token. */
const LOSS_UNIT = "nats/token";
/** Tableau 10: distinguishable categories, also in greyscale print order. */
const CATEGORY_SCHEME = "tableau10";
/** Long variant labels such as "attn(block = 2, key_norm = false)" must not be cut in legends. */
const LEGEND = { labelLimit: 320, orient: "bottom", direction: "vertical", columns: 3 } as const;
/** Legend entries for lines: a short stroke, not the faint symbol vega takes from the band layer. */
const LINE_LEGEND = { ...LEGEND, symbolType: "stroke", symbolOpacity: 1, symbolStrokeWidth: 2.5 } as const;
/** SI-prefixed token counts (20k, 1.5M), with a plain 0 rather than "0k". */
const TOKEN_AXIS = { format: "~s", labelExpr: "datum.value === 0 ? '0' : datum.label" } as const;

export interface LossPoint {
  variant: string;
  seed: number;
  kind: "train" | "val";
  step: number;
  tokens: number;
  loss: number;
}

/** One point of a chart line: a variant's mean over seeds at one step, with the seeds' range. */
interface CurveRow {
  variant: string;
  kind: "train" | "val";
  step: number;
  tokens: number;
  mean: number;
  low: number;
  high: number;
  n: number;
}

export interface LossCurvesOptions {
  /** EMA coefficient for the training loss (per logged point); validation loss is not smoothed. */
  trainEma?: number;
  /**
   * Crop the y axis to the loss after this fraction of training, so that the end of training, where
   * variants differ, fills the panel instead of the initial drop from ln(vocab). 0 shows everything.
   */
  cropBefore?: number;
}

/**
 * Training and validation loss of every variant, side by side: per variant the mean over seeds as a
 * line and the min–max range over seeds as a band (only where more than one seed has a value).
 */
export function lossCurvesSpec(series: LossPoint[], options: LossCurvesOptions = {}): TopLevelSpec {
  const beta = options.trainEma ?? 0.9;
  const cropBefore = options.cropBefore ?? 0.1;
  const variants = distinctInOrder(series.map((p) => p.variant));
  const seedCounts = [...groupBy(series, (p) => p.variant).values()].map(
    (points) => new Set(points.map((p) => p.seed)).size,
  );

  // Smooth each (variant, seed) training curve in step order before averaging over seeds.
  const smoothed: LossPoint[] = [];
  for (const run of groupBy(series, (p) => `${p.variant}\u0000${p.seed}\u0000${p.kind}`).values()) {
    const ordered = [...run].sort((x, y) => x.step - y.step);
    const losses = ordered.map((p) => p.loss);
    const values = ordered[0].kind === "train" ? emaSmooth(losses, beta) : losses;
    ordered.forEach((p, i) => smoothed.push({ ...p, loss: values[i] }));
  }
  const rows: CurveRow[] = [];
  for (const points of groupBy(smoothed, (p) => `${p.variant}\u0000${p.kind}\u0000${p.step}`).values()) {
    const band = bandOverSeeds(points.map((p) => p.loss));
    if (!band) continue;
    const { variant, kind, step, tokens } = points[0];
    rows.push({ variant, kind, step, tokens, mean: band.mean, low: band.min, high: band.max, n: band.n });
  }

  const panel = (kind: "train" | "val", title: string) => {
    const own = rows.filter((r) => r.kind === kind);
    const domain = croppedLossDomain(own, cropBefore);
    const y = { type: "quantitative", scale: { zero: false, domain, nice: false } } as const;
    return {
      title,
      width: 340,
      height: 240,
      data: { values: own },
      encoding: {
        x: { field: "tokens", type: "quantitative", title: "training tokens", axis: TOKEN_AXIS },
        color: {
          field: "variant",
          type: "nominal",
          title: "variant",
          scale: { domain: variants, scheme: CATEGORY_SCHEME },
          legend: LINE_LEGEND,
        },
      },
      layer: [
        {
          transform: [{ filter: "datum.n > 1" }],
          mark: { type: "area", opacity: 0.25, clip: true },
          encoding: { y: { ...y, field: "low" }, y2: { field: "high" } },
        },
        {
          mark: { type: "line", strokeWidth: 1.6, clip: true, point: kind === "val" ? { size: 18 } : false },
          encoding: { y: { ...y, field: "mean", title: `loss (${LOSS_UNIT})` } },
        },
      ],
    };
  };

  const maxSeeds = Math.max(0, ...seedCounts);
  const subtitle = [
    maxSeeds > 1
      ? `line: mean over seeds; band: min–max over seeds (up to ${maxSeeds} seeds per variant)`
      : "one seed per variant",
    ...(cropBefore > 0
      ? [`y axes fit the loss after the first ${Math.round(cropBefore * 100)}% of training`]
      : []),
  ];
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: "Loss during training", subtitle, offset: 16 },
    hconcat: [
      panel("train", `Training loss (EMA, β = ${beta})`),
      panel("val", "Validation loss (not smoothed)"),
    ],
    resolve: { scale: { color: "shared", y: "independent" } },
  } as TopLevelSpec;
}

/**
 * y domain spanning the means and bands from `cropBefore` of training on, with 5% room; undefined (let
 * vega decide) when there is nothing to crop. Earlier, higher points run off the top (marks are clipped).
 */
function croppedLossDomain(rows: CurveRow[], cropBefore: number): [number, number] | undefined {
  if (rows.length === 0 || cropBefore <= 0) return undefined;
  const lastTokens = Math.max(...rows.map((r) => r.tokens));
  const late = rows.filter((r) => r.tokens >= cropBefore * lastTokens);
  if (late.length === 0) return undefined;
  const low = Math.min(...late.map((r) => r.low));
  const high = Math.max(...late.map((r) => r.high));
  const pad = (high - low) * 0.05 || Math.abs(high) * 0.01 || 0.01;
  return [low - pad, high + pad];
}

export interface FinalLossRow {
  variant: string;
  mean: number;
  std: number;
  n: number;
  baseline: boolean;
}

/**
 * Final validation loss per variant as a dot with a ±std error bar (none where n = 1, which the label
 * says), one row per variant in the given order, the baseline highlighted and marked by a dashed line.
 * Dots rather than bars: the x axis does not start at zero, and bar lengths would then mislead.
 */
export function finalLossSpec(rows: FinalLossRow[]): TopLevelSpec {
  const values = rows.map((r) => {
    const spread = r.n > 1 ? ` ± ${r.std.toFixed(3)}` : "";
    return {
      ...r,
      label: `${r.variant}${r.baseline ? " (baseline)" : ""}`,
      low: r.mean - (r.n > 1 ? r.std : 0),
      high: r.mean + (r.n > 1 ? r.std : 0),
      text: `${r.mean.toFixed(3)}${spread} (n = ${r.n})`,
      role: r.baseline ? "baseline" : "variant",
    };
  });
  const low = Math.min(...values.map((v) => v.low));
  const high = Math.max(...values.map((v) => v.high));
  const range = high - low || Math.abs(high) * 0.01 || 0.01;
  const domain = [low - 0.1 * range, high + 0.1 * range];
  const labels = values.map((v) => v.label);
  const y = { field: "label", type: "nominal", title: null, sort: labels } as const;
  const x = {
    type: "quantitative",
    scale: { zero: false, domain, nice: false },
    title: `final validation loss (${LOSS_UNIT}, lower is better)`,
  } as const;
  const baselineMeans = values.filter((v) => v.baseline).map((v) => ({ mean: v.mean }));
  const anySingleSeed = rows.some((r) => r.n === 1);
  const dots = {
    width: 400,
    height: { step: 30 },
    layer: [
      {
        data: { values: baselineMeans },
        mark: { type: "rule", strokeDash: [4, 3], color: "#888" },
        encoding: { x: { ...x, field: "mean" } },
      },
      {
        data: { values },
        encoding: { y: { ...y, axis: { labelLimit: 320 } }, color: roleColor },
        layer: [
          {
            transform: [{ filter: "datum.n > 1" }],
            mark: { type: "rule", strokeWidth: 1.5 },
            encoding: { x: { ...x, field: "low" }, x2: { field: "high" } },
          },
          {
            mark: { type: "point", filled: true, size: 70, opacity: 1 },
            encoding: { x: { ...x, field: "mean" } },
          },
        ],
      },
    ],
  };
  // The numbers sit in a column of their own beside the plot, where no dot, bar or rule can cross them.
  const numbers = {
    title: { text: "mean ± std", fontSize: 11, anchor: "start", orient: "top" },
    width: 150,
    height: { step: 30 },
    view: { stroke: null },
    data: { values },
    mark: { type: "text", align: "left", fontSize: 11 },
    encoding: {
      y: { ...y, axis: null },
      x: { value: 0 },
      text: { field: "text" },
      color: roleColor,
    },
  };
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: {
      text: "Final validation loss",
      subtitle:
        "mean ± std over seeds" +
        (anySingleSeed ? " (no error bar where n = 1)" : "") +
        (baselineMeans.length > 0 ? "; dashed line: baseline" : ""),
      anchor: "start",
      offset: 12,
    },
    hconcat: [dots, numbers],
    spacing: 14,
    config: { concat: { spacing: 14 } },
  } as TopLevelSpec;
}

const roleColor = {
  field: "role",
  type: "nominal",
  scale: { domain: ["baseline", "variant"], range: ["#d62728", "#1f5f99"] },
  legend: null,
} as const;

/** Cells with values printed in them up to this many rows and columns; larger grids get too small. */
const MAX_LABELLED_GRID = 12;

/**
 * Learned depth-attention weights, sublayer (rows, top to bottom in depth order) × source (columns in
 * source order). null marks a source the sublayer cannot see and is drawn as a light grey cell.
 */
export function depthHeatmapSpec(
  title: string,
  rows: string[],
  cols: string[],
  weights: (number | null)[][],
  subtitle = "softmax weight over sources; grey: source not visible to the sublayer",
  rowTitle = "sublayer (input → output)",
): TopLevelSpec {
  if (weights.length !== rows.length || weights.some((w) => w.length !== cols.length)) {
    throw new Error(`depthHeatmapSpec: weights must be ${rows.length} × ${cols.length}`);
  }
  const cells = weights.flatMap((line, i) =>
    line.map((weight, j) => ({ sublayer: rows[i], source: cols[j], weight })),
  );
  const visible = weights.flat().filter((w): w is number => w !== null && Number.isFinite(w));
  const max = Math.max(0, ...visible) || 1;
  // softmax weights lie in [0, 1]; learned linear weights (DenseFormer) may be negative: then the
  // scale diverges around 0, blue for positive and red for negative
  const min = Math.min(0, ...visible);
  const signed = min < 0;
  const bound = Math.max(max, -min);
  const labelled = rows.length <= MAX_LABELLED_GRID && cols.length <= MAX_LABELLED_GRID;
  const cell = labelled ? 38 : Math.max(8, Math.floor(480 / Math.max(rows.length, cols.length)));
  const x = {
    field: "source",
    type: "nominal",
    sort: cols,
    title: "source",
    axis: { labelAngle: -40, labelLimit: 160 },
  } as const;
  const y = { field: "sublayer", type: "nominal", sort: rows, title: rowTitle } as const;
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: title, subtitle },
    data: { values: cells },
    width: { step: cell },
    height: { step: labelled ? 30 : cell },
    encoding: { x, y },
    layer: [
      {
        transform: [{ filter: "datum.weight === null" }],
        mark: { type: "rect", color: "#ececec" },
      },
      {
        transform: [{ filter: "datum.weight !== null" }],
        mark: { type: "rect" },
        encoding: {
          color: {
            field: "weight",
            type: "quantitative",
            title: "weight",
            scale: signed
              ? { scheme: "redblue", domain: [-bound, bound], nice: false }
              : { scheme: "blues", domain: [0, max], nice: false },
            legend: { gradientLength: Math.min(200, rows.length * (labelled ? 30 : cell)) },
          },
        },
      },
      ...(labelled
        ? [
            {
              transform: [{ filter: "datum.weight !== null" }],
              mark: { type: "text", fontSize: 10 },
              encoding: {
                text: { field: "weight", type: "quantitative", format: ".2f" },
                // Dark cells take white text; the threshold sits where the blues scheme turns dark.
                color: {
                  condition: {
                    test: signed ? `abs(datum.weight) > ${0.6 * bound}` : `datum.weight > ${0.55 * max}`,
                    value: "white",
                  },
                  value: "#222",
                },
              },
            },
          ]
        : []),
    ],
    config: { view: { stroke: null }, axis: { grid: false, domain: false, ticks: false } },
  } as TopLevelSpec;
}

const LOG_LABELS =
  "indexof([1, 2, 3, 5], round(datum.value / pow(10, floor(log(datum.value) / LN10 + 1e-9)))) >= 0 ? datum.label : ''";

export interface DepthRmsPoint {
  variant: string;
  depth: number;
  what: "hidden state" | "sublayer output";
  rms: number;
}

/**
 * RMS of the hidden state and of each sublayer's output by depth, one panel each, variants as colours,
 * y on a log scale: under PreNorm the baseline's hidden state grows with depth, diluting each sublayer.
 */
export function depthRmsSpec(series: DepthRmsPoint[]): TopLevelSpec {
  const variants = distinctInOrder(series.map((p) => p.variant));
  const panel = (what: DepthRmsPoint["what"], title: string) => {
    const values = series.filter((p) => p.what === what && p.rms > 0);
    const spread = Math.max(...values.map((p) => p.rms)) / Math.min(...values.map((p) => p.rms));
    return {
      title,
      width: 300,
      height: 230,
      data: { values },
      mark: { type: "line", strokeWidth: 1.6, point: { size: 28 } },
      encoding: {
        x: {
          field: "depth",
          type: "quantitative",
          title: "depth (sublayer index)",
          axis: { tickMinStep: 1, format: "d" },
          scale: { nice: false },
        },
        y: {
          field: "rms",
          type: "quantitative",
          title: "RMS (log scale)",
          scale: { type: "log", nice: false, padding: 8 },
          // Log ticks crowd toward the top of each decade. Over a wide range label only 1, 2, 3 and 5 times
          // powers of ten (so 10 is not the label dropped for overlapping 9); over a narrow one, all that fit.
          axis: { labelOverlap: "greedy", format: "~g", ...(spread > 4 ? { labelExpr: LOG_LABELS } : {}) },
        },
        color: {
          field: "variant",
          type: "nominal",
          title: "variant",
          scale: { domain: variants, scheme: CATEGORY_SCHEME },
          legend: LEGEND,
        },
      },
    };
  };
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: "Activation scale by depth", subtitle: "root mean square over tokens and channels" },
    hconcat: [panel("hidden state", "Hidden state"), panel("sublayer output", "Sublayer output")],
    resolve: { scale: { color: "shared", y: "independent" } },
  } as TopLevelSpec;
}

export interface ScalingPoint {
  /** the residual kind */
  kind: string;
  label: string;
  flops: number;
  loss: number;
}

export interface ScalingCurve {
  kind: string;
  a: number;
  b: number;
}

/**
 * The paper's scaling-law figure: final validation loss against training compute on log-log axes,
 * one colour per residual kind, with each kind's fitted L(C) = a·C^(−b) drawn over the sizes swept.
 */
export function scalingSpec(points: ScalingPoint[], curves: ScalingCurve[]): TopLevelSpec {
  const kinds = distinctInOrder(points.map((p) => p.kind));
  const low = Math.min(...points.map((p) => p.flops));
  const high = Math.max(...points.map((p) => p.flops));
  const samples = 24;
  const fitted = curves.flatMap((c) =>
    Array.from({ length: samples + 1 }, (_, i) => {
      const flops = low * (high / low) ** (i / samples);
      return { kind: c.kind, flops, loss: c.a * flops ** -c.b };
    }),
  );
  const x = {
    field: "flops",
    type: "quantitative",
    title: "training compute (FLOPs, log scale)",
    scale: { type: "log", nice: false, padding: 12 },
    axis: { format: "~s", labelOverlap: "greedy", tickCount: 5 },
  } as const;
  const y = {
    field: "loss",
    type: "quantitative",
    title: `final validation loss (${LOSS_UNIT}, log scale)`,
    scale: { type: "log", zero: false, nice: false, padding: 12 },
    axis: { format: "~g", labelOverlap: "greedy" },
  } as const;
  const color = {
    field: "kind",
    type: "nominal",
    title: "residual",
    scale: { domain: kinds, scheme: CATEGORY_SCHEME },
    legend: LINE_LEGEND,
  } as const;
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: {
      text: "Loss against compute, per residual kind",
      subtitle:
        "points: final validation loss of each size (mean over seeds); lines: L(C) = a·C^(−b) fitted per kind",
    },
    width: 420,
    height: 260,
    layer: [
      { data: { values: fitted }, mark: { type: "line", strokeWidth: 1.6 }, encoding: { x, y, color } },
      {
        data: { values: points },
        mark: { type: "point", filled: true, size: 60, opacity: 1 },
        encoding: { x, y, color, tooltip: [{ field: "label" }] },
      },
    ],
  } as TopLevelSpec;
}
