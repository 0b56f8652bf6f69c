// Property test: whatever text arrives — random, an example file mangled by deletions,
// insertions and swaps of characters and tokens, or a hostile file built to be deep (chains of
// blocks, fields, parameter defaults, models, cycles) or wide (hundreds of thousands of fields) —
// loadSource returns diagnostics in bounded time, never throws, never reports an internal error or
// a stack trace, and every span lies within its file's text. Seeds are fixed: runs are reproducible.
// More than 10,000 inputs in all.

import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { readFileSync, readdirSync } from "node:fs";
import { formatDiagnostics, loadSource, type LoadResult } from "../compiler/frontend.js";

// a multi-field sweep with every ablation setting, so that mutations reach the sweep checks
const sweep = `import std.transformer
model tiny extends gpt { context: 64 dim: 64 }
train tiny_run { model: tiny steps: 20 }
ablation scaling of tiny {
  depth: [2, 4]
  residual: [add, attn(block = 2)]
  context: 32
  seeds: [1, 2]
  train: tiny_run
  baseline: "depth=2, residual=add"
  combine: zip
}
`;

const seeds = [
  ...[...readdirSync("examples").map((f) => `examples/${f}`), "stdlib/transformer.arch"].map((file) =>
    readFileSync(file, "utf8").replace(/import[^\n]*\n/g, (line) => (line.includes("std.") ? line : "")),
  ),
  sweep,
];

const fragments = [
  "(",
  ")",
  "[",
  "]",
  "{",
  "}",
  ":",
  "=",
  ",",
  "*",
  "/",
  "+",
  "-",
  "%",
  '"',
  "/*",
  "*/",
  "model",
  "block",
  "extends",
  "1e999",
  "0",
  "attn",
  "layers",
  "\u0000",
  "\n",
  "dim",
  "99999999999999999999",
  "seeds",
  "combine",
  "baseline",
  "[2, 4]",
];

function assertWellFormed(result: LoadResult): void {
  for (const d of result.diagnostics) {
    expect(d.code, d.message).not.toBe("A0901");
    expect(d.message).not.toMatch(/\n\s+at /);
    expect(d.span.line).toBeGreaterThanOrEqual(1);
    expect(d.span.column).toBeGreaterThanOrEqual(1);
    const text = result.sources.get(d.span.file);
    expect(text, `source of ${d.span.file}`).toBeDefined();
    expect(d.span.offset).toBeGreaterThanOrEqual(0);
    expect(d.span.offset + d.span.length).toBeLessThanOrEqual(text!.length);
    const before = text!.slice(0, d.span.offset).split("\n");
    expect(d.span.line).toBe(before.length);
    expect(d.span.column).toBe(before[before.length - 1].length + 1);
  }
}

const base = "block x { mlp(hidden = 8) }\n";
const lines = (n: number, line: (i: number) => string) =>
  Array.from({ length: n }, (_, i) => line(i)).join("\n");

/** Generators of hostile programs by size: chains, cycles and wide declarations. */
const hostile = {
  blockChain: (n: number) =>
    lines(n, (i) => `block b${i} { b${i + 1}() }`) +
    `\nblock b${n} { mlp(hidden = 8) }\nmodel m { vocab: 256 context: 8 dim: 8 layers: b0 * 2 }\n`,
  blockDoubling: (n: number) =>
    lines(n, (i) => `block b${i} { b${i + 1}() b${i + 1}() }`) +
    `\nblock b${n} { }\nmodel m { vocab: 256 context: 8 dim: 8 layers: b0 }\n`,
  fieldChain: (n: number) =>
    `${base}model m { vocab: 256 context: 8 dim: f0 layers: x * 1\n` +
    lines(n, (i) => `f${i}: f${i + 1}`) +
    `\nf${n}: 8 }\n`,
  fieldCycle: (n: number) =>
    `${base}model m { vocab: 256 context: 8 dim: f0 layers: x * 1\n` +
    lines(n, (i) => `f${i}: f${(i + 1) % n}`) +
    "\n}\n",
  nestedChain: (n: number) =>
    `${base}model m { vocab: 256 context: 8 dim: f0 layers: x * 1\n` +
    lines(n, (i) => `f${i}: ${"rope(".repeat(30)}f${i + 1}${")".repeat(30)}`) +
    `\nf${n}: 8 }\n`,
  paramChain: (n: number) =>
    `block x(p0 = 8${Array.from({ length: n }, (_, i) => `, p${i + 1} = p${i}`).join("")}) { mlp(hidden = p${n}) }\n` +
    "model m { vocab: 256 context: 8 dim: 8 layers: x * 1 }\n",
  extendsChain: (n: number) =>
    `${base}model m0 { vocab: 256 context: 8 dim: 8 layers: x * 1 }\n` +
    lines(n, (i) => `model m${i + 1} extends m${i} { f${i}: ${i} }`),
  extendsCycle: (n: number) => lines(n, (i) => `model m${i} extends m${(i + 1) % n} { f: 1 }`),
  misspelledParents: (n: number) => lines(n, (i) => `model model${i} extends modl${i} { }`),
  wideModel: (n: number) =>
    `${base}model m { vocab: 256 context: 8 dim: 8 layers: x * 1\n` +
    lines(n, (i) => `h${i}: ${i}`) +
    "\n}\n",
  wideChildren: (n: number, width = n) =>
    `${base}model m0 { vocab: 256 context: 8 dim: 8 layers: x * 1\n` +
    lines(width, (i) => `h${i}: ${i}`) +
    "\n}\n" +
    lines(n, (i) => `model c${i} extends m0 { }`),
  wideBlock: (n: number) =>
    `block x { ${lines(n, () => "mlp(hidden = 8)")} }\nmodel m { vocab: 256 context: 8 dim: 8 layers: x * 1 }\n`,
};

type Edit = { kind: "delete" | "insert" | "swap"; at: number; size: number; fragment: string };

function mutate(text: string, edits: Edit[]): string {
  let out = text;
  for (const edit of edits) {
    const at = Math.floor(edit.at * (out.length + 1));
    if (edit.kind === "delete") out = out.slice(0, at) + out.slice(at + edit.size);
    else if (edit.kind === "insert") out = out.slice(0, at) + edit.fragment + out.slice(at);
    else if (at + 1 < out.length) out = out.slice(0, at) + out[at + 1] + out[at] + out.slice(at + 2);
  }
  return out;
}

const edit = fc.record({
  kind: fc.constantFrom("delete" as const, "insert" as const, "swap" as const),
  at: fc.double({ min: 0, max: 1, noNaN: true }),
  size: fc.integer({ min: 1, max: 12 }),
  fragment: fc.constantFrom(...fragments),
});

describe("the front end survives any input", () => {
  it("mutated example files", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...seeds),
        fc.array(edit, { minLength: 1, maxLength: 8 }),
        (seed, edits) => {
          assertWellFormed(loadSource("fuzz.arch", mutate(seed, edits)));
        },
      ),
      { numRuns: 5000, seed: 1701 },
    );
  });

  it("random text and random token soup", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 200 }),
          fc.array(fc.constantFrom(...fragments, " ", "x", "7")).map((a) => a.join(" ")),
        ),
        (text) => {
          assertWellFormed(loadSource("fuzz.arch", text));
        },
      ),
      { numRuns: 4000, seed: 1702 },
    );
  });

  // one property per kind of hostile program, 84 inputs each (1,008 in all), sizes up to 400
  for (const [index, kind] of (Object.keys(hostile) as (keyof typeof hostile)[]).entries())
    it(`generated ${kind} programs`, () => {
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 400 }), fc.array(edit, { maxLength: 2 }), (size, edits) => {
          // a nested chain is 60 tokens a line: a quarter of the lines keeps its inputs as large as the others'
          const text = mutate(hostile[kind](kind === "nestedChain" ? Math.ceil(size / 4) : size), edits);
          const started = performance.now();
          const result = loadSource("fuzz.arch", text);
          expect(performance.now() - started, `${kind} ${size}`).toBeLessThan(2000);
          assertWellFormed(result);
        }),
        { numRuns: 84, seed: 1703 + index },
      );
    });

  it("the largest hostile programs end in located diagnostics within 2 s each", () => {
    const build = (kind: keyof typeof hostile, size: number) =>
      kind === "wideChildren" ? hostile.wideChildren(size, 4000) : hostile[kind](size);
    const cases: [keyof typeof hostile, number, string][] = [
      ["blockChain", 5000, "A0222"],
      ["fieldChain", 4000, "A0222"],
      ["fieldCycle", 4000, "A0222"],
      ["paramChain", 5000, "A0222"],
      ["extendsChain", 5000, "A0222"],
      ["extendsCycle", 12000, "A0212"],
      ["blockDoubling", 400, "A0222"],
      ["nestedChain", 400, "A0225"],
      ["misspelledParents", 20000, "A0203"],
      ["wideModel", 300000, "A0111"],
      ["wideModel", 40000, "A0223"],
      ["wideChildren", 4000, "A0224"],
      ["wideChildren", 12000, "A0224"],
      ["wideBlock", 20000, "A0413"],
    ];
    for (const [kind, size, code] of cases) {
      const text = build(kind, size);
      const started = performance.now();
      const result = loadSource("fuzz.arch", text);
      const formatted = formatDiagnostics(result);
      const elapsed = performance.now() - started;
      expect(elapsed, `${kind} ${size}`).toBeLessThan(2000);
      expect(
        result.diagnostics.map((d) => d.code),
        `${kind} ${size}`,
      ).toContain(code);
      assertWellFormed(result);
      // at most 100 diagnostics are printed, each cut to a window of its line
      expect(formatted.length, `${kind} ${size}`).toBeLessThan(100_000);
    }
  });

  it("pathological inputs end in diagnostics", () => {
    for (const text of [
      "(".repeat(10000),
      "model m { dim: " + "-".repeat(10000) + "1 }",
      "model m { dim: " + "1+".repeat(20000) + "1 }",
      '"'.repeat(3),
      "/*",
      "\u0000\u0001",
    ]) {
      const result = loadSource("fuzz.arch", text);
      expect(result.diagnostics.length).toBeGreaterThan(0);
      assertWellFormed(result);
    }
  });
});
