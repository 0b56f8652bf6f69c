// Identical conditions across ablation variants: a parameter two variants share (same name, same
// shape) starts from the same values, because its initial values come from the seed and its name,
// never from its position among the model's parameters.

import { describe, expect, it } from "vitest";
import { lowerModel } from "../compiler/ir/lower.js";
import { loadSource } from "../compiler/frontend.js";
import { initParams } from "../runtime/init.js";

const SOURCE = `import std.transformer
model tiny extends gpt {
  context: 16
  dim: 16
  depth: 3
  heads: 2
  hidden: 2 * dim
}
ablation residuals of tiny {
  residual: [add, attn, attn(block = 2)]
}
`;

describe("ablation variants start alike", () => {
  it("a baseline and AttnRes variants start with identical shared tensors", () => {
    const result = loadSource("init.arch", SOURCE);
    const [add, full, block] = result.program.ablations.get("residuals")!.variants.map((v) => {
      const graph = lowerModel(v.model, { batch: 1, seq: 8 });
      return { params: graph.params, values: initParams(graph.params, 7) };
    });
    for (const variant of [full, block]) {
      const shared = add.params.filter((p) =>
        variant.params.some((q) => q.name === p.name && q.shape.join() === p.shape.join()),
      );
      // every parameter of the baseline exists in the AttnRes variant: only attnres ones are added
      expect(shared.length).toBe(add.params.length);
      expect(variant.params.length).toBeGreaterThan(add.params.length);
      for (const p of shared) expect(variant.values.get(p.name), p.name).toEqual(add.values.get(p.name));
      // and the AttnRes variant has more parameters before the shared ones in its own order, so a
      // position-based initialisation would have shifted every value after them
      const firstExtra = variant.params.findIndex((p) => !add.params.some((q) => q.name === p.name));
      expect(firstExtra).toBeLessThan(variant.params.length - 1);
    }
    // a different seed gives different values
    const other = initParams(add.params, 8);
    const embedding = add.params.find((p) => p.init.kind === "normal")!;
    expect(other.get(embedding.name)).not.toEqual(add.values.get(embedding.name));
  });
});
