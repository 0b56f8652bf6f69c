// Turns one fused group into a WGSL module: header comment, bindings, the epilogue function, the
// helpers the ops need, then the anchor's template. Names come from node scopes so the output is
// deterministic and says where each kernel came from.

import type { Graph, Node } from "../ir/ir.js";
import type { FusedGroup } from "../passes/fusion.js";
import { groupNodes, groupReads } from "../passes/fusion.js";
import { ELEMENTWISE_WGSL } from "../ops/elementwise/wgsl.js";
import type { BufferPlan, Kernel, KernelBinding } from "./kernel.js";
import { bindPools, MAX_VALUE_BINDINGS } from "./pooled.js";
import { kernelTemplate } from "../ops/registry.js";
import type { TemplateContext } from "./template.js";
import { u32Literal } from "./wgsl.js";
import type { SourceStacks } from "../passes/stacks.js";
import type { TuningTable } from "../../format/tuning.js";
import { chooseVariant } from "./variant-choice.js";

export class CodegenError extends Error {}

interface BoundValue {
  value: number;
  name: string;
}

function epilogueOperand(
  graph: Graph,
  step: Node,
  operandIndex: number,
  chainValue: number,
  bound: Map<number, string>,
): string {
  const value = step.inputs[operandIndex];
  if (value === chainValue) return "v";
  const size = graph.nodes[value].type.shape.reduce((a, b) => a * b, 1);
  const full = step.type.shape.reduce((a, b) => a * b, 1);
  const name = bound.get(value)!;
  return size === full ? `${name}[i]` : `${name}[i % ${u32Literal(size)}]`;
}

function epilogueFunction(graph: Graph, group: FusedGroup, bound: Map<number, string>): string {
  const lines: string[] = [];
  let chain = group.anchor;
  for (const id of group.epilogue) {
    const step = graph.nodes[id];
    const operands = step.inputs.map((_, k) => epilogueOperand(graph, step, k, chain, bound));
    lines.push(`  v = ${ELEMENTWISE_WGSL[step.op].expression(operands, step)}; // ${step.op} %${id}`);
    chain = id;
  }
  return `// the fused epilogue: elementwise ops applied to each element i before it is stored
fn finish(i: u32, anchor_value: f32) -> f32 {
  var v = anchor_value;
${lines.join("\n")}
  return v;
}`;
}

function helpersFor(nodes: Node[], templateCode: string): string[] {
  const helpers: string[] = [];
  for (const node of nodes) {
    const helper = ELEMENTWISE_WGSL[node.op]?.helpers;
    if (!helper || helpers.includes(helper)) continue;
    const fnName = /fn (\w+)\(/.exec(helper)?.[1];
    if (fnName && templateCode.includes(`fn ${fnName}(`)) continue;
    helpers.push(helper);
  }
  return helpers;
}

export function kernelBaseName(graph: Graph, group: FusedGroup): string {
  const anchor = graph.nodes[group.anchor];
  const ops = groupNodes(group).map((id) => graph.nodes[id].op);
  return `${anchor.scope || graph.name}.${ops.join("_")}`;
}

/** the stack range an anchor reads its sources through, when it does (see passes/stacks.ts) */
interface StackBinding {
  binding: KernelBinding;
  members: number[];
  /** elements between consecutive sources */
  stride: number;
  extra?: number;
  /** the most sources any reader of the stack has: the whole stack, and the extra */
  capacity: number;
}

function stackBinding(
  graph: Graph,
  anchor: Node,
  plan: BufferPlan | undefined,
  stacks: SourceStacks | undefined,
): StackBinding | undefined {
  const read = stacks?.reads.get(anchor.id);
  if (!read || !plan) return undefined;
  const stack = stacks!.stacks[read.stack];
  const members = stack.members.slice(0, read.count);
  const first = plan.slots.find((s) => s.value === members[0]);
  if (!first) throw new CodegenError(`internal: stack member %${members[0]} has no buffer slot`);
  const stride = stack.stride;
  const binding: KernelBinding = {
    pool: first.pool,
    access: "read_write",
    offset: first.offset,
    size: stride * members.length,
    values: members,
    stride,
  };
  const capacity = stack.members.length + (read.extra === undefined ? 0 : 1);
  return { binding, members, stride: stride / 4, extra: read.extra, capacity };
}

export function renderKernel(
  graph: Graph,
  group: FusedGroup,
  name = kernelBaseName(graph, group),
  plan?: BufferPlan,
  stacks?: SourceStacks,
  tuning?: TuningTable,
): Kernel {
  const anchor = graph.nodes[group.anchor];
  const template = kernelTemplate(anchor.op);
  if (!template)
    throw new CodegenError(
      `no GPU kernel for op '${anchor.op}' (node %${anchor.id} in ${anchor.scope || "the graph"})`,
    );

  const operandNames = template.operandNames(anchor);
  const bound = new Map<number, string>();
  const boundList: BoundValue[] = [];
  const bind = (value: number, name: string) => {
    if (bound.has(value)) return;
    bound.set(value, name);
    boundList.push({ value, name });
  };
  const stacked = stackBinding(graph, anchor, plan, stacks);
  const STACK = "sources";
  if (stacked) {
    // the stacked sources are reached through one range; the rest are bound as usual
    stacked.members.forEach((_, i) => bound.set(anchor.inputs[i], STACK));
    if (stacked.extra !== undefined) bind(stacked.extra, "stack_extra");
  }
  anchor.inputs.forEach((value, i) => bind(value, operandNames[i] ?? `operand${i}`));
  groupReads(graph, group).forEach((value, i) => bind(value, `epilogue_operand${i}`));
  const output = "out";
  // too many values for one binding each: pool ranges are bound instead (bindPools, below)
  const poolRanges = !stacked && plan !== undefined && boundList.length + 1 > MAX_VALUE_BINDINGS;
  const ownBinding = (i: number) => {
    const value = anchor.inputs[i];
    return (
      !poolRanges &&
      bound.get(value) !== STACK &&
      anchor.inputs.indexOf(value) === anchor.inputs.lastIndexOf(value) &&
      !group.epilogue.some((id) => graph.nodes[id].inputs.includes(value))
    );
  };
  const variant = chooseVariant(template, anchor, graph, tuning);

  const ctx: TemplateContext = {
    graph,
    node: anchor,
    operand: (i) => bound.get(anchor.inputs[i])!,
    output,
    finish: (index, value) => (group.epilogue.length === 0 ? value : `finish(${index}, ${value})`),
    ownBinding,
    ...(variant !== undefined ? { variant } : {}),
    ...(stacked
      ? {
          stackedSources: {
            stack: STACK,
            stride: stacked.stride,
            capacity: stacked.capacity,
            ...(stacked.extra !== undefined ? { extra: "stack_extra" } : {}),
          },
        }
      : {}),
  };
  const body = template.render(ctx);
  const vec4Values = new Set(
    (body.vec4Operands ?? []).map((i) => {
      if (!ownBinding(i))
        throw new CodegenError(
          `internal: ${anchor.op} reads operand ${i} as vec4 without a binding of its own`,
        );
      return anchor.inputs[i];
    }),
  );

  const nodes = groupNodes(group).map((id) => graph.nodes[id]);
  const values = [...boundList, { value: group.output, name: output }];
  const header = [
    `// ${anchor.scope || graph.name}: ${nodes.map((n) => n.op).join(" + ")}`,
    `// computes ${nodes.map((n) => `%${n.id}`).join(", ")}; writes %${group.output}`,
    ...(variant !== undefined && variant !== template.variants?.defaultVariant(anchor, graph)
      ? [
          `// variant ${variant}, named by the tuning table for ${anchor.op} ${template.variants!.shapeClass(anchor, graph)}`,
        ]
      : []),
    "// Every binding is read_write: values share pooled buffers, and WebGPU rejects a dispatch that",
    "// uses one buffer both read-only and writable, even on disjoint ranges.",
  ].join("\n");
  const code = [
    ...helpersFor(nodes, body.code),
    ...(group.epilogue.length > 0 ? [epilogueFunction(graph, group, bound)] : []),
    body.code,
  ].join("\n\n");

  let bindings: KernelBinding[];
  let declarations: string[];
  let finalCode = code;
  const declare = (values: BoundValue[], first: number) =>
    values.map(({ value, name }, i) => {
      const node = graph.nodes[value];
      const role =
        node.op === "param" || node.op === "input"
          ? `${node.op} ${String(node.attrs.name)}`
          : `%${value} ${node.op}`;
      const element = vec4Values.has(value) ? "vec4<f32>" : node.type.dtype;
      return `@group(0) @binding(${first + i}) var<storage, read_write> ${name}: array<${element}>; // ${role}`;
    });
  if (stacked) {
    if (values.length + 1 > MAX_VALUE_BINDINGS)
      throw new CodegenError(`internal: a stacked kernel binds ${values.length + 1} buffers`);
    bindings = [
      stacked.binding,
      ...boundList.map(({ value }) => ({ value, access: "read" as const })),
      { value: group.output, access: "read_write" },
    ];
    const listed = stacked.members.map((m, i) => `%${m} at ${i * stacked.stride}`).join(", ");
    declarations = [
      `@group(0) @binding(0) var<storage, read_write> ${STACK}: array<f32>; // stacked sources, ${stacked.stride} elements apart: ${listed}`,
      ...declare(values, 1),
    ];
  } else if (poolRanges) {
    const pooled = bindPools(graph, plan, values, code);
    bindings = pooled.bindings;
    declarations = pooled.declarations;
    finalCode = pooled.code;
  } else {
    bindings = [
      ...boundList.map(({ value }) => ({ value, access: "read" as const })),
      { value: group.output, access: "read_write" },
    ];
    declarations = declare(values, 0);
  }
  const sections = [header, declarations.join("\n"), finalCode];
  return {
    name,
    wgsl: sections.join("\n\n").replace(/\n\n\n+/g, "\n\n") + "\n",
    entryPoint: "main",
    bindings,
    workgroups: body.workgroups,
    nodes: nodes.map((n) => n.id),
    ops: nodes.map((n) => n.op),
    ...(variant !== undefined ? { variant } : {}),
  };
}

/** kernels for all groups, names made unique by a numeric suffix where scopes repeat */
export function renderKernels(
  graph: Graph,
  groups: FusedGroup[],
  plan?: BufferPlan,
  stacks?: SourceStacks,
  tuning?: TuningTable,
): Kernel[] {
  const seen = new Map<string, number>();
  return groups.map((group) => {
    const base = kernelBaseName(graph, group);
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    return renderKernel(graph, group, n === 1 ? base : `${base}.${n}`, plan, stacks, tuning);
  });
}
