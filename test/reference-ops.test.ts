import { describe, expect, it } from "vitest";
import fc from "fast-check";
import type { Attrs } from "../compiler/ir/ir.js";
import { inferType } from "../compiler/ir/catalog.js";
import { evaluateNode } from "../compiler/reference/evaluate.js";
import type { Tensor } from "../compiler/reference/tensor.js";
import { fromInts, fromValues } from "../compiler/reference/tensor.js";

/** applies one op to tensors, building the node exactly as the graph builder would */
function apply(op: string, inputs: Tensor[], attrs: Attrs = {}): Tensor {
  const type = inferType(
    op,
    inputs.map((t) => t.type),
    attrs,
  );
  return evaluateNode({ id: 0, op, inputs: inputs.map((_, i) => i), attrs, type, scope: "test" }, inputs);
}

function seededValues(n: number, seed: number): number[] {
  let state = seed >>> 0;
  return Array.from({ length: n }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32 - 0.5;
  });
}

function rand(shape: number[], seed: number): Tensor {
  return fromValues(
    shape,
    seededValues(
      shape.reduce((a, b) => a * b, 1),
      seed,
    ),
  );
}

const arr = (t: Tensor) => Array.from(t.data);

describe("elementwise and table ops", () => {
  it("embedding gathers rows and rejects out-of-range ids", () => {
    const table = fromValues([3, 2], [1, 2, 3, 4, 5, 6]);
    expect(arr(apply("embedding", [table, fromInts([1, 3], [2, 0, 1])]))).toEqual([5, 6, 1, 2, 3, 4]);
    expect(() => apply("embedding", [table, fromInts([1], [3])])).toThrow(/outside/);
  });

  it("add_positions adds the row of each time step", () => {
    const x = fromValues([2, 2, 1], [1, 2, 3, 4]);
    const table = fromValues([3, 1], [10, 20, 30]);
    expect(arr(apply("add_positions", [x, table]))).toEqual([11, 22, 13, 24]);
  });

  it("add broadcasts a suffix over the leading dims", () => {
    const a = fromValues([2, 3], [1, 2, 3, 4, 5, 6]);
    expect(arr(apply("add", [a, fromValues([3], [10, 20, 30])]))).toEqual([11, 22, 33, 14, 25, 36]);
    expect(arr(apply("add", [a, a]))).toEqual([2, 4, 6, 8, 10, 12]);
  });

  it("mul, scale, gelu and silu match their formulas", () => {
    const x = fromValues([4], [-2, -0.5, 0, 1.5]);
    expect(arr(apply("mul", [x, x]))).toEqual([4, 0.25, 0, 2.25]);
    expect(arr(apply("scale", [x], { factor: -2 }))).toEqual([4, 1, -0, -3]);
    const silu = arr(apply("silu", [x]));
    expect(silu[3]).toBeCloseTo(1.5 / (1 + Math.exp(-1.5)), 12);
    expect(silu[2]).toBe(0);
    const gelu = arr(apply("gelu", [x]));
    // GPT-2's tanh approximation: gelu(1.5) = 1.39957...; gelu(-2) = -0.04540...
    expect(gelu[3]).toBeCloseTo(1.3995715, 6);
    expect(gelu[0]).toBeCloseTo(-0.0454023, 6);
  });
});

describe("matmul", () => {
  const a = fromValues([2, 3], [1, 2, 3, 4, 5, 6]);
  const b = fromValues([3, 2], [7, 8, 9, 10, 11, 12]);
  it("multiplies plain operands", () => {
    expect(arr(apply("matmul", [a, b], { ta: false, tb: false }))).toEqual([58, 64, 139, 154]);
  });
  it("honours the transpose flags", () => {
    const bT = fromValues([2, 3], [7, 9, 11, 8, 10, 12]);
    expect(arr(apply("matmul", [a, bT], { ta: false, tb: true }))).toEqual([58, 64, 139, 154]);
    const aT = fromValues([3, 2], [1, 4, 2, 5, 3, 6]);
    expect(arr(apply("matmul", [aT, b], { ta: true, tb: false }))).toEqual([58, 64, 139, 154]);
  });
  it("flattens leading dims and keeps them in the result", () => {
    const x = fromValues([2, 1, 3], [1, 2, 3, 4, 5, 6]);
    const out = apply("matmul", [x, b], { ta: false, tb: false });
    expect(out.type.shape).toEqual([2, 1, 2]);
    expect(arr(out)).toEqual([58, 64, 139, 154]);
  });
});

describe("norms", () => {
  it("rmsnorm output has RMS equal to the gain (up to eps)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1e6 }),
        fc.double({ min: 0.1, max: 3, noNaN: true }),
        (seed, g) => {
          const x = rand([3, 8], seed);
          const gain = fromValues([8], new Array(8).fill(g));
          const out = apply("rmsnorm", [x, gain], { eps: 0 });
          for (let r = 0; r < 3; r++) {
            const row = arr(out).slice(r * 8, r * 8 + 8);
            const rms = Math.sqrt(row.reduce((s, v) => s + v * v, 0) / 8);
            expect(rms).toBeCloseTo(g, 9);
          }
        },
      ),
      { numRuns: 30 },
    );
  });
  it("rmsnorm applies eps and a per-feature gain", () => {
    const out = apply("rmsnorm", [fromValues([2], [3, 4]), fromValues([2], [1, 2])], { eps: 0.5 });
    const inv = 1 / Math.sqrt(12.5 + 0.5);
    expect(arr(out)[0]).toBeCloseTo(3 * inv, 12);
    expect(arr(out)[1]).toBeCloseTo(8 * inv, 12);
  });
  it("layernorm gives mean = bias and std = gain", () => {
    const x = rand([2, 6], 7);
    const out = arr(
      apply(
        "layernorm",
        [x, fromValues([6], new Array(6).fill(2)), fromValues([6], new Array(6).fill(0.5))],
        { eps: 0 },
      ),
    );
    for (let r = 0; r < 2; r++) {
      const row = out.slice(r * 6, r * 6 + 6);
      const mean = row.reduce((s, v) => s + v, 0) / 6;
      const sd = Math.sqrt(row.reduce((s, v) => s + (v - mean) ** 2, 0) / 6);
      expect(mean).toBeCloseTo(0.5, 10);
      expect(sd).toBeCloseTo(2, 10);
    }
  });
});

describe("rope", () => {
  const attrs = { heads: 2, head_dim: 4, theta: 10000 };
  it("leaves position 0 unchanged and preserves each pair's norm", () => {
    const x = rand([1, 5, 8], 3);
    const out = arr(apply("rope", [x], attrs));
    const xs = arr(x);
    for (let j = 0; j < 8; j++) expect(out[j]).toBeCloseTo(xs[j], 14);
    for (let t = 0; t < 5; t++)
      for (let h = 0; h < 2; h++)
        for (let i = 0; i < 2; i++) {
          const a = t * 8 + h * 4 + i;
          const b = a + 2;
          expect(Math.hypot(out[a], out[b])).toBeCloseTo(Math.hypot(xs[a], xs[b]), 12);
        }
  });
  it("rotates pair (i, i+hd/2) by t * theta^(-2i/hd)", () => {
    const x = fromValues([1, 2, 4], [0, 0, 0, 0, 1, 1, 0, 0]);
    const out = arr(apply("rope", [x], { heads: 1, head_dim: 4, theta: 100 }));
    // t = 1, i = 0: angle 1; i = 1: angle 100^(-1/2) = 0.1
    expect(out.slice(4)).toEqual(
      [Math.cos(1), Math.cos(0.1), Math.sin(1), Math.sin(0.1)].map((v) => expect.closeTo(v, 12)),
    );
  });
});

describe("attention", () => {
  it("a single position returns its own value (softmax over one key is 1)", () => {
    const q = rand([2, 1, 4], 1);
    const k = rand([2, 1, 4], 2);
    const v = rand([2, 1, 4], 3);
    expect(arr(apply("attention", [q, k, v], { heads: 2, kv_heads: 2, head_dim: 2 }))).toEqual(
      arr(v).map((x) => expect.closeTo(x, 14)),
    );
  });
  it("is causal and averages values when all scores are equal", () => {
    const q = fromValues([1, 3, 2], new Array(6).fill(0));
    const k = rand([1, 3, 2], 5);
    const v = fromValues([1, 3, 2], [1, 2, 3, 4, 5, 6]);
    const out = arr(apply("attention", [q, k, v], { heads: 1, kv_heads: 1, head_dim: 2 }));
    expect(out).toEqual([1, 2, 2, 3, 3, 4].map((x) => expect.closeTo(x, 12)));
  });
  it("matches a hand-computed two-step softmax with 1/sqrt(hd) scaling", () => {
    const q = fromValues([1, 2, 1], [0, 2]);
    const k = fromValues([1, 2, 1], [1, 3]);
    const v = fromValues([1, 2, 1], [10, 20]);
    const out = arr(apply("attention", [q, k, v], { heads: 1, kv_heads: 1, head_dim: 1 }));
    const w0 = Math.exp(2) / (Math.exp(2) + Math.exp(6));
    expect(out[1]).toBeCloseTo(w0 * 10 + (1 - w0) * 20, 12);
  });
  it("GQA equals MHA with each kv head repeated for its query group", () => {
    const heads = 4;
    const kvHeads = 2;
    const hd = 3;
    const T = 4;
    const q = rand([1, T, heads * hd], 11);
    const k = rand([1, T, kvHeads * hd], 12);
    const v = rand([1, T, kvHeads * hd], 13);
    const repeat = (t: Tensor) => {
      const src = arr(t);
      const out: number[] = [];
      for (let ti = 0; ti < T; ti++)
        for (let h = 0; h < heads; h++) {
          const g = Math.floor(h / (heads / kvHeads));
          out.push(...src.slice(ti * kvHeads * hd + g * hd, ti * kvHeads * hd + (g + 1) * hd));
        }
      return fromValues([1, T, heads * hd], out);
    };
    const gqa = arr(apply("attention", [q, k, v], { heads, kv_heads: kvHeads, head_dim: hd }));
    const mha = arr(apply("attention", [q, repeat(k), repeat(v)], { heads, kv_heads: heads, head_dim: hd }));
    expect(gqa).toEqual(mha.map((x) => expect.closeTo(x, 13)));
  });
});

describe("attnres", () => {
  const base = { score: "softmax", key_norm: true, eps: 1e-6 };
  it("with one source returns that source", () => {
    const s = rand([2, 3, 4], 21);
    const out = apply("attnres", [s, rand([4], 22), fromValues([4], [1, 1, 1, 1])], { ...base, sources: 1 });
    expect(arr(out)).toEqual(arr(s).map((x) => expect.closeTo(x, 14)));
  });
  it("with a zero query is the plain mean of the sources", () => {
    const srcs = [rand([1, 2, 4], 1), rand([1, 2, 4], 2), rand([1, 2, 4], 3)];
    const out = arr(
      apply("attnres", [...srcs, fromValues([4], [0, 0, 0, 0]), fromValues([4], [1, 1, 1, 1])], {
        ...base,
        sources: 3,
      }),
    );
    const mean = arr(srcs[0]).map((_, i) => (arr(srcs[0])[i] + arr(srcs[1])[i] + arr(srcs[2])[i]) / 3);
    expect(out).toEqual(mean.map((x) => expect.closeTo(x, 14)));
  });
  it("weights sources by softmax of query . RMSNorm(key) * gain", () => {
    const s0 = fromValues([1, 1, 2], [3, 4]);
    const s1 = fromValues([1, 1, 2], [1, 0]);
    const q = fromValues([2], [1, 2]);
    const gain = fromValues([2], [2, 1]);
    const out = arr(apply("attnres", [s0, s1, q, gain], { ...base, sources: 2, eps: 0 }));
    const r0 = Math.sqrt(12.5);
    const r1 = Math.sqrt(0.5);
    const l0 = (3 / r0) * 2 * 1 + (4 / r0) * 1 * 2;
    const l1 = (1 / r1) * 2 * 1;
    const a0 = Math.exp(l0) / (Math.exp(l0) + Math.exp(l1));
    expect(out[0]).toBeCloseTo(a0 * 3 + (1 - a0) * 1, 12);
    expect(out[1]).toBeCloseTo(a0 * 4, 12);
  });
  it("without key norm uses the raw source as key; sigmoid scores are not normalised", () => {
    const s0 = fromValues([1, 1, 2], [3, 4]);
    const s1 = fromValues([1, 1, 2], [1, 0]);
    const q = fromValues([2], [0.5, -1]);
    const out = arr(
      apply("attnres", [s0, s1, q], { score: "sigmoid", key_norm: false, eps: 1e-6, sources: 2 }),
    );
    const sig = (x: number) => 1 / (1 + Math.exp(-x));
    const a0 = sig(1.5 - 4);
    const a1 = sig(0.5);
    expect(out[0]).toBeCloseTo(3 * a0 + 1 * a1, 12);
    expect(out[1]).toBeCloseTo(4 * a0, 12);
  });
  it("a per-position query [B,T,D] gives each position its own weights", () => {
    const s0 = fromValues([1, 2, 1], [1, 1]);
    const s1 = fromValues([1, 2, 1], [-1, -1]);
    const q = fromValues([1, 2, 1], [100, -100]);
    const out = arr(apply("attnres", [s0, s1, q], { score: "softmax", key_norm: false, eps: 0, sources: 2 }));
    expect(out[0]).toBeCloseTo(1, 10);
    expect(out[1]).toBeCloseTo(-1, 10);
  });
  it("attnres_static mixes with softmax (or sigmoid) of its logits", () => {
    const s0 = fromValues([1, 1, 1], [2]);
    const s1 = fromValues([1, 1, 1], [6]);
    const logits = fromValues([2], [0, Math.log(3)]);
    expect(arr(apply("attnres_static", [s0, s1, logits], { sources: 2, score: "softmax" }))[0]).toBeCloseTo(
      0.25 * 2 + 0.75 * 6,
      12,
    );
    expect(arr(apply("attnres_static", [s0, s1, logits], { sources: 2, score: "sigmoid" }))[0]).toBeCloseTo(
      0.5 * 2 + 0.75 * 6,
      12,
    );
  });
});

describe("cross_entropy", () => {
  it("uniform logits give ln(V)", () => {
    const out = apply("cross_entropy", [
      fromValues([2, 1, 5], new Array(10).fill(3)),
      fromInts([2, 1], [0, 4]),
    ]);
    expect(out.type.shape).toEqual([]);
    expect(out.data[0]).toBeCloseTo(Math.log(5), 12);
  });
  it("averages -log softmax[target] over positions and survives large logits", () => {
    const logits = fromValues([2, 2], [1000, 1001, 0, Math.log(3)]);
    const out = apply("cross_entropy", [logits, fromInts([2], [0, 1])]);
    const first = Math.log(1 + Math.E);
    const second = -Math.log(3 / 4);
    expect(out.data[0]).toBeCloseTo((first + second) / 2, 9);
  });
});

describe("normalisation properties", () => {
  it("attention weights sum to one: constant values come back unchanged for any q, k", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1e6 }),
        fc.double({ min: -5, max: 5, noNaN: true }),
        (seed, c) => {
          const q = rand([1, 4, 6], seed);
          const k = rand([1, 4, 6], seed + 1);
          const v = fromValues([1, 4, 6], new Array(24).fill(c));
          const out = arr(
            apply("attention", [scaleBy(q, 10), scaleBy(k, 10), v], { heads: 3, kv_heads: 3, head_dim: 2 }),
          );
          for (const x of out) expect(x).toBeCloseTo(c, 10);
        },
      ),
      { numRuns: 25 },
    );
  });
  it("attnres softmax weights sum to one: identical sources come back unchanged for any query", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1e6 }), fc.integer({ min: 1, max: 5 }), (seed, count) => {
        const s = rand([2, 2, 4], seed);
        const gain = rand([4], seed + 2);
        const out = apply("attnres", [...new Array(count).fill(s), scaleBy(rand([4], seed + 1), 20), gain], {
          sources: count,
          score: "softmax",
          key_norm: true,
          eps: 1e-6,
        });
        expect(arr(out)).toEqual(arr(s).map((x) => expect.closeTo(x, 12)));
      }),
      { numRuns: 25 },
    );
  });
});

function scaleBy(t: Tensor, factor: number): Tensor {
  return fromValues(
    t.type.shape,
    arr(t).map((x) => x * factor),
  );
}
