// Finite-difference gradient checking against autodiff, both run through the float64 interpreter.

import { GraphBuilder } from "../compiler/ir/builder.js";
import "../compiler/ir/catalog.js";
import type { Attrs, Graph } from "../compiler/ir/ir.js";
import { numel } from "../compiler/ir/ir.js";
import { differentiate } from "../compiler/passes/autodiff.js";
import type { ParamValues } from "../compiler/reference/interpreter.js";
import { interpret, runOutputs } from "../compiler/reference/interpreter.js";
import type { Tensor } from "../compiler/reference/tensor.js";
import { fromInts, fromValues } from "../compiler/reference/tensor.js";

export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return ((z ^ (z >>> 14)) >>> 0) / 2 ** 32;
  };
}

export function randomTensor(shape: number[], rand: () => number, spread = 1): Tensor {
  return fromValues(
    shape,
    Array.from({ length: numel(shape) }, () => (rand() * 2 - 1) * spread),
  );
}

export function randomIds(shape: number[], below: number, rand: () => number): Tensor {
  return fromInts(
    shape,
    Array.from({ length: numel(shape) }, () => Math.floor(rand() * below)),
  );
}

export function randomParams(graph: Graph, rand: () => number, spread = 1): ParamValues {
  const params: ParamValues = new Map();
  for (const p of graph.params)
    params.set(
      p.name,
      Float64Array.from({ length: numel(p.shape) }, () => (rand() * 2 - 1) * spread),
    );
  return params;
}

export interface GradMismatch {
  param: string;
  index: number;
  analytic: number;
  numeric: number;
}

export interface GradcheckOptions {
  /** coordinates checked per parameter (all when omitted) */
  samplesPerParam?: number;
  step?: number;
  rtol?: number;
  atol?: number;
  rand?: () => number;
}

/** analytic gradients of "loss" w.r.t. every parameter, by autodiff and the interpreter */
export function analyticGradients(
  graph: Graph,
  feeds: Record<string, Tensor>,
  params: ParamValues,
): Map<string, Float64Array> {
  const backward = differentiate(graph);
  const outputs = runOutputs(backward, feeds, params);
  const grads = new Map<string, Float64Array>();
  for (const p of graph.params) grads.set(p.name, Float64Array.from(outputs[`grad.${p.name}`].data));
  return grads;
}

function lossOf(graph: Graph, feeds: Record<string, Tensor>, params: ParamValues): number {
  const values = interpret(graph, feeds, params);
  return values[graph.outputs.loss].data[0];
}

/** compares autodiff with central differences; returns the coordinates that disagree */
export function gradcheck(
  graph: Graph,
  feeds: Record<string, Tensor>,
  params: ParamValues,
  opts: GradcheckOptions = {},
): { mismatches: GradMismatch[]; checked: number } {
  const step = opts.step ?? 1e-6;
  const rtol = opts.rtol ?? 1e-5;
  const atol = opts.atol ?? 1e-7;
  const grads = analyticGradients(graph, feeds, params);
  const mismatches: GradMismatch[] = [];
  let checked = 0;
  for (const p of graph.params) {
    const values = params.get(p.name)!;
    const coords = chooseCoordinates(values.length, opts.samplesPerParam, opts.rand ?? seededRandom(7));
    for (const index of coords) {
      const saved = values[index];
      values[index] = saved + step;
      const up = lossOf(graph, feeds, params);
      values[index] = saved - step;
      const down = lossOf(graph, feeds, params);
      values[index] = saved;
      const numeric = (up - down) / (2 * step);
      const analytic = grads.get(p.name)![index];
      checked++;
      if (!(Math.abs(numeric - analytic) <= atol + rtol * Math.abs(numeric)))
        mismatches.push({ param: p.name, index, analytic, numeric });
    }
  }
  return { mismatches, checked };
}

function chooseCoordinates(length: number, samples: number | undefined, rand: () => number): number[] {
  if (samples === undefined || samples >= length) return Array.from({ length }, (_, i) => i);
  const chosen = new Set<number>();
  while (chosen.size < samples) chosen.add(Math.floor(rand() * length));
  return [...chosen];
}

/**
 * A training state to start from: every parameter uniform in (-spread, spread), from `rand`, and
 * zero moments.
 */
export function randomStart(
  params: { name: string; shape: number[] }[],
  rand: () => number,
  spread: number,
): { start: Map<string, Float32Array>; zeros: Map<string, Float32Array> } {
  const start = new Map(
    params.map((p) => [
      p.name,
      Float32Array.from({ length: p.shape.reduce((a, b) => a * b, 1) }, () => (rand() * 2 - 1) * spread),
    ]),
  );
  const zeros = new Map([...start].map(([name, values]) => [name, new Float32Array(values.length)]));
  return { start, zeros };
}

/**
 * Gradient check of one op: every operand a parameter of the given shape, the loss a
 * random-weighted cross-entropy of its result, so every output coordinate moves the loss. Checks
 * every coordinate; returns what gradcheck found.
 */
export function gradcheckOp(
  op: string,
  shapes: number[][],
  attrs: Attrs,
  seed: number,
): { mismatches: GradMismatch[]; checked: number } {
  const rand = seededRandom(seed);
  const b = new GraphBuilder(`grad_${op}`);
  const ids = shapes.map((shape, i) =>
    b.param(`x${i}`, shape, { kind: "normal", std: 1 }, { decay: true, group: "test" }),
  );
  const out = b.op(op, ids, attrs);
  const shape = b.graph.nodes[out].type.shape;
  const weights = b.input("weights", "f32", shape);
  const targets = b.input("targets", "i32", shape.slice(0, -1));
  const feeds = {
    weights: randomTensor(shape, rand, 2),
    targets: randomIds(shape.slice(0, -1), shape[shape.length - 1], rand),
  };
  b.output("loss", b.op("cross_entropy", [b.op("mul", [out, weights]), targets]));
  return gradcheck(b.graph, feeds, randomParams(b.graph, rand));
}
