// Decoding on the device (runtime/decode/device-decoder.ts): the decoding ops' kernels against
// their float64 references, and whole models decoded on the GPU against the float64 CPU KV-cache
// decoder, logit for logit and token for token.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compileGraph } from "../compiler/compile.js";
import { findModel, loadProgram } from "../compiler/frontend.js";
import { lowerDecodeStep, lowerModel } from "../compiler/ir/lower.js";
import { KvCacheDecoder } from "../compiler/reference/kv-cache-decoder.js";
import { validateExecutable } from "../format/archx.js";
import type { ModelSpec } from "../format/spec.js";
import { Rng } from "../runtime/data/rng.js";
import { DeviceDecoder } from "../runtime/decode/device-decoder.js";
import type { GpuContext } from "../runtime/device.js";
import { initParams } from "../runtime/init.js";
import { generate } from "../runtime/train/decode.js";
import { checkOpOnGpu, openRealDevice, relativeError } from "./gpu-harness.js";

const TOLERANCE = 1e-4;

let gpu: GpuContext;
beforeAll(async () => {
  gpu = await openRealDevice();
});
afterAll(() => {
  gpu?.device.destroy();
});

const position = (p: number) => ({ shape: [1], dtype: "i32" as const, values: [p] });

describe("decoding kernels against the float64 reference", () => {
  it.each([0, 6])("add_position_at, position %i", async (p) => {
    expect(
      await checkOpOnGpu(gpu, "add_position_at", [{ shape: [3, 1, 9] }, { shape: [7, 9] }, position(p)]),
    ).toBeLessThanOrEqual(TOLERANCE);
  });

  it.each([0, 13])("rope_at, position %i", async (p) => {
    const attrs = { heads: 3, head_dim: 6, theta: 10000 };
    expect(
      await checkOpOnGpu(gpu, "rope_at", [{ shape: [2, 1, 18] }, position(p)], attrs),
    ).toBeLessThanOrEqual(TOLERANCE);
  });

  // 80 positions of cache: chunks of 64 keys, so 64 and 70 take a second chunk; 79 is the last row
  it.each([0, 5, 64, 70, 79])("cached_attention, grouped heads, position %i", async (p) => {
    const attrs = { heads: 4, kv_heads: 2, head_dim: 6 };
    const operands = [
      { shape: [3, 1, 24] },
      { shape: [3, 1, 12] },
      { shape: [3, 1, 12] },
      { shape: [80, 3, 12] },
      { shape: [80, 3, 12] },
      position(p),
    ];
    expect(await checkOpOnGpu(gpu, "cached_attention", operands, attrs)).toBeLessThanOrEqual(TOLERANCE);
  });

  it("cached_attention, a head wider than the workgroup (72 dimensions)", async () => {
    const attrs = { heads: 1, kv_heads: 1, head_dim: 72 };
    const operands = [
      { shape: [2, 1, 72] },
      { shape: [2, 1, 72] },
      { shape: [2, 1, 72] },
      { shape: [9, 2, 72] },
      { shape: [9, 2, 72] },
      position(8),
    ];
    expect(await checkOpOnGpu(gpu, "cached_attention", operands, attrs)).toBeLessThanOrEqual(TOLERANCE);
  });
});

/** initialised parameters plus noise, so zero-initialised queries and unit gains matter too */
function randomParams(model: ModelSpec, seed: number): Map<string, Float32Array> {
  const params = initParams(lowerModel(model, { batch: 1, seq: 1 }).params, seed);
  const rng = new Rng(seed, 99);
  for (const values of params.values())
    for (let i = 0; i < values.length; i++) values[i] += (rng.nextFloat() - 0.5) * 0.2;
  return params;
}

function model(file: string, name?: string): ModelSpec {
  const result = loadProgram([file]);
  return name ? result.program.models.get(name)! : findModel(result);
}

async function deviceDecoder(spec: ModelSpec, params: Map<string, Float32Array>, batch = 1) {
  const step = compileGraph(lowerDecodeStep(spec, { batch }), { batch, seq: 1, vocab: spec.vocab });
  return DeviceDecoder.create(gpu.device, step, params, spec.context);
}

describe("decoding whole models on the device", () => {
  const models = [
    model("examples/tiny.arch", "tiny"), // rope, grouped kv heads, SwiGLU
    model("examples/gpt2_classic.arch"), // learned positions, layernorm, GELU, untied head
    model("examples/table4.arch", "t4_block"), // Block AttnRes: one running partial per block
    model("examples/table4.arch", "t4_mhc"), // four residual streams, Sinkhorn mixing
  ];

  it("covers rope and learned positions, and depth-mixing residuals", () => {
    expect(models.every((m) => m !== undefined)).toBe(true);
    expect(new Set(models.map((m) => m.position.kind))).toEqual(new Set(["rope", "learned"]));
    expect(models.map((m) => m.residual.kind)).toContain("attn");
  });

  for (const spec of models)
    it(`matches the CPU KV-cache decoder logit for logit: ${spec.name}`, async () => {
      const params = randomParams(spec, 5);
      const cpu = new KvCacheDecoder(spec, params);
      const device = await deviceDecoder(spec, params);
      try {
        // past 64 positions for the models whose context allows it: a second chunk of keys
        const ids = Array.from({ length: Math.min(70, spec.context) }, (_, i) => (i * 37 + 11) % spec.vocab);
        const errors = [
          relativeError(await device.prefill(ids.slice(0, 3)), await cpu.prefill(ids.slice(0, 3))),
        ];
        for (const id of ids.slice(3))
          errors.push(relativeError(await device.decodeNext(id), await cpu.decodeNext(id)));
        // a new prefill forgets the old sequence
        errors.push(relativeError(await device.prefill([5, 6]), await cpu.prefill([5, 6])));
        expect(Math.max(...errors)).toBeLessThanOrEqual(TOLERANCE);
        expect(device.length).toBe(2);
      } finally {
        device.dispose();
      }
    });

  it("samples the same tokens as the CPU decoder for a fixed seed", async () => {
    const spec = models[0];
    const params = randomParams(spec, 9);
    const options = { maxTokens: 40, temperature: 0.8, topK: 40, seed: 3 };
    const device = await deviceDecoder(spec, params);
    try {
      const prompt = [72, 101, 108, 108, 111];
      const onDevice = await generate(device, prompt, options);
      const onCpu = await generate(new KvCacheDecoder(spec, params), prompt, options);
      expect(onDevice).toHaveLength(40);
      expect(onDevice).toEqual(onCpu);
      // past the context the window is re-read: 70 tokens from 5 cross the 64-token context
      const long = { ...options, maxTokens: 70 };
      expect(await generate(device, prompt, long)).toEqual(
        await generate(new KvCacheDecoder(spec, params), prompt, long),
      );
    } finally {
      device.dispose();
    }
  });

  it("decodes a batch of sequences side by side, each as if alone", async () => {
    const spec = models[0];
    const params = randomParams(spec, 2);
    const batch = 3;
    const device = await deviceDecoder(spec, params, batch);
    try {
      const sequences = [
        [1, 2, 3, 4, 5],
        [9, 8, 7, 6, 5],
        [40, 40, 41, 41, 42],
      ];
      device.reset();
      let logits = new Float32Array();
      for (let t = 0; t < 5; t++)
        logits = await device.step(
          Int32Array.from(sequences, (s) => s[t]),
          true,
        );
      for (const [b, ids] of sequences.entries()) {
        const cpu = new KvCacheDecoder(spec, params);
        const expected = await cpu.prefill(ids);
        expect(
          relativeError(logits.subarray(b * spec.vocab, (b + 1) * spec.vocab), expected),
        ).toBeLessThanOrEqual(TOLERANCE);
      }
    } finally {
      device.dispose();
    }
  });

  it("refuses a position past the context and a token outside the vocabulary", async () => {
    const spec = { ...models[0], context: 4 };
    const device = await deviceDecoder(spec, randomParams(spec, 1));
    try {
      await device.prefill([1, 2, 3, 4]);
      await expect(device.decodeNext(5)).rejects.toThrow(/past the context 4/);
      await expect(device.prefill([1, spec.vocab])).rejects.toThrow(/outside the vocabulary/);
    } finally {
      device.dispose();
    }
  });
});

describe("a decoding step's executable", () => {
  const spec = model("examples/tiny.arch", "tiny");
  const step = compileGraph(lowerDecodeStep(spec, { batch: 2 }), { batch: 2, seq: 1, vocab: spec.vocab });
  const attentionSublayers = spec.layers.flatMap((l) => l.sublayers).filter((s) => s.kind === "attention");

  it("lists a key and a value cache per attention sublayer, and validates", () => {
    expect(step.caches).toHaveLength(2 * attentionSublayers.length);
    expect(step.caches![0]).toEqual({ input: "cache.layers.0.attn.k", present: "present.layers.0.attn.k" });
    const cache = step.inputs.find((io) => io.name === step.caches![0].input)!;
    expect(cache.shape).toEqual([
      spec.context,
      2,
      attentionSublayers[0].kvHeads * attentionSublayers[0].headDim,
    ]);
    expect(() => validateExecutable(JSON.parse(JSON.stringify(step)), "step.archx")).not.toThrow();
  });

  const mutations: [string, (exe: Record<string, unknown>) => void, RegExp][] = [
    [
      "a cache naming no input",
      (e) => ((e.caches as { input: string }[])[0].input = "nope"),
      /is not an input/,
    ],
    [
      "a present naming no output",
      (e) => ((e.caches as { present: string }[])[1].present = "x"),
      /is not an output/,
    ],
    [
      "a cache whose present has another width",
      (e) => ((e.caches as { present: string }[])[0].present = "logits"),
      /expected f32\[context,B,W\]/,
    ],
    [
      "no position input",
      (e) => (e.inputs = (e.inputs as { name: string }[]).filter((i) => i.name !== "position")),
      /position/,
    ],
    ["caches that are not a list", (e) => (e.caches = { input: "a" }), /expected a list/],
  ];
  for (const [what, mutate, message] of mutations)
    it(`refuses ${what}`, () => {
      const copy = JSON.parse(JSON.stringify(step)) as Record<string, unknown>;
      mutate(copy);
      expect(() => validateExecutable(copy, "step.archx")).toThrow(message);
    });
});
