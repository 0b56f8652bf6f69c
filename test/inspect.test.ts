import { describe, expect, it } from "vitest";
import { inspectModel } from "../compiler/analysis/inspect.js";
import { formatInspect } from "../compiler/analysis/format.js";
import { blockRes, FULL, tinySpec } from "./golden/specs.js";

const D = 16;
const V = 32;
const HIDDEN = 32;
const opts = { batch: 2, seq: 8 };

/** the per-layer parameter counts of tinySpec's defaults, derived by hand */
const attentionParams = 4 * D * D;
const swigluParams = 3 * D * HIDDEN;

describe("inspectModel", () => {
  it("counts parameters per group for the baseline", () => {
    const r = inspectModel(tinySpec({ layers: 2 }), opts);
    expect(r.parameters.byGroup).toEqual({
      embedding: V * D,
      attention: 2 * attentionParams,
      mlp: 2 * swigluParams,
      norm: 5 * D,
      head: D * V,
    });
    expect(r.parameters.total).toBe(V * D + 2 * attentionParams + 2 * swigluParams + 5 * D + D * V);
    expect(r.attnres).toBeNull();
  });

  it("a tied head adds no parameters; learned positions add context x D", () => {
    const untied = inspectModel(tinySpec(), opts).parameters.total;
    expect(inspectModel(tinySpec({ tied: true }), opts).parameters.total).toBe(untied - D * V);
    expect(inspectModel(tinySpec({ position: { kind: "learned" } }), opts).parameters.byGroup.position).toBe(
      16 * D,
    );
  });

  it("forward FLOPs per token: 2 x matmul weights, causal attention, nothing for add", () => {
    const r = inspectModel(tinySpec({ layers: 2 }), opts);
    const matmulWeights = 2 * attentionParams + 2 * swigluParams + D * V;
    const T = opts.seq;
    const attention = 2 * (2 * 2 * D * ((T + 1) / 2));
    expect(r.flopsPerToken.forwardBreakdown.matmul).toBe(2 * matmulWeights);
    expect(r.flopsPerToken.forwardBreakdown.attention).toBeCloseTo(attention, 9);
    expect(r.flopsPerToken.forwardBreakdown.attnres).toBe(0);
    expect(r.flopsPerToken.training).toBeCloseTo(3 * r.flopsPerToken.forward, 6);
  });

  it("Full AttnRes: sources 1..L, final L+1, and aggregation FLOPs 7 D per source", () => {
    const r = inspectModel(tinySpec({ layers: 2, residual: FULL }), opts);
    expect(r.attnres!.perSublayer).toEqual([
      { sublayer: "layers.0.attn", sources: 1 },
      { sublayer: "layers.0.mlp", sources: 2 },
      { sublayer: "layers.1.attn", sources: 3 },
      { sublayer: "layers.1.mlp", sources: 4 },
    ]);
    expect(r.attnres).toMatchObject({ final: 5, min: 1, max: 4, mean: 2.5 });
    expect(r.flopsPerToken.forwardBreakdown.attnres).toBe(7 * D * (1 + 2 + 3 + 4 + 5));
    expect(r.parameters.byGroup.attnres).toBe(5 * 2 * D);
  });

  it("Block AttnRes N=2 over 4 layers has fewer sources than Full", () => {
    const block = inspectModel(tinySpec({ layers: 4, residual: blockRes(2) }), opts).attnres!;
    const full = inspectModel(tinySpec({ layers: 4, residual: FULL }), opts).attnres!;
    expect(block.perSublayer.map((s) => s.sources)).toEqual([1, 2, 2, 2, 2, 3, 3, 3]);
    expect(block).toMatchObject({ final: 3, min: 1, max: 3, mean: 18 / 8 });
    expect(full.mean).toBe(4.5);
  });

  it("activation memory: what backward reads, within all forward values, linear in batch", () => {
    const one = inspectModel(tinySpec(), { batch: 1, seq: 8 }).activationMemory;
    const two = inspectModel(tinySpec(), { batch: 2, seq: 8 }).activationMemory;
    expect(one.savedBytes).toBeGreaterThan(0);
    expect(one.savedBytes).toBeLessThan(one.forwardBytes);
    expect(two.savedBytes).toBe(2 * one.savedBytes);
    // every forward value scales with batch except the scalar loss
    expect(two.forwardBytes).toBe(2 * one.forwardBytes - 4);
  });

  it("activation memory: Full AttnRes keeps more than the baseline", () => {
    const base = inspectModel(tinySpec({ layers: 4 }), opts).activationMemory.savedBytes;
    const full = inspectModel(tinySpec({ layers: 4, residual: FULL }), opts).activationMemory.savedBytes;
    expect(full).toBeGreaterThan(base);
  });

  it("formats a readable table naming every section", () => {
    const text = formatInspect(inspectModel(tinySpec({ residual: FULL }), opts));
    for (const heading of [
      "parameters",
      "FLOPs per token",
      "activation memory",
      "AttnRes sources",
      "layers.1.mlp",
    ])
      expect(text).toContain(heading);
  });
});
