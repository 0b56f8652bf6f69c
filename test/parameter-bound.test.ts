// The checker refuses a model past MAX_PARAMETERS before lowering it, from an upper bound on its
// parameter count (compiler/check/limits.ts): the bound must hold for every residual kind.

import { describe, expect, it } from "vitest";
import { parameterUpperBound } from "../compiler/check/limits.js";
import { numel } from "../compiler/ir/ir.js";
import { lowerModel } from "../compiler/ir/lower.js";
import type { ResidualSpec } from "../format/spec.js";
import { attnResidual, tinySpec } from "./golden/specs.js";

const RESIDUALS: ResidualSpec[] = [
  { kind: "add" },
  attnResidual(),
  attnResidual({ blocks: 2, query: "projected", gate: true }),
  attnResidual({ weights: "static", gate: true }),
  attnResidual({ blockSize: 3, heads: 4 }),
  { kind: "dense", dilation: 1, period: 1 },
  { kind: "dense", dilation: 2, period: 3 },
  { kind: "hyper", streams: 4, dynamic: false },
  { kind: "hyper", streams: 3, dynamic: true },
  { kind: "mhc", streams: 4, iterations: 20 },
  { kind: "mhc", streams: 16, iterations: 1 },
];

describe("parameterUpperBound", () => {
  for (const residual of RESIDUALS)
    it(`covers what lowering creates: ${JSON.stringify(residual)}`, () => {
      const model = tinySpec({ layers: 7, dim: 16, residual });
      const actual = lowerModel(model, { batch: 1, seq: 2 }).params.reduce((n, p) => n + numel(p.shape), 0);
      const bound = parameterUpperBound(model);
      expect(bound).toBeGreaterThanOrEqual(actual);
      // an upper bound, not a guess: within the norms' biases and the AttnRes slack of the count
      expect(bound).toBeLessThan(actual * 1.5 + 1000);
    });
});
