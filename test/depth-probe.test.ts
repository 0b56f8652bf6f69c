// ablate/probe.ts: the depth-attention weights and hidden-state RMS it reports, checked against
// uniform weights at initialisation, the block structure, and direct recomputations.

import { describe, expect, it } from "vitest";
import { probeDepth, rms } from "../ablate/probe.js";
import { lowerModel } from "../compiler/ir/lower.js";
import type { ModelSpec } from "../format/spec.js";
import { initParams } from "../runtime/init.js";
import { interpret } from "../compiler/reference/interpreter.js";
import { fromInts } from "../compiler/reference/tensor.js";
import { attnResidual, blockRes, tinySpec } from "./golden/specs.js";

const SHAPE = { batch: 2, seq: 5 };

function tokensFor(model: ModelSpec, n = SHAPE.batch * SHAPE.seq): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => (i * 7 + 3) % model.vocab);
}

function initialParams(model: ModelSpec): Map<string, Float32Array> {
  return initParams(lowerModel(model, SHAPE).params, 1);
}

/** a deterministic pseudo-random value in [-1, 1) */
function noise(i: number): number {
  const x = Math.sin(i * 12.9898 + 78.233) * 43758.5453;
  return 2 * (x - Math.floor(x)) - 1;
}

/** every AttnRes parameter (queries, key gains, static logits) set to noise, the rest as initialised */
function randomisedAttnRes(model: ModelSpec): Map<string, Float32Array> {
  const params = initialParams(model);
  let k = 0;
  for (const [name, values] of params)
    if (/\.res\.(query|key_gain|logits)$/.test(name))
      params.set(
        name,
        values.map(() => 3 * noise(++k)),
      );
  return params;
}

describe("probeDepth", () => {
  it("gives uniform weights over the sources at initialisation (zero pseudo-queries)", () => {
    const model = tinySpec({ layers: 2, residual: attnResidual() });
    const probe = probeDepth(model, initialParams(model), tokensFor(model), SHAPE);
    expect(probe.residual).toBe("attn");
    expect(probe.tokens).toBe(10);
    expect(probe.aggregations.map((a) => a.name)).toEqual([
      "layers.0.attn",
      "layers.0.mlp",
      "layers.1.attn",
      "layers.1.mlp",
      "final",
    ]);
    expect(probe.aggregations.at(-1)!.sources).toEqual([
      "embedding",
      "layers.0.attn",
      "layers.0.mlp",
      "layers.1.attn",
      "layers.1.mlp",
    ]);
    probe.aggregations.forEach((a, i) => {
      expect(a.sources).toHaveLength(i + 1);
      for (const w of a.weights) expect(w).toBeCloseTo(1 / a.sources.length, 12);
      expect(a.weights.reduce((x, y) => x + y, 0)).toBeCloseTo(1, 12);
    });
  });

  it("names Block AttnRes sources by the block structure (depth 4, two blocks)", () => {
    const model = tinySpec({ layers: 4, residual: blockRes(2) });
    const probe = probeDepth(model, initialParams(model), tokensFor(model), SHAPE);
    expect(probe.residual).toBe("attn(block=2)");
    const firstBlock = ["embedding", "partial"];
    const secondBlock = ["embedding", "block 1", "partial"];
    expect(Object.fromEntries(probe.aggregations.map((a) => [a.name, a.sources]))).toEqual({
      "layers.0.attn": ["embedding"],
      "layers.0.mlp": firstBlock,
      "layers.1.attn": firstBlock,
      "layers.1.mlp": firstBlock,
      "layers.2.attn": ["embedding", "block 1"],
      "layers.2.mlp": secondBlock,
      "layers.3.attn": secondBlock,
      "layers.3.mlp": secondBlock,
      final: ["embedding", "block 1", "block 2"],
    });
    for (const a of probe.aggregations) expect(a.weights.reduce((x, y) => x + y, 0)).toBeCloseTo(1, 12);
    expect(probe.sublayers).toHaveLength(8);
  });

  it("names blocks by block_size, averages heads, and finds branch outputs under the gate", () => {
    // depth 3 in blocks of 2: blocks of 2 and 1 layers; 2 depth-attention heads; gated
    const model = tinySpec({ layers: 3, residual: attnResidual({ blockSize: 2, heads: 2, gate: true }) });
    const params = randomisedAttnRes(model);
    const probe = probeDepth(model, params, tokensFor(model), SHAPE);
    expect(probe.residual).toBe("attn(block_size=2, heads=2, gate=true)");
    const sources = Object.fromEntries(probe.aggregations.map((a) => [a.name, a.sources]));
    expect(sources["layers.2.attn"]).toEqual(["embedding", "block 1"]);
    expect(sources["layers.2.mlp"]).toEqual(["embedding", "block 1", "partial"]);
    expect(sources.final).toEqual(["embedding", "block 1", "block 2"]);
    for (const a of probe.aggregations) expect(a.weights.reduce((x, y) => x + y, 0)).toBeCloseTo(1, 12);
    // with random pseudo-queries the two heads weigh differently: the mean is not uniform
    expect(new Set(probe.aggregations.at(-1)!.weights.map((w) => w.toFixed(6))).size).toBeGreaterThan(1);

    const graph = lowerModel(model, SHAPE);
    const feeds = {
      tokens: fromInts([SHAPE.batch, SHAPE.seq], tokensFor(model)),
      targets: fromInts([SHAPE.batch, SHAPE.seq], new Int32Array(SHAPE.batch * SHAPE.seq)),
    };
    const values = interpret(graph, feeds, params);
    const projections = graph.nodes.filter(
      (n) => n.op === "matmul" && /\.(wo|w2)$/.test(String(graph.nodes[n.inputs[1]].attrs.name)),
    );
    expect(probe.sublayers.map((s) => s.outputRms)).toEqual(projections.map((n) => rms(values[n.id].data)));
  });

  it("reports DenseFormer's averages: the layer outputs each reads, with their learned weights", () => {
    const model = tinySpec({ layers: 4, residual: { kind: "dense", dilation: 2, period: 1 } });
    const probe = probeDepth(model, initialParams(model), tokensFor(model), SHAPE);
    expect(probe.residual).toBe("dense(dilation=2)");
    // after layer i: X_j for j <= i, j = i (mod 2); weights start as the identity
    expect(probe.aggregations.map((a) => [a.name, a.sources, a.weights])).toEqual([
      ["after layers.0", ["layers.0"], [1]],
      ["after layers.1", ["embedding", "layers.1"], [0, 1]],
      ["after layers.2", ["layers.0", "layers.2"], [0, 1]],
      ["after layers.3", ["embedding", "layers.1", "layers.3"], [0, 0, 1]],
    ]);
  });

  it("reports the standard residual's RMS as a direct computation does", () => {
    const model = tinySpec({ layers: 2 });
    const params = initialParams(model);
    const tokens = tokensFor(model);
    const probe = probeDepth(model, params, tokens, SHAPE);
    expect(probe.residual).toBe("add");
    expect(probe.aggregations).toEqual([]);
    expect(probe.sublayers.map((s) => s.name)).toEqual([
      "layers.0.attn",
      "layers.0.mlp",
      "layers.1.attn",
      "layers.1.mlp",
    ]);

    // h_0 is the embedding rows of the tokens (rope: no position table added)
    const table = params.get("embed.tokens")!;
    const d = model.dim;
    const h0 = Array.from(tokens).flatMap((t) => Array.from(table.subarray(t * d, (t + 1) * d)));
    expect(probe.sublayers[0].inputRms).toBeCloseTo(rms(h0), 12);

    // the residual stream is the chain of adds h_{l+1} = h_l + out_l, and the final norm reads h_L
    const graph = lowerModel(model, SHAPE);
    const feeds = {
      tokens: fromInts([SHAPE.batch, SHAPE.seq], tokens),
      targets: fromInts([SHAPE.batch, SHAPE.seq], new Int32Array(tokens.length)),
    };
    const values = interpret(graph, feeds, params);
    const adds = graph.nodes.filter((n) => n.op === "add" && /^layers\.\d+\.(attn|mlp)$/.test(n.scope));
    expect(adds).toHaveLength(4);
    adds.forEach((add, l) => {
      const before = values[add.inputs[0]].data;
      const after = values[add.id].data;
      expect(probe.sublayers[l].inputRms).toBeCloseTo(rms(before), 12);
      expect(probe.sublayers[l].outputRms).toBeCloseTo(rms(after.map((v, i) => v - before[i])), 9);
    });
    expect(probe.finalRms).toBeCloseTo(rms(values[adds[3].id].data), 12);
  });

  it("matches a straightforward recomputation of the weights with non-zero pseudo-queries", () => {
    for (const residual of [
      attnResidual(),
      attnResidual({ blocks: 1, score: "sigmoid", weights: "static" }),
    ]) {
      const model = tinySpec({ layers: 1, dim: 8, heads: 2, residual });
      const params = randomisedAttnRes(model);
      const tokens = tokensFor(model);
      const probe = probeDepth(model, params, tokens, SHAPE);
      const graph = lowerModel(model, SHAPE);
      const feeds = {
        tokens: fromInts([SHAPE.batch, SHAPE.seq], tokens),
        targets: fromInts([SHAPE.batch, SHAPE.seq], new Int32Array(tokens.length)),
      };
      const values = interpret(graph, feeds, params);
      const aggregations = graph.nodes.filter((n) => n.op.startsWith("attnres"));
      expect(aggregations.map((n) => n.scope.replace(/\.res$/, ""))).toEqual(
        probe.aggregations.map((a) => a.name),
      );
      aggregations.forEach((node, k) => {
        const count = Number(node.attrs.sources);
        const scope = node.scope;
        const expected = new Array<number>(count).fill(0);
        const positions = SHAPE.batch * SHAPE.seq;
        for (let p = 0; p < positions; p++) {
          let alpha: number[];
          if (residual.weights === "static") {
            alpha = Array.from(params.get(`${scope}.logits`)!, (l) => 1 / (1 + Math.exp(-l)));
          } else {
            const query = params.get(`${scope}.query`)!;
            const gain = params.get(`${scope}.key_gain`)!;
            const logits = node.inputs.slice(0, count).map((id) => {
              const row = Array.from(values[id].data.subarray(p * model.dim, (p + 1) * model.dim));
              const norm = Math.sqrt(row.reduce((s, v) => s + v * v, 0) / model.dim + 1e-6);
              return row.reduce((s, v, j) => s + query[j] * (v / norm) * gain[j], 0);
            });
            const exps = logits.map((l) => Math.exp(l));
            alpha = exps.map((e) => e / exps.reduce((a, b) => a + b, 0));
          }
          alpha.forEach((a, i) => (expected[i] += a / positions));
        }
        const got = probe.aggregations[k].weights;
        expect(got).toHaveLength(count);
        got.forEach((w, i) => expect(w).toBeCloseTo(expected[i], 10));
        if (residual.weights === "query") {
          // non-zero queries: the weights are no longer uniform
          expect(Math.max(...got) - Math.min(...got)).toBeGreaterThan(count > 1 ? 1e-3 : -1);
        }
      });
    }
  });
});
