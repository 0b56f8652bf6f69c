// Property test: whatever text arrives — random, or an example file mangled by deletions,
// insertions and swaps of characters and tokens — loadSource returns diagnostics, never throws,
// never reports an internal error, and every span lies within its file's text.

import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { readFileSync, readdirSync } from "node:fs";
import { loadSource, type LoadResult } from "../compiler/frontend.js";

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
    expect(d.code).not.toBe("A0901");
    const text = result.sources.get(d.span.file);
    expect(text, `source of ${d.span.file}`).toBeDefined();
    expect(d.span.offset).toBeGreaterThanOrEqual(0);
    expect(d.span.offset + d.span.length).toBeLessThanOrEqual(text!.length);
    const before = text!.slice(0, d.span.offset).split("\n");
    expect(d.span.line).toBe(before.length);
    expect(d.span.column).toBe(before[before.length - 1].length + 1);
  }
}

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
      { numRuns: 1500 },
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
      { numRuns: 1500 },
    );
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
