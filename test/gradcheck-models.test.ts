// Whole tiny models, lowered from hand-built specs: autodiff's parameter gradients agree with
// central differences of the loss on a random sample of coordinates of every parameter.

import { describe, expect, it } from "vitest";
import { lowerModel } from "../compiler/ir/lower.js";
import type { ModelSpec, ResidualSpec } from "../format/spec.js";
import { attnResidual as attn, type TinyOptions, tinySpec } from "./golden/specs.js";
import { gradcheck, randomIds, randomParams, seededRandom } from "./gradcheck-support.js";

const VOCAB = 7;

function tinyModel(residual: ResidualSpec, overrides: TinyOptions = {}): ModelSpec {
  return tinySpec({
    name: "tiny",
    block: "layer",
    vocab: VOCAB,
    context: 6,
    dim: 8,
    layers: 4,
    heads: 2,
    kvHeads: 1,
    headDim: 4,
    mlp: "swiglu",
    hidden: 12,
    position: { kind: "rope", theta: 100 },
    tied: false,
    residual,
    ...overrides,
  });
}

function checkModel(model: ModelSpec, seed: number): void {
  const rand = seededRandom(seed);
  const graph = lowerModel(model, { batch: 2, seq: 4 });
  const feeds = { tokens: randomIds([2, 4], VOCAB, rand), targets: randomIds([2, 4], VOCAB, rand) };
  const params = randomParams(graph, rand, 0.5);
  const { mismatches, checked } = gradcheck(graph, feeds, params, {
    samplesPerParam: 3,
    rand,
    rtol: 1e-4,
    atol: 1e-7,
  });
  // three coordinates of every parameter (all of the smaller ones: scalar gates, stream weights)
  const wanted = graph.params.reduce(
    (n, p) =>
      n +
      Math.min(
        3,
        p.shape.reduce((a, b) => a * b, 1),
      ),
    0,
  );
  expect(checked).toBe(wanted);
  expect(mismatches).toEqual([]);
}

describe("whole-model gradients match finite differences", () => {
  it("baseline (standard residual)", () => checkModel(tinyModel({ kind: "add" }), 1));
  it("Full AttnRes", () => checkModel(tinyModel(attn()), 2));
  it("Block AttnRes, N=2", () => checkModel(tinyModel(attn({ blocks: 2 })), 3));
  it("Block AttnRes, N=4", () => checkModel(tinyModel(attn({ blocks: 4 })), 4));
  it("Block AttnRes, N=1 on 3 layers", () => checkModel(tinyModel(attn({ blocks: 1 }), { layers: 3 }), 5));
});

describe("the rest of the residual family", () => {
  it("AttnRes by block size (3 layers per block over 4: blocks of 3 and 1)", () =>
    checkModel(tinyModel(attn({ blockSize: 3 })), 21));
  it("multi-head depth attention (2 heads), Block N=2", () =>
    checkModel(tinyModel(attn({ blocks: 2, heads: 2 })), 22));
  it("multi-head depth attention with a projected query, no key norm", () =>
    checkModel(tinyModel(attn({ heads: 4, query: "projected", keyNorm: false })), 23));
  it("gated AttnRes, Full and Block", () => {
    checkModel(tinyModel(attn({ gate: true })), 24);
    checkModel(tinyModel(attn({ gate: true, blocks: 2, heads: 2 })), 25);
  });
  it("DenseFormer, dilation 1 and dilation 2 with period 2", () => {
    checkModel(tinyModel({ kind: "dense", dilation: 1, period: 1 }), 26);
    checkModel(tinyModel({ kind: "dense", dilation: 2, period: 2 }), 27);
  });
  it("hyper-connections, static and dynamic", () => {
    checkModel(tinyModel({ kind: "hyper", streams: 2, dynamic: false }), 28);
    checkModel(tinyModel({ kind: "hyper", streams: 3, dynamic: true }), 29);
  });
  it("mHC (4 streams, 6 Sinkhorn iterations)", () =>
    checkModel(tinyModel({ kind: "mhc", streams: 4, iterations: 6 }), 30));
});

describe("ablation switches", () => {
  it("no key norm", () => checkModel(tinyModel(attn({ keyNorm: false })), 11));
  it("sigmoid scores", () => checkModel(tinyModel(attn({ score: "sigmoid", blocks: 2 })), 12));
  it("static (input-independent) weights", () => checkModel(tinyModel(attn({ weights: "static" })), 13));
  it("projected (input-dependent) query", () =>
    checkModel(tinyModel(attn({ query: "projected", blocks: 2 })), 14));
  it("layernorm, learned positions, gelu MLP, tied head, multi-head kv", () =>
    checkModel(
      tinyModel(attn({ blocks: 2 }), {
        norm: { kind: "layernorm", eps: 1e-5 },
        position: { kind: "learned" },
        tied: true,
        layers: 2,
        mlp: "gelu",
        kvHeads: 2,
      }),
      15,
    ));
});
