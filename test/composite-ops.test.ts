// Composite ops (compiler/ops/composite): declared as small graphs of existing ops, expanded where
// they are used, so they get their gradients and references from those ops.

import { describe, expect, it } from "vitest";
import { GraphBuilder } from "../compiler/ir/builder.js";
import { OPS } from "../compiler/ir/catalog.js";
import { COMPOSITE_OPS, CompositeError } from "../compiler/ops/composite/index.js";
import { interpret } from "../compiler/reference/interpreter.js";
import { gradcheckOp, randomTensor, seededRandom } from "./gradcheck-support.js";

describe("composite ops", () => {
  it("are not ops of the catalog: the IR never holds them", () => {
    for (const name of Object.keys(COMPOSITE_OPS)) expect(Object.hasOwn(OPS, name), name).toBe(false);
    const b = new GraphBuilder("g");
    const [a, c] = [b.input("a", "f32", [2, 3]), b.input("c", "f32", [2, 3])];
    const out = b.op("blend", [a, c, b.input("g", "f32", [1])]);
    expect(b.graph.nodes.map((n) => n.op)).toEqual(["input", "input", "input", "scale", "add", "mul", "add"]);
    expect(b.graph.nodes[out].type.shape).toEqual([2, 3]);
  });

  it("compute what their docs say, through the ops they expand to", () => {
    const rand = seededRandom(3);
    const [a, c, x] = [randomTensor([4], rand), randomTensor([4], rand), randomTensor([4], rand)];
    const g = randomTensor([1], rand);
    const b = new GraphBuilder("g");
    const ids = Object.fromEntries(
      (
        [
          ["a", a],
          ["c", c],
          ["x", x],
          ["g", g],
        ] as const
      ).map(([name, t]) => [name, b.input(name, "f32", t.type.shape)]),
    );
    const blend = b.op("blend", [ids.a, ids.c, ids.g]);
    const scaled = b.op("scaled_tanh", [ids.x, ids.g]);
    const values = interpret(b.graph, { a, c, x, g }, new Map());
    const s = g.data[0];
    for (let i = 0; i < 4; i++) {
      expect(values[blend].data[i]).toBeCloseTo(a.data[i] + s * (c.data[i] - a.data[i]), 12);
      expect(values[scaled].data[i]).toBeCloseTo(s * Math.tanh(x.data[i]), 12);
    }
  });

  it("get their gradients from the ops they expand to", () => {
    for (const [op, shapes] of [
      ["blend", [[3, 4], [3, 4], [1]]],
      ["scaled_tanh", [[3, 4], [1]]],
    ] as const) {
      const { mismatches, checked } = gradcheckOp(
        op,
        shapes.map((s) => [...s]),
        {},
        5,
      );
      expect(checked, op).toBeGreaterThan(0);
      expect(mismatches, op).toEqual([]);
    }
  });

  it("refuse a use with the wrong number of operands", () => {
    const b = new GraphBuilder("g");
    const a = b.input("a", "f32", [2]);
    expect(() => b.op("blend", [a, a])).toThrow(CompositeError);
  });
});
