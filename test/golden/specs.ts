// Hand-built ModelSpecs for lowering, interpreter, inspect and golden tests (they do not depend on
// the front end, so these tests run whatever state the parser is in).

import type { LayerSpec, ModelSpec, ResidualSpec, SublayerSpec } from "../../format/spec.js";

export interface TinyOptions {
  name?: string;
  /** every layer's block name; default "decoder" */
  block?: string;
  layers?: number;
  dim?: number;
  vocab?: number;
  context?: number;
  heads?: number;
  kvHeads?: number;
  headDim?: number;
  hidden?: number;
  mlp?: "gelu" | "swiglu";
  norm?: ModelSpec["norm"];
  position?: ModelSpec["position"];
  tied?: boolean;
  residual?: ResidualSpec;
  /** sublayers of each layer; default attention then MLP */
  layerShape?: ("attention" | "mlp")[];
}

export type AttnResidualSpec = Extract<ResidualSpec, { kind: "attn" }>;

/** AttnRes with the paper's defaults (Full, key norm, softmax, query weights, vector query), then `overrides`. */
export function attnResidual(overrides: Partial<AttnResidualSpec> = {}): AttnResidualSpec {
  return { kind: "attn", blocks: null, keyNorm: true, score: "softmax", weights: "query", query: "vector", ...overrides };
}

export const FULL: ResidualSpec = attnResidual();

export function blockRes(blocks: number, overrides: Partial<AttnResidualSpec> = {}): ResidualSpec {
  return attnResidual({ blocks, ...overrides });
}

export function tinySpec(o: TinyOptions = {}): ModelSpec {
  const dim = o.dim ?? 16;
  const heads = o.heads ?? 2;
  const attention: SublayerSpec = { kind: "attention", heads, kvHeads: o.kvHeads ?? heads, headDim: o.headDim ?? dim / heads };
  const mlp: SublayerSpec = { kind: "mlp", mlp: o.mlp ?? "swiglu", hidden: o.hidden ?? 2 * dim };
  const shape = o.layerShape ?? ["attention", "mlp"];
  const layers: LayerSpec[] = Array.from({ length: o.layers ?? 2 }, () => ({
    block: o.block ?? "decoder",
    sublayers: shape.map((k) => (k === "attention" ? { ...attention } : { ...mlp })),
  }));
  return {
    name: o.name ?? "tiny",
    vocab: o.vocab ?? 32,
    context: o.context ?? 16,
    dim,
    norm: o.norm ?? { kind: "rmsnorm", eps: 1e-5 },
    position: o.position ?? { kind: "rope", theta: 10000 },
    tied: o.tied ?? false,
    residual: o.residual ?? { kind: "add" },
    layers,
    fields: {},
  };
}
