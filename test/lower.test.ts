import { describe, expect, it } from "vitest";
import type { Graph } from "../compiler/ir/ir.js";
import { LoweringError, lowerModel } from "../compiler/ir/lower.js";
import { verifyGraph } from "../compiler/ir/verify.js";
import { blockSizes } from "../format/spec.js";
import { blockRes, FULL, tinySpec } from "./golden/specs.js";

const opts = { batch: 2, seq: 8 };

function lowered(spec = tinySpec()): Graph {
  const graph = lowerModel(spec, opts);
  expect(verifyGraph(graph)).toEqual([]);
  return graph;
}

const paramNames = (g: Graph) => g.params.map((p) => p.name);
const param = (g: Graph, name: string) => g.params.find((p) => p.name === name);

/** sources seen by each attnres node in order, the last being the final aggregation */
function sourceCounts(g: Graph): number[] {
  return g.nodes
    .filter((n) => n.op === "attnres" || n.op === "attnres_static")
    .map((n) => n.attrs.sources as number);
}

/** the paper's rule written independently of lowering: sources per sublayer for N blocks over layers */
function expectedBlockCounts(layers: number, sublayersPerLayer: number, blocks: number): number[] {
  const counts: number[] = [];
  blockSizes(layers, blocks).forEach((size, n) => {
    for (let i = 0; i < size * sublayersPerLayer; i++) counts.push(1 + n + (i === 0 ? 0 : 1));
  });
  counts.push(1 + blocks);
  return counts;
}

describe("lowerModel: baseline", () => {
  const g = lowered();
  it("has typed inputs and outputs", () => {
    const tokens = g.nodes.find((n) => n.op === "input" && n.attrs.name === "tokens")!;
    expect(tokens.type).toEqual({ dtype: "i32", shape: [2, 8] });
    expect(g.nodes[g.outputs.logits].type.shape).toEqual([2, 8, 32]);
    expect(g.nodes[g.outputs.loss].type.shape).toEqual([]);
    expect(g.nodes[g.outputs.loss].op).toBe("cross_entropy");
  });
  it("names parameters stably", () => {
    expect(paramNames(g)).toEqual([
      "embed.tokens",
      "layers.0.attn.norm.gain",
      "layers.0.attn.wq",
      "layers.0.attn.wk",
      "layers.0.attn.wv",
      "layers.0.attn.wo",
      "layers.0.mlp.norm.gain",
      "layers.0.mlp.wg",
      "layers.0.mlp.wu",
      "layers.0.mlp.w2",
      "layers.1.attn.norm.gain",
      "layers.1.attn.wq",
      "layers.1.attn.wk",
      "layers.1.attn.wv",
      "layers.1.attn.wo",
      "layers.1.mlp.norm.gain",
      "layers.1.mlp.wg",
      "layers.1.mlp.wu",
      "layers.1.mlp.w2",
      "final.norm.gain",
      "head.w",
    ]);
  });
  it("initialises and groups parameters as specified", () => {
    expect(param(g, "layers.0.attn.wq")).toMatchObject({
      init: { kind: "normal", std: 0.02 },
      decay: true,
      group: "attention",
    });
    expect(param(g, "layers.1.mlp.w2")!.init).toEqual({ kind: "normal", std: 0.02 / Math.sqrt(8) });
    expect(param(g, "layers.0.attn.wo")!.init).toEqual({ kind: "normal", std: 0.02 / Math.sqrt(8) });
    expect(param(g, "final.norm.gain")).toMatchObject({
      init: { kind: "ones" },
      decay: false,
      group: "norm",
    });
    expect(param(g, "embed.tokens")).toMatchObject({ decay: true, group: "embedding", shape: [32, 16] });
    expect(param(g, "head.w")).toMatchObject({ decay: true, group: "head", shape: [16, 32] });
  });
  it("uses rope on q and k and the plain residual sum", () => {
    const ropes = g.nodes.filter((n) => n.op === "rope");
    expect(ropes).toHaveLength(4);
    expect(g.nodes.filter((n) => n.op === "add")).toHaveLength(4);
    expect(g.nodes.some((n) => n.op.startsWith("attnres"))).toBe(false);
  });
  it("rejects a sequence longer than the context", () => {
    expect(() => lowerModel(tinySpec(), { batch: 1, seq: 17 })).toThrow(LoweringError);
  });
});

describe("lowerModel: variants", () => {
  it("layernorm, gelu, learned positions and untied head", () => {
    const g = lowered(
      tinySpec({ norm: { kind: "layernorm", eps: 1e-5 }, mlp: "gelu", position: { kind: "learned" } }),
    );
    expect(paramNames(g)).toContain("layers.0.attn.norm.bias");
    expect(paramNames(g)).toContain("layers.1.mlp.w1");
    expect(param(g, "embed.positions")).toMatchObject({ shape: [16, 16], group: "position" });
    expect(g.nodes.filter((n) => n.op === "rope")).toHaveLength(0);
    expect(g.nodes.filter((n) => n.op === "gelu")).toHaveLength(2);
    expect(g.nodes.filter((n) => n.op === "add_positions")).toHaveLength(1);
  });
  it("tied head reuses the embedding table transposed", () => {
    const g = lowered(tinySpec({ tied: true, position: { kind: "none" } }));
    expect(paramNames(g)).not.toContain("head.w");
    const logits = g.nodes[g.outputs.logits];
    expect(logits.attrs.tb).toBe(true);
    expect(g.nodes[logits.inputs[1]].attrs.name).toBe("embed.tokens");
  });
  it("GQA projects keys and values to kv_heads * head_dim", () => {
    const g = lowered(tinySpec({ heads: 4, kvHeads: 2, headDim: 4 }));
    expect(param(g, "layers.0.attn.wq")!.shape).toEqual([16, 16]);
    expect(param(g, "layers.0.attn.wk")!.shape).toEqual([16, 8]);
    const attn = g.nodes.find((n) => n.op === "attention")!;
    expect(attn.attrs).toEqual({ heads: 4, kv_heads: 2, head_dim: 4 });
  });
  it("suffixes a repeated sublayer kind within one layer", () => {
    const g = lowered(tinySpec({ layers: 1, layerShape: ["attention", "mlp", "mlp"] }));
    expect(paramNames(g)).toContain("layers.0.mlp1.w2");
    expect(g.nodes.some((n) => n.scope === "layers.0.mlp1")).toBe(true);
  });
});

describe("lowerModel: AttnRes", () => {
  it("Full: sublayer l sees l sources and the final aggregation sees all L+1", () => {
    const g = lowered(tinySpec({ layers: 4, residual: FULL }));
    expect(sourceCounts(g)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(g.nodes.filter((n) => n.op === "add")).toHaveLength(0);
    expect(param(g, "layers.2.mlp.res.query")).toMatchObject({
      shape: [16],
      init: { kind: "zeros" },
      decay: false,
      group: "attnres",
    });
    expect(param(g, "layers.2.mlp.res.key_gain")).toMatchObject({ init: { kind: "ones" }, decay: false });
    expect(paramNames(g)).toContain("final.res.query");
  });
  it("Full: every sublayer output is a source of the final aggregation, x0 once", () => {
    const g = lowered(tinySpec({ layers: 2, residual: FULL }));
    const final = g.nodes.filter((n) => n.op === "attnres").at(-1)!;
    const embedding = g.nodes.find((n) => n.op === "embedding")!;
    const wos = g.nodes.filter(
      (n) =>
        n.op === "matmul" && ["wo", "w2"].some((w) => String(g.nodes[n.inputs[1]].attrs.name).endsWith(w)),
    );
    expect(final.inputs.slice(0, 5)).toEqual([embedding.id, ...wos.map((n) => n.id)]);
  });
  for (const [layers, blocks] of [
    [4, 2],
    [4, 4],
    [4, 1],
    [5, 2],
    [6, 4],
  ]) {
    it(`Block: ${layers} layers, N=${blocks} follows the block rule`, () => {
      const g = lowered(tinySpec({ layers, residual: blockRes(blocks) }));
      expect(sourceCounts(g)).toEqual(expectedBlockCounts(layers, 2, blocks));
    });
  }
  it("Block 4 layers N=2 gives the concrete counts [1,2,2,2,2,3,3,3] then 3", () => {
    const g = lowered(tinySpec({ layers: 4, residual: blockRes(2) }));
    expect(sourceCounts(g)).toEqual([1, 2, 2, 2, 2, 3, 3, 3, 3]);
    // partial sums: 3 adds inside each block of 4 sublayers
    expect(g.nodes.filter((n) => n.op === "add")).toHaveLength(6);
  });
  it("Block with N = layers is not Full: each block holds two sublayers", () => {
    const g = lowered(tinySpec({ layers: 4, residual: blockRes(4) }));
    expect(sourceCounts(g)).toEqual([1, 2, 2, 3, 3, 4, 4, 5, 5]);
  });
  it("keyNorm=false drops the gain operand and parameter", () => {
    const g = lowered(tinySpec({ residual: { ...FULL, keyNorm: false } as typeof FULL }));
    expect(paramNames(g).some((n) => n.endsWith("key_gain"))).toBe(false);
    const agg = g.nodes.find((n) => n.op === "attnres")!;
    expect(agg.attrs.key_norm).toBe(false);
    expect(agg.inputs).toHaveLength((agg.attrs.sources as number) + 1);
  });
  it("sigmoid score sets the attr", () => {
    const g = lowered(tinySpec({ residual: blockRes(1, { score: "sigmoid" }) }));
    expect(g.nodes.filter((n) => n.op === "attnres").every((n) => n.attrs.score === "sigmoid")).toBe(true);
  });
  it("static weights use attnres_static with zero logits of length S", () => {
    const g = lowered(tinySpec({ residual: { ...FULL, weights: "static" } as typeof FULL }));
    expect(g.nodes.some((n) => n.op === "attnres")).toBe(false);
    expect(param(g, "layers.1.attn.res.logits")).toMatchObject({ shape: [3], init: { kind: "zeros" } });
    expect(param(g, "final.res.logits")!.shape).toEqual([5]);
  });
  it("projected query multiplies the last source by a zero [D,D] matrix", () => {
    const g = lowered(tinySpec({ residual: blockRes(2, { query: "projected" }) }));
    expect(param(g, "layers.1.mlp.res.proj")).toMatchObject({ shape: [16, 16], init: { kind: "zeros" } });
    const agg = g.nodes.filter((n) => n.op === "attnres")[3];
    const s = agg.attrs.sources as number;
    const query = g.nodes[agg.inputs[s]];
    expect(query.op).toBe("matmul");
    expect(query.inputs[0]).toBe(agg.inputs[s - 1]);
    expect(query.type.shape).toEqual([2, 8, 16]);
  });
});
