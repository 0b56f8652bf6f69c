import { describe, expect, it } from "vitest";
import type { Param } from "../compiler/ir/ir.js";
import { initParams } from "../runtime/init.js";

const matrix = (name: string, shape = [64, 32], std = 0.02): Param => ({
  name,
  shape,
  init: { kind: "normal", std },
  decay: true,
  group: "mlp",
});

describe("initParams", () => {
  it("is deterministic for a seed and differs across seeds", () => {
    const a = initParams([matrix("w")], 1).get("w")!;
    const b = initParams([matrix("w")], 1).get("w")!;
    const c = initParams([matrix("w")], 2).get("w")!;
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
  });

  it("gives a shared parameter the same values whatever else the model holds", () => {
    const alone = initParams([matrix("layers.0.attn.wq")], 7).get("layers.0.attn.wq")!;
    const withOthers = initParams([matrix("embed.tokens"), matrix("layers.0.attn.wq"), matrix("head.w")], 7);
    expect(Array.from(withOthers.get("layers.0.attn.wq")!)).toEqual(Array.from(alone));
    expect(Array.from(withOthers.get("embed.tokens")!)).not.toEqual(Array.from(alone));
  });

  it("draws normal values with the requested std and about zero mean", () => {
    const values = initParams([matrix("w", [256, 256], 0.5)], 3).get("w")!;
    let sum = 0;
    let sumSquares = 0;
    for (const v of values) {
      sum += v;
      sumSquares += v * v;
    }
    const mean = sum / values.length;
    const std = Math.sqrt(sumSquares / values.length - mean * mean);
    expect(Math.abs(mean)).toBeLessThan(0.01);
    expect(std).toBeCloseTo(0.5, 2);
  });

  it("fills zeros and ones, including odd lengths", () => {
    const params: Param[] = [
      { name: "g", shape: [5], init: { kind: "ones" }, decay: false, group: "norm" },
      { name: "q", shape: [3], init: { kind: "zeros" }, decay: false, group: "attnres" },
      matrix("odd", [3], 1),
    ];
    const values = initParams(params, 0);
    expect(Array.from(values.get("g")!)).toEqual([1, 1, 1, 1, 1]);
    expect(Array.from(values.get("q")!)).toEqual([0, 0, 0]);
    expect(values.get("odd")!.every((v) => Number.isFinite(v) && v !== 0)).toBe(true);
  });
});
