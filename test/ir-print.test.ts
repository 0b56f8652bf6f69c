import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { expectGolden } from "./golden-file.js";
import type { ModelSpec } from "../format/spec.js";
import { lowerModel } from "../compiler/ir/lower.js";
import { printGraph } from "../compiler/ir/print.js";
import { verifyGraph } from "../compiler/ir/verify.js";
import { loadProgram } from "../compiler/frontend.js";
import { blockRes, FULL, tinySpec } from "./golden/specs.js";

// UPDATE_GOLDEN=1 npx vitest run test/ir-print.test.ts rewrites the expected dumps
const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");
const shape = { batch: 2, seq: 8 };

/** compares against test/golden/<file>; a missing golden fails (UPDATE_GOLDEN=1 writes it, for review) */
function checkGolden(file: string, text: string): void {
  expectGolden(join("golden", file), text);
}

function dump(spec: ModelSpec): string {
  const graph = lowerModel(spec, shape);
  expect(verifyGraph(graph)).toEqual([]);
  return printGraph(graph, shape);
}

describe("printGraph", () => {
  it("prints header, params, nodes with attrs and scopes, and outputs", () => {
    const text = dump(tinySpec({ layers: 1, residual: blockRes(1) }));
    const lines = text.split("\n");
    expect(lines[0]).toBe("graph tiny (batch=2, seq=8)");
    expect(lines).toContain("param embed.tokens: f32[32,16] = normal(0.02)  # embedding, decay");
    expect(lines).toContain("param layers.0.attn.res.query: f32[16] = zeros  # attnres");
    expect(lines).toContain("%0 = input tokens : i32[2,8]");
    expect(text).toMatch(
      /^%\d+ = attnres %\d+, %\d+, %\d+, %\d+ \{eps=0\.000001, key_norm=true, score=softmax, sources=2\} : f32\[2,8,16\]   # layers\.0\.mlp\.res$/m,
    );
    expect(text).toMatch(/^%\d+ = matmul %\d+, %\d+ \{ta=false, tb=false\} : f32\[2,8,32\]   # head$/m);
    expect(lines.at(-3)).toMatch(/^output logits = %\d+$/);
    expect(lines.at(-2)).toMatch(/^output loss = %\d+$/);
  });
});

describe("golden IR dumps of hand-built specs", () => {
  const cases: [string, ModelSpec][] = [
    ["hand-baseline.ir", tinySpec({ name: "baseline" })],
    ["hand-full.ir", tinySpec({ name: "full", residual: FULL })],
    ["hand-block2.ir", tinySpec({ name: "block2", layers: 4, residual: blockRes(2) })],
    [
      "hand-ablations.ir",
      tinySpec({
        name: "ablations",
        norm: { kind: "layernorm", eps: 1e-5 },
        mlp: "gelu",
        position: { kind: "learned" },
        tied: true,
        heads: 4,
        kvHeads: 2,
        residual: blockRes(1, { keyNorm: false, score: "sigmoid", query: "projected" }),
      }),
    ],
  ];
  for (const [file, spec] of cases) it(file, () => checkGolden(file, dump(spec)));
});

// The example programs: every one of them, and a missing examples/ folder fails rather than skips.
const examplesDir = join(root, "examples");
const examples = readdirSync(examplesDir).filter((f) => f.endsWith(".arch"));

describe("golden IR dumps of the examples", () => {
  it("finds the examples", () => expect(examples.length).toBeGreaterThan(5));
  for (const file of examples)
    it(file, () => {
      const path = join(examplesDir, file);
      const result = loadProgram([path]);
      expect(result.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
      // only the models this file defines; imported ones get their own file's goldens
      const own = [...result.program.models.values()].filter((m) => m.span?.file === path);
      // a file of ablations only defines variants of imported models, each checked by the checker
      const ablations = [...result.program.ablations.values()].filter((a) => a.span?.file === path);
      expect(own.length + ablations.length).toBeGreaterThan(0);
      for (const model of own) {
        const seq = Math.min(8, model.context);
        const graph = lowerModel(model, { batch: 2, seq });
        expect(verifyGraph(graph)).toEqual([]);
        checkGolden(`${file.replace(/\.arch$/, "")}.${model.name}.ir`, printGraph(graph, { batch: 2, seq }));
      }
    });
});
