// Each backward kernel template on the device against the float64 reference, on random inputs of
// odd sizes. Needs a WebGPU adapter (lavapipe will do); fails when there is none.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GraphBuilder } from "../compiler/ir/builder.js";
import "../compiler/ir/catalog.js";
import type { Attrs } from "../compiler/ir/ir.js";
import { attentionReference } from "../compiler/ops/attention/reference.js";
import { kernelTemplate, referenceOp } from "../compiler/ops/registry.js";
import type { Tensor } from "../compiler/reference/tensor.js";
import { randomIds, randomTensor, seededRandom } from "./gradcheck-support.js";
import { relativeError, requireDevice, runTemplate } from "./gpu-backward-support.js";

let device: GPUDevice;
beforeAll(async () => {
  device = await requireDevice();
});
afterAll(() => device?.destroy());

const rand = seededRandom(2024);
const f = (shape: number[], spread = 1) => randomTensor(shape, rand, spread);

async function expectKernelMatches(op: string, inputs: Tensor[], attrs: Attrs = {}): Promise<void> {
  const b = new GraphBuilder(op);
  const ids = inputs.map((t, i) => b.input(`in${i}`, t.type.dtype, t.type.shape));
  const node = b.graph.nodes[b.op(op, ids, attrs)];
  const [reference, template] = [referenceOp(op), kernelTemplate(op)];
  if (!reference || !template) throw new Error(`the op registry has no kernel or reference for ${op}`);
  const want = reference(inputs, node).data;
  const got = await runTemplate(device, template, b.graph, node, inputs);
  expect(relativeError(got, want), `${op} rel error`).toBeLessThanOrEqual(1e-4);
}

describe("plumbing and pointwise kernels", () => {
  it("fill, reshape, slice, reduce_leading", async () => {
    await expectKernelMatches("fill", [], { shape: [3, 5], value: -0.5 });
    await expectKernelMatches("reshape", [f([3, 5, 7])], { shape: [15, 7] });
    await expectKernelMatches("slice", [f([3, 5, 7])], { index: 2 });
    await expectKernelMatches("reduce_leading", [f([3, 5, 7])], { keep: 1 });
    await expectKernelMatches("reduce_leading", [f([3, 5, 7])], { keep: 2 });
  });

  it("gelu_grad and silu_grad", async () => {
    await expectKernelMatches("gelu_grad", [f([5, 13], 4), f([5, 13])]);
    await expectKernelMatches("silu_grad", [f([5, 13], 4), f([5, 13])]);
  });

  it("tanh_grad and sigmoid_grad", async () => {
    await expectKernelMatches("tanh_grad", [f([5, 13], 6), f([5, 13])]);
    await expectKernelMatches("sigmoid_grad", [f([5, 13], 6), f([5, 13])]);
  });
});

describe("norm and rope kernels", () => {
  it("rmsnorm dx and dgain", async () => {
    const [x, g, dy] = [f([3, 5, 7]), f([7]), f([3, 5, 7])];
    await expectKernelMatches("rmsnorm_grad_x", [x, g, dy], { eps: 1e-5 });
    await expectKernelMatches("rmsnorm_grad_gain", [x, dy], { eps: 1e-5 });
  });

  it("layernorm dx and dgain", async () => {
    const [x, g, dy] = [f([3, 5, 7]), f([7]), f([3, 5, 7])];
    await expectKernelMatches("layernorm_grad_x", [x, g, dy], { eps: 1e-5 });
    await expectKernelMatches("layernorm_grad_gain", [x, dy], { eps: 1e-5 });
  });

  it("rope_grad", async () => {
    await expectKernelMatches("rope_grad", [f([3, 7, 12])], { heads: 2, head_dim: 6, theta: 10000 });
  });
});

describe("attention kernels", () => {
  // 70 and 130 keys span two and three of the dk/dv kernel's 64-key tiles
  for (const [heads, kvHeads, seq] of [
    [3, 3, 7],
    [4, 2, 7],
    [3, 1, 7],
    [4, 2, 70],
    [3, 1, 130],
  ])
    it(`dq and dk/dv with ${heads} query heads on ${kvHeads} kv heads, ${seq} positions`, async () => {
      const hd = 5;
      const batch = 2;
      const q = f([batch, seq, heads * hd]);
      const k = f([batch, seq, kvHeads * hd]);
      const v = f([batch, seq, kvHeads * hd]);
      const attrs = { heads, kv_heads: kvHeads, head_dim: hd };
      const b = new GraphBuilder("fwd");
      const ins = [q, k, v].map((t, i) => b.input(`x${i}`, "f32", t.type.shape));
      const node = b.graph.nodes[b.op("attention", ins, attrs)];
      const o = attentionReference([q, k, v], node);
      const dy = f([batch, seq, heads * hd]);
      await expectKernelMatches("attention_grad_q", [q, k, v, o, dy], attrs);
      await expectKernelMatches("attention_grad_kv", [q, k, v, o, dy], attrs);
    });
});

describe("AttnRes kernels", () => {
  const shape = [2, 3, 7];
  for (const score of ["softmax", "sigmoid"])
    for (const keyNorm of [true, false])
      for (const query of ["vector", "projected"])
        // with a projected query, also adding a later aggregation's packed gradients (4 entries)
        it(`${score}, key norm ${keyNorm ? "on" : "off"}, ${query} query`, async () => {
          const accumulate = query === "projected";
          const operands = [f(shape), f(shape), f(shape), f(query === "vector" ? [7] : shape)];
          if (keyNorm) operands.push(f([7]));
          operands.push(f(shape));
          if (accumulate) operands.push(f([4, ...shape]));
          const attrs = { sources: 3, score, key_norm: keyNorm, eps: 1e-6, accumulate };
          await expectKernelMatches("attnres_grad_sources", operands, attrs);
        });

  for (const score of ["softmax", "sigmoid"])
    it(`static weights, ${score}`, async () => {
      const operands = [f(shape), f(shape), f(shape), f([3]), f(shape)];
      await expectKernelMatches("attnres_static_grad_sources", operands, { sources: 3, score });
      await expectKernelMatches("attnres_static_grad_logits", operands, { sources: 3, score });
    });

  it("static weights, linear", async () => {
    const operands = [f(shape), f(shape), f(shape), f([3]), f(shape)];
    await expectKernelMatches("attnres_static_grad_sources", operands, { sources: 3, score: "linear" });
    await expectKernelMatches("attnres_static_grad_logits", operands, { sources: 3, score: "linear" });
  });

  // multi-head depth attention: sources [B,T,H,D'] = [3,5,2,8], one query (and gain) per head [2,8]
  for (const keyNorm of [true, false])
    it(`multi-head, key norm ${keyNorm ? "on" : "off"}`, async () => {
      const heads = [3, 5, 2, 8];
      const operands = [f(heads, 2), f(heads, 2), f(heads, 2), f([2, 8])];
      if (keyNorm) operands.push(f([2, 8]));
      operands.push(f(heads));
      const attrs = {
        sources: 3,
        score: keyNorm ? "softmax" : "sigmoid",
        key_norm: keyNorm,
        eps: 1e-6,
        accumulate: false,
      };
      await expectKernelMatches("attnres_grad_sources", operands, attrs);
    });
});

describe("lookup and loss kernels", () => {
  it("embedding_grad scatters repeated ids", async () => {
    await expectKernelMatches("embedding_grad", [randomIds([3, 5], 4, rand), f([3, 5, 7])], { vocab: 5 });
  });

  it("add_positions_grad_table zero-fills positions past the sequence", async () => {
    await expectKernelMatches("add_positions_grad_table", [f([3, 5, 7])], { context: 9 });
  });

  it("cross_entropy_grad", async () => {
    const dloss = f([]);
    await expectKernelMatches("cross_entropy_grad", [f([3, 5, 11], 3), randomIds([3, 5], 11, rand), dloss]);
  });
});
