import { describe, expect, it } from "vitest";
import { loadProgram, findModel } from "../compiler/frontend.js";
import { lowerModel } from "../compiler/ir/lower.js";
import type { ModelSpec } from "../format/spec.js";
import { initParams } from "../runtime/init.js";
import { Rng } from "../runtime/data/rng.js";
import { KvCacheDecoder } from "../compiler/reference/kv-cache-decoder.js";
import { ReferenceDecoder } from "../compiler/reference/reference-decoder.js";

/** Initialised parameters plus noise, so zero-initialised queries and unit gains matter too. */
function randomParams(model: ModelSpec, seed: number): Map<string, Float32Array> {
  const params = initParams(lowerModel(model, { batch: 1, seq: 1 }).params, seed);
  const rng = new Rng(seed, 99);
  for (const values of params.values())
    for (let i = 0; i < values.length; i++) values[i] += (rng.nextFloat() - 0.5) * 0.2;
  return params;
}

function modelsOf(file: string): ModelSpec[] {
  const result = loadProgram([file]);
  const variants = [...result.program.ablations.values()].flatMap((a) => a.variants.map((v) => v.model));
  return [findModel(result), ...variants];
}

const table4 = modelsOf("examples/table4.arch"); // DenseFormer, mHC, multi-head Block AttnRes, ...
const otherResiduals: ModelSpec["residual"][] = [
  { kind: "hyper", streams: 3, dynamic: true },
  {
    kind: "attn",
    blocks: null,
    blockSize: 3,
    keyNorm: true,
    score: "softmax",
    weights: "query",
    query: "vector",
    gate: true,
  },
];

const models = [
  ...modelsOf("examples/tiny.arch"), // rope, grouped KV heads, SwiGLU, and the AttnRes ablation variants
  ...modelsOf("examples/gpt2_classic.arch"), // learned positions, layernorm, GELU, untied head
  ...table4.slice(1), // the ablation's variants: the file's last model is one of them
  ...otherResiduals.map((residual, i) => ({ ...table4[0], name: `other_residual_${i}`, residual })),
];

describe("KV-cache decoder", () => {
  it("covers several kinds of model", () => {
    expect(models.length).toBeGreaterThanOrEqual(4);
    expect(new Set(models.map((m) => m.position.kind))).toEqual(new Set(["rope", "learned"]));
    expect(models.some((m) => m.residual.kind === "attn")).toBe(true);
  });

  for (const model of models) {
    it(`matches full recomputation token by token: ${model.name}`, async () => {
      const params = randomParams(model, 7);
      const cached = new KvCacheDecoder(model, params);
      const reference = new ReferenceDecoder(model, params);
      const ids = [72, 101, 108, 108, 111, 32, 119];
      const compare = (a: ArrayLike<number>, b: ArrayLike<number>) => {
        expect(a.length).toBe(model.vocab);
        let worst = 0;
        for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
        expect(worst).toBeLessThan(1e-9);
      };
      compare(await cached.prefill(ids.slice(0, 3)), await reference.prefill(ids.slice(0, 3)));
      for (const id of ids.slice(3)) compare(await cached.decodeNext(id), await reference.decodeNext(id));
      // a new prefill forgets the old sequence
      compare(await cached.prefill([5, 6]), await reference.prefill([5, 6]));
    });
  }

  it("depends on earlier tokens (the cache is used)", async () => {
    const model = models[0];
    const params = randomParams(model, 3);
    const decoder = new KvCacheDecoder(model, params);
    const a = Array.from(await decoder.prefill([1, 2, 3]));
    const b = Array.from(await decoder.prefill([9, 2, 3]));
    expect(a).not.toEqual(b);
  });

  it("refuses a checkpoint that lacks a parameter", () => {
    const model = models[0];
    const params = randomParams(model, 3);
    params.delete("embed.tokens");
    expect(() => new KvCacheDecoder(model, params)).toThrow(/no parameter "embed.tokens"/);
  });
});
