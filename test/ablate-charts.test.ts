import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  depthHeatmapSpec,
  depthRmsSpec,
  finalLossSpec,
  scalingSpec,
  lossCurvesSpec,
  renderChart,
  type DepthRmsPoint,
  type LossPoint,
} from "../ablate/report/charts.js";
import { emaSmooth } from "../ablate/report/series.js";
import { heatmapColumns } from "../ablate/report/write.js";

// Set ABLATE_CHARTS_DIR=/tmp/charts to keep the PNGs and look at them.
const keepDir = process.env.ABLATE_CHARTS_DIR;
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Deterministic uniform noise in [-1, 1) (a linear congruential generator), so the fake data is fixed. */
function noise(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 31 - 1;
  };
}

const VARIANTS = ["add", "attn", "attn(block = 2, key_norm = false)"];
const TOKENS_PER_STEP = 8 * 64;

/** 3 variants × 2 seeds, 200 steps: noisy training loss every step, validation every 25 steps. */
function fakeLossSeries(): LossPoint[] {
  const series: LossPoint[] = [];
  VARIANTS.forEach((variant, v) => {
    for (const seed of [1, 2]) {
      const rand = noise(100 * v + seed);
      const curve = (step: number) => 2.3 - 0.06 * v + 3.25 * Math.exp(-step / 30) + 0.02 * (seed - 1.5);
      for (let step = 1; step <= 200; step++) {
        const loss = curve(step) + 0.12 * rand();
        series.push({ variant, seed, kind: "train", step, tokens: step * TOKENS_PER_STEP, loss });
      }
      for (let step = 0; step <= 200; step += 25) {
        const loss = curve(step) + 0.05 + 0.01 * rand();
        series.push({ variant, seed, kind: "val", step, tokens: step * TOKENS_PER_STEP, loss });
      }
    }
  });
  return series;
}

function fakeHeatmap(): { rows: string[]; cols: string[]; weights: (number | null)[][] } {
  // Depth 4: 8 sublayers plus the output; each sees the embedding and every earlier sublayer.
  const rows = [...Array.from({ length: 4 }, (_, l) => [`L${l}.attn`, `L${l}.mlp`]).flat(), "output"];
  const cols = ["embed", ...rows.slice(0, 8)];
  const rand = noise(7);
  const weights = rows.map((_, i) =>
    cols.map((_, j) =>
      j <= i ? Math.exp(2 * (j === i ? 1 : 0) + (j === 0 ? 0.8 : 0) + 0.6 * rand()) : null,
    ),
  );
  const normalized = weights.map((line) => {
    const sum = line.reduce<number>((s, w) => s + (w ?? 0), 0);
    return line.map((w) => (w === null ? null : w / sum));
  });
  return { rows, cols, weights: normalized };
}

function fakeRms(): DepthRmsPoint[] {
  const series: DepthRmsPoint[] = [];
  for (let depth = 0; depth < 8; depth++) {
    series.push({ variant: "add (baseline)", depth, what: "hidden state", rms: 1 + 0.9 * depth ** 1.3 });
    series.push({ variant: "add (baseline)", depth, what: "sublayer output", rms: 0.6 + 0.25 * depth });
    series.push({ variant: "attn", depth, what: "hidden state", rms: 1.1 + 0.05 * Math.sin(depth) });
    series.push({ variant: "attn", depth, what: "sublayer output", rms: 0.8 + 0.04 * depth });
  }
  return series;
}

const charts = {
  "loss-curves": () => lossCurvesSpec(fakeLossSeries()),
  "final-loss": () =>
    finalLossSpec([
      { variant: "add", mean: 2.402, std: 0.011, n: 3, baseline: true },
      { variant: "attn", mean: 2.351, std: 0.008, n: 3, baseline: false },
      { variant: "attn(block = 2)", mean: 2.366, std: 0.014, n: 3, baseline: false },
      { variant: "attn(block = 2, key_norm = false)", mean: 2.389, std: 0, n: 1, baseline: false },
      { variant: "attn(score = sigmoid)", mean: 2.377, std: 0.02, n: 3, baseline: false },
    ]),
  "depth-heatmap": () => {
    const h = fakeHeatmap();
    return depthHeatmapSpec("Depth attention: attn, seed 1", h.rows, h.cols, h.weights);
  },
  "depth-rms": () => depthRmsSpec(fakeRms()),
  scaling: () =>
    scalingSpec(
      [1e9, 2e9, 4e9].flatMap((flops) => [
        { kind: "add", label: `add at ${flops}`, flops, loss: 10 * flops ** -0.1 },
        { kind: "attn(block=2)", label: `attn at ${flops}`, flops, loss: 10 * (1.25 * flops) ** -0.1 },
      ]),
      [
        { kind: "add", a: 10, b: 0.1 },
        { kind: "attn(block=2)", a: 10 * 1.25 ** -0.1, b: 0.1 },
      ],
    ),
};

const expectedText: Record<keyof typeof charts, string[]> = {
  "loss-curves": [
    "Loss during training",
    "Training loss (EMA, β = 0.9)",
    "Validation loss",
    "training tokens",
  ]
    .concat(VARIANTS)
    .concat(["loss (nats/token)", "min–max over seeds"]),
  "final-loss": ["Final validation loss", "add (baseline)", "attn(block = 2, key_norm = false)", "(n = 1)"],
  "depth-heatmap": ["Depth attention: attn, seed 1", "L3.mlp", "embed", "output", "source", "0."],
  scaling: [
    "Loss against compute, per residual kind",
    "training compute (FLOPs, log scale)",
    "attn(block=2)",
  ],
  "depth-rms": [
    "Hidden state",
    "Sublayer output",
    "depth (sublayer index)",
    "RMS (log scale)",
    "add (baseline)",
  ],
};

/** SVG escapes text: compare against what a reader sees. */
function svgText(svg: string): string {
  return svg
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&")
    .replace(/&quot;/g, '"');
}

describe("charts", () => {
  for (const [name, makeSpec] of Object.entries(charts) as [keyof typeof charts, () => never][]) {
    it(`renders ${name} with its labels, as a plausible PNG, deterministically`, async () => {
      const first = await renderChart(makeSpec());
      const second = await renderChart(makeSpec());
      if (keepDir) {
        mkdirSync(keepDir, { recursive: true });
        writeFileSync(join(keepDir, `${name}.png`), first.png);
        writeFileSync(join(keepDir, `${name}.svg`), first.svg);
      }
      for (const text of expectedText[name]) expect(svgText(first.svg)).toContain(text);
      expect(first.svg.startsWith("<svg")).toBe(true);
      expect(first.png.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
      expect(first.png.length).toBeGreaterThan(10_000);
      expect(first.png.length).toBeLessThan(2_000_000);
      // Width and height from the IHDR chunk: 2x the SVG's size.
      const width = first.png.readUInt32BE(16);
      const svgWidth = Number(/width="(\d+(?:\.\d+)?)"/.exec(first.svg)![1]);
      expect(width).toBe(Math.round(2 * svgWidth));
      expect(second.svg === first.svg, "SVG differs between two renders").toBe(true);
      expect(second.png.equals(first.png)).toBe(true);
    });
  }

  it("draws no band for a variant with one seed", async () => {
    const oneSeed = fakeLossSeries().filter((p) => p.seed === 1);
    const { svg } = await renderChart(lossCurvesSpec(oneSeed));
    expect(svg).toContain("one seed per variant");
    expect(svg).not.toMatch(/mark-area/);
    const twoSeeds = await renderChart(lossCurvesSpec(fakeLossSeries()));
    expect(twoSeeds.svg).toMatch(/mark-area/);
  });

  it("leaves invisible heatmap cells unlabelled and drops labels on large grids", async () => {
    const spec = depthHeatmapSpec(
      "tiny",
      ["a", "b"],
      ["x", "y"],
      [
        [1, null],
        [0.25, 0.75],
      ],
    );
    const { svg } = await renderChart(spec);
    expect(svg).toContain(">0.25<");
    expect(svg).toContain(">1.00<");
    expect(svg.match(/mark-text role-mark/g)?.length).toBe(1);
    const n = 20;
    const big = Array.from({ length: n }, (_, i) =>
      Array.from({ length: n }, (_, j) => (j <= i ? 1 / (i + 1) : null)),
    );
    const names = Array.from({ length: n }, (_, i) => `s${i}`);
    const bigSvg = (await renderChart(depthHeatmapSpec("big", names, names, big))).svg;
    expect(bigSvg).not.toContain(">0.05<");
    expect(() => depthHeatmapSpec("bad", ["a"], ["x", "y"], [[1]])).toThrow(/1 × 2/);
  });
});

describe("emaSmooth", () => {
  it("is bias-corrected, so a constant stays constant from the first point", () => {
    expect(emaSmooth([3, 3, 3], 0.9).map((x) => Number(x.toFixed(12)))).toEqual([3, 3, 3]);
  });

  it("weights recent values by 1 - beta", () => {
    // m1 = 0.5 * 1 / 0.5 = 1; m2 = (0.25 + 0.5 * 3) / 0.75 = 7/3.
    const [a, b] = emaSmooth([1, 3], 0.5);
    expect(a).toBe(1);
    expect(b).toBeCloseTo(7 / 3, 14);
  });

  it("skips non-finite values", () => {
    expect(emaSmooth([NaN, 2, NaN, 2], 0.9).map((x) => (Number.isNaN(x) ? "NaN" : x.toFixed(9)))).toEqual([
      "NaN",
      "2.000000000",
      "2.000000000",
      "2.000000000",
    ]);
  });
});

describe("heatmapColumns", () => {
  it("keeps every source of Block AttnRes, the last block included, with the partial sum last", () => {
    const aggregations = [
      { sources: ["embedding"] },
      { sources: ["embedding", "partial"] },
      { sources: ["embedding", "block 1", "partial"] },
      { sources: ["embedding", "block 1", "block 2"] },
    ];
    expect(heatmapColumns(aggregations)).toEqual(["embedding", "block 1", "block 2", "partial"]);
  });
});
