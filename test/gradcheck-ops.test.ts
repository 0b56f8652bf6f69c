// Per-op gradient checks: each differentiable op, with every float operand a parameter, feeds a
// random-weighted cross-entropy so every output coordinate influences the loss.

import { describe, expect, it } from "vitest";
import { GraphBuilder } from "../compiler/ir/builder.js";
import "../compiler/ir/catalog.js";
import type { Attrs } from "../compiler/ir/ir.js";
import type { Tensor } from "../compiler/reference/tensor.js";
import { gradcheck, randomIds, randomParams, randomTensor, seededRandom } from "./gradcheck-support.js";

type Operand = { shape: number[]; spread?: number } | { ids: number[]; below: number };

function checkOp(op: string, operands: Operand[], attrs: Attrs = {}, seed = 1) {
  const rand = seededRandom(seed);
  const b = new GraphBuilder(`grad_${op}`);
  const feeds: Record<string, Tensor> = {};
  const spreads = new Map<string, number>();
  const ids = operands.map((o, i) => {
    if ("ids" in o) {
      feeds[`ids${i}`] = randomIds(o.ids, o.below, rand);
      return b.input(`ids${i}`, "i32", o.ids);
    }
    spreads.set(`x${i}`, o.spread ?? 1);
    return b.param(`x${i}`, o.shape, { kind: "normal", std: 1 }, { decay: true, group: "test" });
  });
  const out = b.op(op, ids, attrs);
  const outShape = b.graph.nodes[out].type.shape;
  let loss = out;
  if (outShape.length > 0) {
    const weights = b.input("weights", "f32", outShape);
    const targets = b.input("targets", "i32", outShape.slice(0, -1));
    feeds.weights = randomTensor(outShape, rand, 2);
    feeds.targets = randomIds(outShape.slice(0, -1), outShape[outShape.length - 1], rand);
    loss = b.op("cross_entropy", [b.op("mul", [out, weights]), targets]);
  }
  b.output("loss", loss);
  const params = randomParams(b.graph, rand);
  for (const [name, spread] of spreads)
    params.set(
      name,
      params.get(name)!.map((v) => v * spread),
    );
  const { mismatches, checked } = gradcheck(b.graph, feeds, params);
  expect(checked).toBeGreaterThan(0);
  expect(mismatches).toEqual([]);
}

describe("gradients of the dense ops", () => {
  for (const ta of [false, true])
    for (const tb of [false, true])
      it(`matmul ta=${ta} tb=${tb} on flattened 3-D views`, () => {
        const a = ta ? [2, 3, 4] : [2, 3, 5]; // viewed [6,4] (transposed: [4,6]) or [6,5]
        const aCols = ta ? 6 : 5;
        const bShape = tb ? [3, aCols] : [aCols, 3];
        checkOp("matmul", [{ shape: a }, { shape: bShape }], { ta, tb });
      });

  it("matmul with a 3-D right operand viewed as a matrix", () => {
    checkOp("matmul", [{ shape: [4, 6] }, { shape: [2, 3, 5] }], { ta: false, tb: false });
    checkOp("matmul", [{ shape: [4, 5] }, { shape: [2, 3, 5] }], { ta: false, tb: true });
  });

  it("add, with and without broadcasting", () => {
    checkOp("add", [{ shape: [2, 3, 4] }, { shape: [2, 3, 4] }]);
    checkOp("add", [{ shape: [2, 3, 4] }, { shape: [4] }]);
    checkOp("add", [{ shape: [2, 3, 4] }, { shape: [3, 4] }]);
    checkOp("add", [{ shape: [2, 3, 4] }, { shape: [1] }]);
  });

  it("mul with a suffix-broadcast and a scalar [1] right operand", () => {
    checkOp("mul", [{ shape: [2, 3, 4] }, { shape: [3, 4] }], {}, 5);
    checkOp("mul", [{ shape: [2, 3, 4] }, { shape: [4] }], {}, 6);
    checkOp("mul", [{ shape: [2, 3, 4] }, { shape: [1] }], {}, 7);
  });

  it("mul, scale, gelu, silu", () => {
    checkOp("mul", [{ shape: [3, 5] }, { shape: [3, 5] }]);
    checkOp("scale", [{ shape: [3, 5] }], { factor: -1.7 });
    checkOp("gelu", [{ shape: [4, 5] }], {}, 3);
    checkOp("silu", [{ shape: [4, 5] }], {}, 4);
  });

  it("tanh and sigmoid", () => {
    checkOp("tanh", [{ shape: [4, 5], spread: 3 }], {}, 8);
    checkOp("sigmoid", [{ shape: [4, 5], spread: 3 }], {}, 9);
  });

  it("rmsnorm and layernorm", () => {
    checkOp("rmsnorm", [{ shape: [2, 3, 6] }, { shape: [6] }], { eps: 1e-5 });
    checkOp("layernorm", [{ shape: [2, 3, 6] }, { shape: [6] }, { shape: [6] }], { eps: 1e-5 });
  });

  it("rope", () => {
    checkOp("rope", [{ shape: [2, 5, 8] }], { heads: 2, head_dim: 4, theta: 10 });
  });
});

describe("gradients of attention", () => {
  it("multi-head", () => {
    const s = [2, 4, 6];
    checkOp("attention", [{ shape: s }, { shape: s }, { shape: s }], { heads: 2, kv_heads: 2, head_dim: 3 });
  });

  it("grouped-query (4 query heads on 2 kv heads) and multi-query", () => {
    checkOp("attention", [{ shape: [1, 5, 8] }, { shape: [1, 5, 4] }, { shape: [1, 5, 4] }], {
      heads: 4,
      kv_heads: 2,
      head_dim: 2,
    });
    checkOp("attention", [{ shape: [2, 3, 6] }, { shape: [2, 3, 2] }, { shape: [2, 3, 2] }], {
      heads: 3,
      kv_heads: 1,
      head_dim: 2,
    });
  });
});

describe("gradients of AttnRes", () => {
  const shape = [2, 3, 4];
  for (const score of ["softmax", "sigmoid"])
    for (const keyNorm of [true, false])
      for (const query of ["vector", "projected"]) {
        it(`${score}, key norm ${keyNorm ? "on" : "off"}, ${query} query, 3 sources`, () => {
          const operands: Operand[] = [
            { shape },
            { shape },
            { shape },
            { shape: query === "vector" ? [4] : shape },
          ];
          if (keyNorm) operands.push({ shape: [4] });
          checkOp("attnres", operands, { sources: 3, score, key_norm: keyNorm, eps: 1e-6 });
        });
      }

  it("a single source", () => {
    checkOp("attnres", [{ shape }, { shape: [4] }, { shape: [4] }], {
      sources: 1,
      score: "softmax",
      key_norm: true,
      eps: 1e-6,
    });
  });

  for (const score of ["softmax", "sigmoid"])
    it(`static (input-independent) weights, ${score}`, () => {
      checkOp("attnres_static", [{ shape }, { shape }, { shape }, { shape: [3] }], { sources: 3, score });
    });

  it("static weights, linear (the logits themselves)", () => {
    checkOp("attnres_static", [{ shape }, { shape }, { shape }, { shape: [3] }], {
      sources: 3,
      score: "linear",
    });
  });

  // multi-head depth attention: sources [B,T,H,D'] with one query (and gain) per head, [H,D']
  const heads = [2, 3, 2, 4];
  it("multi-head, softmax, key norm on: query and gain [2,4] on sources [2,3,2,4]", () => {
    const operands: Operand[] = [
      { shape: heads },
      { shape: heads },
      { shape: heads },
      { shape: [2, 4] },
      { shape: [2, 4] },
    ];
    checkOp("attnres", operands, { sources: 3, score: "softmax", key_norm: true, eps: 1e-6 }, 10);
  });

  it("multi-head, sigmoid, key norm off: query [2,4] on sources [2,3,2,4]", () => {
    const operands: Operand[] = [{ shape: heads }, { shape: heads }, { shape: heads }, { shape: [2, 4] }];
    checkOp("attnres", operands, { sources: 3, score: "sigmoid", key_norm: false, eps: 1e-6 }, 11);
  });
});

describe("gradients of lookups and the loss", () => {
  it("embedding, with repeated ids", () => {
    checkOp("embedding", [{ shape: [3, 4] }, { ids: [2, 5], below: 3 }]);
  });

  it("add_positions with a table longer than the sequence", () => {
    checkOp("add_positions", [{ shape: [2, 3, 4] }, { shape: [5, 4] }]);
  });

  it("cross_entropy", () => {
    checkOp("cross_entropy", [
      { shape: [2, 3, 5], spread: 3 },
      { ids: [2, 3], below: 5 },
    ]);
  });

  it("a value used twice accumulates both gradients", () => {
    const rand = seededRandom(9);
    const b = new GraphBuilder("reuse");
    const x = b.param("x", [3, 4], { kind: "normal", std: 1 }, { decay: true, group: "test" });
    const targets = b.input("targets", "i32", [3]);
    const y = b.op("mul", [x, b.op("gelu", [x])]);
    b.output("loss", b.op("cross_entropy", [b.op("add", [y, x]), targets]));
    const { mismatches } = gradcheck(
      b.graph,
      { targets: randomIds([3], 4, rand) },
      randomParams(b.graph, rand),
    );
    expect(mismatches).toEqual([]);
  });
});
