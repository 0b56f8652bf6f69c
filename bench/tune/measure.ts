// One shape class on the device: every variant the probe's node can use is compiled for the probe,
// checked against the float64 reference (a variant that disagrees is refused, never chosen) and
// timed: per dispatch with timestamp queries when the device has them, otherwise by the wall clock
// over many dispatches in one submission. Variants are timed in turns, several rounds, so that a
// drift in the machine's speed reaches them all alike.

import { compileGraph } from "../../compiler/compile.js";
import { forcingTable } from "../../compiler/codegen/variant-choice.js";
import type { Graph } from "../../compiler/ir/ir.js";
import { numel } from "../../compiler/ir/ir.js";
import { kernelTemplate } from "../../compiler/ops/registry.js";
import { interpret } from "../../compiler/reference/interpreter.js";
import { relativeError, seededValues } from "../../compiler/reference/compare.js";
import { median } from "../measure.js";
import type { Tensor } from "../../compiler/reference/tensor.js";
import { Executor } from "../../runtime/executor.js";
import type { ProfilingContext } from "../../runtime/profile/device.js";
import { timeDispatches } from "../../runtime/profile/timestamps.js";
import type { TuneClass } from "./classes.js";
import { describeProbe, probeFlops, probeGraph, probeNode, probeOf, shrinkProbe } from "./probe.js";

const probeOfGraph = (graph: Graph) => probeOf(graph, probeNode(graph));

/** the bound on relativeError (compiler/reference/compare.ts), as in the GPU kernel tests */
export const TOLERANCE = 1e-4;
/** FLOPs above which the float64 check runs on a shrunk probe, not the probe itself */
const CHECK_FLOPS = 2e8;
/** a variant replaces the default only when it is faster by more than this fraction (noise) */
export const MARGIN = 0.02;
const ROUNDS = 3;

export type TimingMethod = "timestamp-query" | "wall-clock";

export interface VariantMeasurement {
  variant: string;
  /** relativeError against the float64 reference; Infinity when it could not run */
  error: number;
  passed: boolean;
  /** why it failed, when it did not compile or run */
  problem?: string;
  /** median milliseconds per dispatch (passed variants only) */
  ms?: number;
}

export interface ClassMeasurement {
  op: string;
  shapeClass: string;
  nodes: number;
  /** the probe timed, and the one checked (the same unless too large to check quickly) */
  probe: string;
  checkedOn: string;
  defaultVariant: string;
  variants: VariantMeasurement[];
  chosen: string;
}

function feedsOf(graph: Graph): { gpu: Record<string, Float32Array>; reference: Record<string, Tensor> } {
  const gpu: Record<string, Float32Array> = {};
  const reference: Record<string, Tensor> = {};
  graph.nodes
    .filter((n) => n.op === "input")
    .forEach((n, i) => {
      const name = String(n.attrs.name);
      gpu[name] = seededValues(numel(n.type.shape), i + 1);
      reference[name] = { type: n.type, data: Float64Array.from(gpu[name]) };
    });
  return { gpu, reference };
}

/** an executor of `graph` with `variant` for its probe node; refuses a variant the node cannot use */
async function executorFor(
  gpu: ProfilingContext,
  graph: Graph,
  op: string,
  variant: string,
): Promise<Executor> {
  const node = probeNode(graph);
  if (!kernelTemplate(op)!.variants!.offered(node, graph).includes(variant))
    throw new Error(`${variant} is not offered for ${op} ${describeProbe(probeOfGraph(graph))}`);
  return Executor.create(gpu.device, compileGraph(graph, { tuning: forcingTable(graph, op, variant) }));
}

/** milliseconds per dispatch of the executor's probe kernel, `repeats` dispatches */
async function timeOnce(
  gpu: ProfilingContext,
  executor: Executor,
  repeats: number,
  op: string,
): Promise<number[]> {
  if (gpu.timestamps) {
    const kernel = executor.exe.kernels.findIndex((k) => k.ops[0] === op);
    const timed = await timeDispatches(gpu.device, (encoder) => {
      for (let r = 0; r < repeats; r++) executor.encode(encoder);
    });
    return timed.filter((d) => d.index === kernel).map((d) => d.ms);
  }
  const start = performance.now();
  await executor.runRepeated(repeats);
  return [(performance.now() - start) / repeats];
}

/**
 * the variant to keep: the fastest of those checked and timed, unless it beats the default by
 * MARGIN or less (then the default: a difference that small is noise)
 */
export function fastestVariant(measured: VariantMeasurement[], defaultVariant: string): string {
  const timed = measured.filter((m) => m.ms !== undefined);
  if (timed.length === 0) return defaultVariant;
  const fastest = timed.reduce((best, m) => (m.ms! < best.ms! ? m : best));
  const defaultMs = timed.find((m) => m.variant === defaultVariant)?.ms;
  return defaultMs === undefined || fastest.ms! < defaultMs * (1 - MARGIN) ? fastest.variant : defaultVariant;
}

export async function measureClass(
  gpu: ProfilingContext,
  c: TuneClass,
  repeats: number,
): Promise<ClassMeasurement> {
  const variants = kernelTemplate(c.op)!.variants!;
  const graph = probeGraph(c.probe);
  const node = probeNode(graph);
  const offered = variants.offered(node, graph);
  const defaultVariant = variants.defaultVariant(node, graph);
  const checkProbe = probeFlops(c.probe) > CHECK_FLOPS ? shrinkProbe(c.probe) : c.probe;
  const checkGraph = checkProbe === c.probe ? graph : probeGraph(checkProbe);
  const feeds = feedsOf(checkGraph);
  const reference = interpret(checkGraph, feeds.reference, new Map())[checkGraph.outputs.out].data;
  const timedFeeds = checkGraph === graph ? feeds.gpu : feedsOf(graph).gpu;

  const executors = new Map<string, Executor>();
  const results = new Map<string, VariantMeasurement>();
  try {
    // the check runs go to the device together: a software driver compiles their pipelines then,
    // and compiles several at once
    await Promise.all(
      offered.map(async (variant) => {
        const result: VariantMeasurement = { variant, error: Infinity, passed: false };
        results.set(variant, result);
        try {
          const checker = await executorFor(gpu, checkGraph, c.op, variant);
          try {
            const out = (await checker.run(feeds.gpu, ["out"])).out;
            result.error = relativeError(out, reference);
            result.passed = result.error <= TOLERANCE;
          } finally {
            if (checkGraph !== graph) checker.destroy();
            else executors.set(variant, checker);
          }
          if (result.passed && checkGraph !== graph) {
            const timed = await executorFor(gpu, graph, c.op, variant);
            executors.set(variant, timed);
            await timed.run(timedFeeds, ["out"]);
          }
        } catch (err) {
          result.passed = false;
          result.problem = err instanceof Error ? err.message.split("\n")[0] : String(err);
        }
      }),
    );
    const passed = offered.filter((v) => results.get(v)!.passed);
    const samples = new Map<string, number[]>(passed.map((v) => [v, []]));
    for (let round = 0; round < ROUNDS; round++)
      for (const variant of passed)
        samples.get(variant)!.push(...(await timeOnce(gpu, executors.get(variant)!, repeats, c.op)));
    for (const variant of passed) results.get(variant)!.ms = median(samples.get(variant)!);
  } finally {
    for (const executor of executors.values()) executor.destroy();
  }

  const measured = offered.map((v) => results.get(v)!);
  const chosen = fastestVariant(measured, defaultVariant);
  return {
    op: c.op,
    shapeClass: c.shapeClass,
    nodes: c.nodes,
    probe: describeProbe(c.probe),
    checkedOn: describeProbe(checkProbe),
    defaultVariant,
    variants: measured,
    chosen,
  };
}
