// Positive checks: the examples resolve to the expected ModelSpecs, inheritance re-evaluates
// dependent fields, ablations produce their variants, and train settings get their defaults.

import { describe, expect, it } from "vitest";
import { findModel, loadProgram, loadSource } from "../compiler/frontend.js";
import { blockSizes, sublayersOf } from "../compiler/spec.js";
import { attnResidual } from "./golden/specs.js";

function clean(files: string[]) {
  const result = loadProgram(files);
  expect(result.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return result;
}

describe("examples", () => {
  it("tiny: 4 gpt layers of attention (GQA 4/2) + SwiGLU 256, rmsnorm, rope, tied, add", () => {
    const tiny = findModel(clean(["examples/tiny.arch"]), "tiny");
    expect([tiny.vocab, tiny.context, tiny.dim]).toEqual([256, 64, 64]);
    expect(tiny.layers).toHaveLength(4);
    for (const layer of tiny.layers)
      expect(layer).toEqual({
        block: "gpt_layer",
        sublayers: [
          { kind: "attention", heads: 4, kvHeads: 2, headDim: 16 },
          { kind: "mlp", mlp: "swiglu", hidden: 256 },
        ],
      });
    expect(tiny.residual).toEqual({ kind: "add" });
    expect(tiny.norm).toEqual({ kind: "rmsnorm", eps: 1e-6 });
    expect(tiny.position).toEqual({ kind: "rope", theta: 10000 });
    expect(tiny.fields.hidden).toBe(256);
    expect(tiny.fields.norm).toBe("rmsnorm(eps=1e-6)");
  });

  it("tiny_attnres is Full AttnRes with the paper's defaults; findModel picks the file's last model", () => {
    const model = findModel(clean(["examples/tiny_attnres.arch"]));
    expect(model.name).toBe("tiny_attnres");
    expect(model.residual).toEqual(attnResidual());
  });

  it("tiny_block has N = 2 blocks of two layers", () => {
    const model = findModel(clean(["examples/tiny_block.arch"]));
    expect(model.residual).toMatchObject({ kind: "attn", blocks: 2 });
    expect(blockSizes(model.layers.length, 2)).toEqual([2, 2]);
  });

  it("deep48 has 48 layers, 96 sublayers, 12 blocks", () => {
    const model = findModel(clean(["examples/deep48.arch"]), "deep48");
    expect(model.layers).toHaveLength(48);
    expect(sublayersOf(model)).toHaveLength(96);
    expect(model.residual).toMatchObject({ blocks: 12 });
  });

  it("gpt2_classic mixes layer kinds with layernorm, gelu, learned positions, untied head", () => {
    const model = findModel(clean(["examples/gpt2_classic.arch"]), "gpt2_classic");
    expect(model.layers.map((l) => l.block)).toEqual(["gpt_layer", "gpt_layer", "gpt_layer", "mlp_layer"]);
    expect(model.layers[3].sublayers).toEqual([{ kind: "mlp", mlp: "gelu", hidden: 384 }]);
    expect(model.norm).toEqual({ kind: "layernorm", eps: 1e-5 });
    expect(model.position).toEqual({ kind: "learned" });
    expect(model.tied).toBe(false);
  });

  it("the tiny train block and its defaults", () => {
    const train = clean(["examples/tiny.arch"]).program.trains.get("tiny_run")!;
    expect(train).toMatchObject({
      model: "tiny",
      batch: 8,
      seq: 64,
      steps: 200,
      evalEvery: 50,
      evalBatches: 4,
      logEvery: 10,
      seed: 1,
    });
    expect(train.optimizer).toEqual({
      kind: "adamw",
      lr: 3e-3,
      beta1: 0.9,
      beta2: 0.95,
      eps: 1e-8,
      weightDecay: 0.1,
      clip: 1,
    });
    expect(train.schedule).toEqual({ kind: "cosine", warmup: 20, minLrRatio: 0.1 });
  });

  it("the residual ablation yields one variant per value", () => {
    const ablation = clean(["examples/tiny.arch"]).program.ablations.get("residuals")!;
    expect(ablation.base).toBe("tiny");
    expect(ablation.variants.map((v) => v.label)).toEqual([
      "add",
      "attn",
      "attn(block=2)",
      "attn(block=2, key_norm=false)",
      "attn(score=sigmoid)",
    ]);
    expect(ablation.variants[3].model.name).toBe("tiny[residual=attn(block=2, key_norm=false)]");
    expect(ablation.variants[3].model.residual).toMatchObject({ blocks: 2, keyNorm: false });
    expect(ablation.variants[4].model.residual).toMatchObject({ blocks: null, score: "sigmoid" });
  });
});

describe("inheritance and evaluation", () => {
  const base = `import std.transformer\n`;

  it("overriding dim re-evaluates hidden = 4 * dim and head_dim", () => {
    const result = loadSource("t.arch", base + "model wide extends gpt { dim: 256 }");
    const model = findModel(result, "wide");
    expect(model.layers[0].sublayers).toEqual([
      { kind: "attention", heads: 4, kvHeads: 4, headDim: 64 },
      { kind: "mlp", mlp: "swiglu", hidden: 1024 },
    ]);
  });

  it("a grandchild sees both ancestors' overrides", () => {
    const result = loadSource(
      "t.arch",
      base + "model a extends gpt { depth: 6 }\nmodel b extends a { heads: 8 kv_heads: 2 }",
    );
    const model = findModel(result, "b");
    expect(model.layers).toHaveLength(6);
    expect(model.layers[0].sublayers[0]).toEqual({ kind: "attention", heads: 8, kvHeads: 2, headDim: 16 });
  });

  it("stacks concatenate and repeat", () => {
    const result = loadSource(
      "t.arch",
      base +
        "model m extends gpt { layers: (gpt_layer(heads = 4, hidden = 64) + mlp_layer(hidden = 32)) * 2 + double_mlp_layer(heads = 2, hidden = 16) }",
    );
    const model = findModel(result, "m");
    expect(model.layers.map((l) => l.block)).toEqual([
      "gpt_layer",
      "mlp_layer",
      "gpt_layer",
      "mlp_layer",
      "double_mlp_layer",
    ]);
    expect(model.layers[4].sublayers.map((s) => s.kind)).toEqual(["mlp", "mlp", "attention"]);
  });

  it("all residual switches map onto ResidualSpec", () => {
    const result = loadSource(
      "t.arch",
      base +
        "model m extends gpt { residual: attn(block = 4, key_norm = false, score = sigmoid, weights = static, query = projected) }",
    );
    expect(findModel(result, "m").residual).toEqual({
      kind: "attn",
      blocks: 4,
      keyNorm: false,
      score: "sigmoid",
      weights: "static",
      query: "projected",
    });
  });

  it("arithmetic: precedence, modulo, exact division", () => {
    const result = loadSource(
      "t.arch",
      base + "model m extends gpt { depth: 2 + 3 * 2 - 10 % 4 hidden: dim / 2 * 3 }",
    );
    const model = findModel(result, "m");
    expect(model.layers).toHaveLength(6);
    expect(model.fields.hidden).toBe(192);
  });

  it("findModel throws a user error with a suggestion for an unknown name", () => {
    expect(() => findModel(loadSource("t.arch", base), "gtp")).toThrow(/did you mean 'gpt'/);
  });
});
