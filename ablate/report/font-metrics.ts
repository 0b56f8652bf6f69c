// Text widths from the font the charts are drawn with. Without a canvas, vega guesses every string to be
// 0.8 em per character, which makes room for titles and labels that is far too wide (and would let a
// `canvas` package, where installed, change the layout per machine). Reading the advance widths from the
// bundled TrueType file gives the layout the widths resvg will draw.
import { readFileSync } from "node:fs";

export interface FontMetrics {
  unitsPerEm: number;
  /** Advance width in font units of a code point; the font's default glyph width for unmapped ones. */
  advance(codePoint: number): number;
}

/** Reads the cmap (format 4: the Basic Multilingual Plane), hmtx, hhea and head tables of a TrueType font. */
export function readFontMetrics(path: string): FontMetrics {
  const font = readFileSync(path);
  const tables = new Map<string, number>();
  const numTables = font.readUInt16BE(4);
  for (let i = 0; i < numTables; i++) {
    const record = 12 + 16 * i;
    tables.set(font.toString("latin1", record, record + 4), font.readUInt32BE(record + 8));
  }
  const table = (tag: string) => {
    const offset = tables.get(tag);
    if (offset === undefined) throw new Error(`${path}: no '${tag}' table`);
    return offset;
  };
  const unitsPerEm = font.readUInt16BE(table("head") + 18);
  const numberOfHMetrics = font.readUInt16BE(table("hhea") + 34);
  const hmtx = table("hmtx");
  const glyphAdvance = (glyph: number) => font.readUInt16BE(hmtx + 4 * Math.min(glyph, numberOfHMetrics - 1));
  const glyphOf = cmapFormat4(font, table("cmap"), path);
  const cache = new Map<number, number>();
  return {
    unitsPerEm,
    advance(codePoint) {
      let width = cache.get(codePoint);
      if (width === undefined) {
        width = glyphAdvance(glyphOf(codePoint));
        cache.set(codePoint, width);
      }
      return width;
    },
  };
}

/** The code point → glyph lookup of the Windows Unicode BMP subtable (platform 3, encoding 1). */
function cmapFormat4(font: Buffer, cmap: number, path: string): (codePoint: number) => number {
  let subtable = -1;
  const count = font.readUInt16BE(cmap + 2);
  for (let i = 0; i < count; i++) {
    const record = cmap + 4 + 8 * i;
    if (font.readUInt16BE(record) === 3 && font.readUInt16BE(record + 2) === 1) {
      subtable = cmap + font.readUInt32BE(record + 4);
    }
  }
  if (subtable < 0 || font.readUInt16BE(subtable) !== 4) throw new Error(`${path}: no format 4 Unicode cmap`);
  const segments = font.readUInt16BE(subtable + 6) / 2;
  const endCodes = subtable + 14;
  const startCodes = endCodes + 2 * segments + 2; // + reservedPad
  const idDeltas = startCodes + 2 * segments;
  const idRangeOffsets = idDeltas + 2 * segments;
  return (codePoint) => {
    if (codePoint > 0xffff) return 0;
    for (let s = 0; s < segments; s++) {
      if (codePoint > font.readUInt16BE(endCodes + 2 * s)) continue;
      const start = font.readUInt16BE(startCodes + 2 * s);
      if (codePoint < start) return 0;
      const delta = font.readUInt16BE(idDeltas + 2 * s);
      const rangeOffsetAt = idRangeOffsets + 2 * s;
      const rangeOffset = font.readUInt16BE(rangeOffsetAt);
      if (rangeOffset === 0) return (codePoint + delta) & 0xffff;
      const glyph = font.readUInt16BE(rangeOffsetAt + rangeOffset + 2 * (codePoint - start));
      return glyph === 0 ? 0 : (glyph + delta) & 0xffff;
    }
    return 0;
  };
}

/** Width in pixels of `text` set at `fontSize` pixels, without kerning (a fraction of a pixel per pair). */
export function textWidth(metrics: FontMetrics, text: string, fontSize: number): number {
  let units = 0;
  for (const ch of text) units += metrics.advance(ch.codePointAt(0)!);
  return (units * fontSize) / metrics.unitsPerEm;
}
