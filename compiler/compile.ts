// The compiler driver: a graph goes through the passes below, in this order, and comes out as an
// executable plan (format/archx.ts) that the runtime can run without the compiler.

import type { Graph } from "./ir/ir.js";
import { lowerModel } from "./ir/lower.js";
import { differentiate } from "./passes/autodiff.js";
import { adamwModules } from "./codegen/kernels/adamw.js";
import type { ModelSpec } from "../format/spec.js";
import type { TrainingProgram } from "../format/training.js";
import { verifyGraph } from "./ir/verify.js";
import { fuseGraph } from "./passes/fusion.js";
import { planBuffers, STORAGE_OFFSET_ALIGNMENT } from "./passes/plan.js";
import { findViews, viewConflicts } from "./passes/views.js";
import { findSourceStacks } from "./passes/stacks.js";
import { foldNormsIntoProducts, hasBackward } from "./passes/norm-prologue.js";
import { renderKernels } from "./codegen/render.js";
import type { BufferPlan, Kernel } from "./codegen/kernel.js";
import type { ArchxValue, Executable } from "../format/archx.js";
import { ARCHX_FORMAT, ARCHX_VERSION, moduleCode } from "../format/archx.js";
import type { TuningTable } from "../format/tuning.js";

export interface CompileOptions {
  /** false compiles one kernel per op (for comparison and debugging); default true */
  fuse?: boolean;
  batch?: number;
  seq?: number;
  vocab?: number;
  /**
   * the kernel variant per op and shape class (format/tuning.ts), measured on the device the
   * program is for; ops without an entry get their template's default
   */
  tuning?: TuningTable;
}

/** a graph that breaks an IR invariant reached code generation: a bug in a pass before it */
export class GraphVerificationError extends Error {}

/** throws when a pass left (or was handed) a graph that breaks an IR invariant */
function verifyAt(graph: Graph, where: string): void {
  const problems = verifyGraph(graph);
  if (problems.length > 0)
    throw new GraphVerificationError(
      `internal: graph ${graph.name} fails verification ${where}:\n  ${problems.slice(0, 20).join("\n  ")}`,
    );
}

export function compileGraph(input: Graph, options: CompileOptions = {}): Executable {
  // 0. the graph as lowering or autodiff left it must satisfy every IR invariant (ir/verify.ts)
  verifyAt(input, "before code generation");
  const fused = options.fuse !== false;
  // 0b. in a program without a backward, norms read only by products become the products' prologue
  let graph = input;
  if (fused && !hasBackward(input)) {
    graph = foldNormsIntoProducts(input);
    if (graph !== input) verifyAt(graph, "after folding norms into products");
  }
  // 1. views: slices and reshapes that can alias their operand's bytes need no kernel
  let views = findViews(graph, STORAGE_OFFSET_ALIGNMENT);
  // 2. fusion: group nodes into kernels (anchor + elementwise epilogue)
  let groups = fuseGraph(graph, { enabled: fused, views });
  // a kernel must not bind a view together with bytes it shares: those views are copied instead
  const conflicts = viewConflicts(graph, groups, views);
  if (conflicts.size > 0) {
    views = findViews(graph, STORAGE_OFFSET_ALIGNMENT, conflicts);
    groups = fuseGraph(graph, { enabled: fused, views });
  }
  // 3. source stacks: AttnRes sources laid out at a fixed stride, so one module serves every layer
  const stacks = findSourceStacks(graph, groups, views);
  // 4. buffer planning: pools, offsets, scratch reuse by liveness, views inside their bases
  const plan = planBuffers(graph, groups, STORAGE_OFFSET_ALIGNMENT, views, stacks.stacks);
  // 5. code generation: one WGSL module per group; kernels touching many values bind pool ranges
  const kernels = renderKernels(graph, groups, plan, stacks, options.tuning);
  // 6. packaging: deduplicate modules, describe values, parameters and I/O
  return packageExecutable(graph, kernels, plan, { ...options, fuse: fused });
}

/**
 * A model compiled for training at one batch × seq: the differentiated graph (forward, backward,
 * loss and gradients), the forward graph for evaluation (the same parameter layout, so both run on
 * one param pool), and the optimizer's kernels. The runtime's training engine runs this as it is.
 */
export function compileTraining(
  model: ModelSpec,
  shape: { batch: number; seq: number },
  options: { fuse?: boolean; tuning?: TuningTable } = {},
): TrainingProgram {
  const forward = lowerModel(model, shape);
  const compileOptions = { ...shape, vocab: model.vocab, fuse: options.fuse, tuning: options.tuning };
  return {
    train: compileGraph(differentiate(forward), compileOptions),
    eval: compileGraph(forward, compileOptions),
    optimizer: adamwModules(),
  };
}

function valueLabel(graph: Graph, id: number): string {
  const node = graph.nodes[id];
  if (node.op === "param" || node.op === "input") return String(node.attrs.name);
  return `${node.scope ? node.scope + " " : ""}${node.op} %${id}`;
}

function workgroupStorageBytes(wgsl: string): number {
  // every workgroup array is declared `var<workgroup> name: array<T, N>` with 4-byte T or vec2f
  let bytes = 0;
  for (const m of wgsl.matchAll(/var<workgroup>\s+\w+\s*:\s*array<(\w+),\s*(\d+)>/g))
    bytes += Number(m[2]) * (m[1] === "vec2f" ? 8 : 4);
  return bytes;
}

function packageExecutable(
  graph: Graph,
  kernels: Kernel[],
  plan: BufferPlan,
  options: CompileOptions,
): Executable {
  // one module per distinct code: kernels of different layers differ only in their comments, and
  // a shared module keeps the comments of the first kernel that uses it
  const modules: string[] = [];
  const moduleIndex = new Map<string, number>();
  const moduleOf = (wgsl: string) => {
    const code = moduleCode(wgsl);
    if (!moduleIndex.has(code)) {
      moduleIndex.set(code, modules.length);
      modules.push(wgsl);
    }
    return moduleIndex.get(code)!;
  };
  const values: ArchxValue[] = plan.slots.map((slot) => ({
    id: slot.value,
    dtype: graph.nodes[slot.value].type.dtype,
    shape: [...graph.nodes[slot.value].type.shape],
    pool: slot.pool,
    offset: slot.offset,
    size: slot.size,
    label: valueLabel(graph, slot.value),
    ...(slot.viewOf === undefined ? {} : { viewOf: slot.viewOf }),
  }));
  const paramValue = new Map(
    graph.nodes.filter((n) => n.op === "param").map((n) => [String(n.attrs.name), n.id]),
  );
  const largest = values.reduce((best, v) => (v.size > best.size ? v : best), values[0]);
  const largestPool = plan.pools.reduce((best, p) => (p.size > best.size ? p : best), plan.pools[0]);
  return {
    format: ARCHX_FORMAT,
    version: ARCHX_VERSION,
    model: graph.name,
    batch: options.batch ?? null,
    seq: options.seq ?? null,
    vocab: options.vocab ?? null,
    fused: options.fuse !== false,
    modules,
    kernels: kernels.map((k) => ({
      name: k.name,
      module: moduleOf(k.wgsl),
      entryPoint: k.entryPoint,
      bindings: k.bindings,
      workgroups: k.workgroups,
      ops: k.ops,
    })),
    pools: plan.pools,
    values,
    params: graph.params.map((p) => {
      const value = paramValue.get(p.name);
      if (value === undefined) throw new Error(`internal: parameter ${p.name} has no param node`);
      return { name: p.name, shape: [...p.shape], init: p.init, decay: p.decay, group: p.group, value };
    }),
    inputs: graph.nodes
      .filter((n) => n.op === "input")
      .map((n) => ({
        name: String(n.attrs.name),
        dtype: n.type.dtype,
        shape: [...n.type.shape],
        value: n.id,
      })),
    outputs: Object.entries(graph.outputs).map(([name, value]) => ({
      name,
      dtype: graph.nodes[value].type.dtype,
      shape: [...graph.nodes[value].type.shape],
      value,
    })),
    ...(graph.caches ? { caches: graph.caches.map((c) => ({ ...c })) } : {}),
    requirements: {
      storageBuffersPerKernel: Math.max(0, ...kernels.map((k) => k.bindings.length)),
      largestBinding: { bytes: largest?.size ?? 0, label: largest?.label ?? "" },
      largestPool: { bytes: largestPool.size, usage: largestPool.usage },
      workgroupStorageBytes: Math.max(0, ...kernels.map((k) => workgroupStorageBytes(k.wgsl))),
    },
  };
}
