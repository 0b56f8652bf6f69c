// Renders a vega-lite spec to SVG and PNG without a browser, with a bundled font, so the same spec gives
// the same bytes on every machine (no system fonts, no canvas text measurement).
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { Resvg } from "@resvg/resvg-js";
import * as vega from "vega";
import * as vegaLite from "vega-lite";
import type { TopLevelSpec } from "vega-lite";
import { readFontMetrics, textWidth, type FontMetrics } from "./font-metrics.js";

export const CHART_FONT = "DejaVu Sans";

/** Resolved through the package, not a path relative to this file: it runs from the sources and from dist/. */
function chartFontFile(bold: boolean): string {
  const fontPackage = createRequire(import.meta.url).resolve("dejavu-fonts-ttf/package.json");
  return join(dirname(fontPackage), "ttf", bold ? "DejaVuSans-Bold.ttf" : "DejaVuSans.ttf");
}

interface TextItem {
  fontSize?: number;
  fontWeight?: string | number;
}
/** Exported by vega at run time (from vega-scenegraph) but missing from its type declarations. */
const textMetrics = (vega as unknown as { textMetrics: { width: (item: TextItem, text?: string) => number } })
  .textMetrics;

let fontMetrics: { regular: FontMetrics; bold: FontMetrics } | undefined;

/**
 * Makes vega lay out text with the widths of the bundled font (titles and axis titles are bold). Vega calls a
 * replaced textMetrics.width for every measurement (vl-convert does the same); the setting is process-wide
 * and idempotent. Strings beyond a label limit are measured whole, so their room is overestimated.
 */
function measureTextWithChartFont(): void {
  fontMetrics ??= {
    regular: readFontMetrics(chartFontFile(false)),
    bold: readFontMetrics(chartFontFile(true)),
  };
  const { regular, bold } = fontMetrics;
  textMetrics.width = (item, text) => {
    const size = item.fontSize ?? 11;
    const weight = item.fontWeight;
    const isBold = weight === "bold" || weight === "bolder" || (typeof weight === "number" && weight >= 600);
    return textWidth(isBold ? bold : regular, String(text ?? "").trim(), size);
  };
}

export interface RenderedChart {
  svg: string;
  png: Buffer;
}

export async function renderChart(spec: TopLevelSpec): Promise<RenderedChart> {
  const withFont = {
    ...spec,
    background: "white",
    config: { ...spec.config, font: CHART_FONT },
  } as TopLevelSpec;
  measureTextWithChartFont();
  const compiled = vegaLite.compile(withFont).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none" });
  let svg: string;
  try {
    svg = await view.toSVG();
  } finally {
    view.finalize();
  }
  svg = renumberIds(svg);
  const png = new Resvg(svg, {
    background: "white",
    fitTo: { mode: "zoom", value: 2 }, // 2x: sharp when a paper is zoomed or printed
    font: {
      fontFiles: [chartFontFile(false), chartFontFile(true)],
      loadSystemFonts: false,
      defaultFontFamily: CHART_FONT,
    },
  })
    .render()
    .asPng();
  return { svg, png };
}

/**
 * Vega numbers clip paths and gradients with counters that live as long as the process ("clip14" in the
 * second chart), so the same spec would give different SVG bytes. Renumber every numbered id, and the
 * references to it, in order of first appearance.
 */
function renumberIds(svg: string): string {
  const renamed = new Map<string, string>();
  const counters = new Map<string, number>();
  for (const [, prefix, number] of svg.matchAll(/\bid="([A-Za-z_-]*?)(\d+)"/g)) {
    const old = prefix + number;
    if (renamed.has(old)) continue;
    const next = (counters.get(prefix) ?? 0) + 1;
    counters.set(prefix, next);
    renamed.set(old, prefix + next);
  }
  return svg.replace(
    /(\bid="|url\(#|href="#)([A-Za-z_-]*?\d+)(?=[")])/g,
    (match, lead: string, id: string) => (renamed.has(id) ? lead + renamed.get(id) : match),
  );
}
