// Positive checks: the examples resolve to the expected ModelSpecs, inheritance re-evaluates
// dependent fields, ablations produce their variants, and train settings get their defaults.

import { describe, expect, it } from "vitest";
import { findModel, loadProgram, loadSource } from "../compiler/frontend.js";
import { blockSizes, sublayersOf } from "../format/spec.js";
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
    expect(ablation.variants[2].values).toEqual({ residual: "attn(block=2)" });
    expect(ablation).toMatchObject({ fields: ["residual"], combine: "cross", seeds: 1, baseline: "add" });
    expect(ablation.train).toBeUndefined();
  });
});

describe("ablation sweeps", () => {
  const base = `import std.transformer
model tiny extends gpt { context: 64 dim: 64 }
train tiny_run { model: tiny steps: 20 }
`;
  const sweep = (body: string) => {
    const loaded = loadSource("t.arch", base + `ablation s of tiny {\n${body}\n}`);
    return { loaded, ablation: loaded.program.ablations.get("s") };
  };
  const errors = (body: string) => sweep(body).loaded.diagnostics.filter((d) => d.severity === "error");
  const swept = (body: string) => {
    const { loaded, ablation } = sweep(body);
    expect(loaded.diagnostics).toEqual([]);
    return ablation!;
  };

  it("crosses two fields, the first varying slowest", () => {
    const ablation = swept("depth: [2, 4]\nresidual: [add, attn(block = 2)]\nseeds: 2\ntrain: tiny_run");
    expect(ablation.fields).toEqual(["depth", "residual"]);
    expect(ablation.combine).toBe("cross");
    expect(ablation.variants.map((v) => v.label)).toEqual([
      "depth=2, residual=add",
      "depth=2, residual=attn(block=2)",
      "depth=4, residual=add",
      "depth=4, residual=attn(block=2)",
    ]);
    expect(ablation.variants.map((v) => v.model.name)).toEqual([
      "tiny[depth=2,residual=add]",
      "tiny[depth=2,residual=attn(block=2)]",
      "tiny[depth=4,residual=add]",
      "tiny[depth=4,residual=attn(block=2)]",
    ]);
    expect(ablation.variants[3].values).toEqual({ depth: "4", residual: "attn(block=2)" });
    expect(ablation.variants.map((v) => v.model.layers.length)).toEqual([2, 2, 4, 4]);
    expect(ablation.variants[3].model.residual).toMatchObject({ kind: "attn", blocks: 2 });
    expect(ablation).toMatchObject({ seeds: 2, train: "tiny_run", baseline: "depth=2, residual=add" });
  });

  it("combine: cross may be written out", () => {
    expect(swept("depth: [2, 4]\nheads: [2, 4]\ncombine: cross").variants).toHaveLength(4);
  });

  it("zips lists position by position", () => {
    const ablation = swept("depth: [2, 4, 6]\nresidual: [add, attn, attn(block = 3)]\ncombine: zip");
    expect(ablation.combine).toBe("zip");
    expect(ablation.variants.map((v) => v.label)).toEqual([
      "depth=2, residual=add",
      "depth=4, residual=attn",
      "depth=6, residual=attn(block=3)",
    ]);
    expect(ablation.variants[2].model.residual).toMatchObject({ blocks: 3 });
  });

  it("a zip of lists of different lengths names both fields and lengths", () => {
    const [error] = errors("depth: [2, 4]\nresidual: [add, attn, attn(block = 2)]\ncombine: zip");
    expect(error.code).toBe("A0605");
    expect(error.message).toContain("'depth' has 2 values and 'residual' has 3");
    expect(error.span.line).toBe(6);
  });

  it("an unknown combine gets a suggestion", () => {
    const [error] = errors("depth: [2, 4]\ncombine: zipp");
    expect(error.code).toBe("A0221");
    expect(error.message).toContain("did you mean 'zip'?");
  });

  it("seeds: a count or a list of distinct seeds", () => {
    expect(swept("depth: [2, 4]\nseeds: 3").seeds).toBe(3);
    expect(swept("depth: [2, 4]\nseeds: [0, 7, 3]").seeds).toEqual([0, 7, 3]);
    // a list of seeds is a setting, not a varied field
    expect(swept("depth: [2, 4]\nseeds: [1, 2]").variants).toHaveLength(2);
  });

  it("bad seeds are located errors", () => {
    const codes = (body: string) => errors(body).map((d) => [d.code, d.span.line, d.span.column]);
    expect(codes("depth: [2]\nseeds: 0")).toEqual([["A0305", 6, 8]]);
    expect(codes("depth: [2]\nseeds: 1.5")).toEqual([["A0302", 6, 8]]);
    expect(codes("depth: [2]\nseeds: [4, 5, 4]")).toEqual([["A0607", 6, 15]]);
    expect(codes("depth: [2]\nseeds: []")).toEqual([["A0606", 6, 8]]);
    expect(codes("depth: [2]\nseeds: add")).toEqual([["A0606", 6, 8]]);
    expect(sweep("depth: [2]\nseeds: 0").ablation).toBeUndefined();
  });

  it("an unknown train block gets a suggestion", () => {
    const [error] = errors("depth: [2, 4]\ntrain: tiny_rn");
    expect(error).toMatchObject({
      code: "A0608",
      message: "unknown train block 'tiny_rn'; did you mean 'tiny_run'?",
    });
    expect(error.span).toMatchObject({ line: 6, column: 8, length: 7 });
  });

  it("baseline picks a variant by its label", () => {
    expect(swept("residual: [add, attn(block = 2)]\nbaseline: attn(block = 2)").baseline).toBe(
      "attn(block=2)",
    );
    expect(swept('depth: [2, 4]\nresidual: [add, attn]\nbaseline: "depth=4, residual=add"').baseline).toBe(
      "depth=4, residual=add",
    );
    const [error] = errors("residual: [add, attn]\nbaseline: atn");
    expect(error.code).toBe("A0609");
    expect(error.message).toContain("did you mean 'attn'?");
    expect(error.notes).toEqual(["the variants are: add; attn"]);
    const depths = Array.from({ length: 20 }, (_, i) => i + 1);
    const [many] = errors(`depth: [${depths.join(", ")}]\nbaseline: 99`);
    expect(many.notes).toEqual([`the variants are: ${depths.slice(0, 16).join("; ")}; and 4 more`]);
  });

  it("a single value is a fixed override for every variant, not a varied field", () => {
    const ablation = swept("context: 32\nresidual: [add, attn]");
    expect(ablation.fields).toEqual(["residual"]);
    expect(ablation.variants.map((v) => v.label)).toEqual(["add", "attn"]);
    expect(ablation.variants.map((v) => v.model.context)).toEqual([32, 32]);
    expect(ablation.variants[0].model.name).toBe("tiny[residual=add]");
  });

  it("an ablation with no list varies nothing", () => {
    expect(errors("context: 32").map((d) => [d.code, d.span.line])).toEqual([["A0602", 5]]);
    expect(errors("seeds: 2").map((d) => [d.code, d.span.line])).toEqual([["A0602", 4]]);
    expect(errors("").map((d) => [d.code, d.span.line])).toEqual([["A0604", 4]]);
  });

  it("a variant that fails to check is named in a note", () => {
    const [error] = errors("depth: [0, 2]\nresidual: [add, attn]");
    expect(error.code).toBe("A0305");
    expect(error.notes).toEqual(["in variant tiny[depth=0,residual=add] of ablation 's'"]);
  });

  it("variants that build the same model are warned about, naming both", () => {
    const { loaded, ablation } = sweep("residual: [attn, attn(key_norm = true), add]");
    expect(loaded.diagnostics.map((d) => [d.code, d.severity, d.message])).toEqual([
      ["A0610", "warning", "variants 'attn' and 'attn(key_norm=true)' of ablation 's' build the same model"],
    ]);
    expect(ablation!.variants).toHaveLength(3);
  });

  it("a field the base model lacks is A0204; a setting's misspelling is suggested", () => {
    expect(errors("deph: [2, 4]").map((d) => [d.code, d.message])).toEqual([
      ["A0204", "unknown field 'deph' in model 'tiny'; did you mean 'depth'?"],
    ]);
    expect(errors("depth: [2, 4]\nsedes: 2").map((d) => d.message)).toEqual([
      "unknown field 'sedes' in model 'tiny'; did you mean 'seeds'?",
    ]);
  });

  it("a setting given twice is A0207", () => {
    expect(errors("depth: [2, 4]\nseeds: 2\nseeds: 3").map((d) => d.code)).toEqual(["A0207"]);
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
