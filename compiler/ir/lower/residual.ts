// How sublayer outputs are combined along depth, one lowering per residual kind: the standard
// residual sum, Full and Block AttnRes (here), DenseFormer (dense.ts), hyper-connections and mHC
// (streams.ts). Each returns the value the final norm reads.

import { blockPartition, type ResidualSpec, type SublayerSpec } from "../../../format/spec.js";
import { AttnResLowering, type AttnResSpec } from "./aggregate.js";
import { lowerDenseFormer } from "./dense.js";
import { lowerHyperConnections, lowerManifoldHyperConnections } from "./streams.js";
import type { LowerContext } from "./sublayers.js";
import { lowerSublayerBranch } from "./sublayers.js";

export interface NamedSublayer {
  layer: number;
  /** "layers.<i>.<attn|mlp>[k]": the sublayer's scope and parameter prefix */
  scope: string;
  spec: SublayerSpec;
}

/** names sublayers "attn"/"mlp", suffixing repeats of a kind within one layer: "mlp1", "mlp2" */
export function nameSublayers(ctx: LowerContext): NamedSublayer[] {
  const named: NamedSublayer[] = [];
  ctx.model.layers.forEach((layer, li) => {
    const seen = new Map<string, number>();
    for (const spec of layer.sublayers) {
      const kind = spec.kind === "attention" ? "attn" : "mlp";
      const repeat = seen.get(kind) ?? 0;
      seen.set(kind, repeat + 1);
      named.push({ layer: li, scope: `layers.${li}.${kind}${repeat === 0 ? "" : repeat}`, spec });
    }
  });
  return named;
}

type ResidualLowering<K extends ResidualSpec["kind"]> = (
  ctx: LowerContext,
  residual: Extract<ResidualSpec, { kind: K }>,
  x0: number,
  sublayers: NamedSublayer[],
) => number;

const RESIDUAL_LOWERINGS: { [K in ResidualSpec["kind"]]: ResidualLowering<K> } = {
  add: (ctx, _res, x0, sublayers) => lowerAddResidual(ctx, x0, sublayers),
  attn: (ctx, res, x0, sublayers) => {
    const partition = blockPartition(res, ctx.model.layers.length);
    return partition === null
      ? lowerFullAttnRes(ctx, res, x0, sublayers)
      : lowerBlockAttnRes(ctx, res, partition, x0, sublayers);
  },
  dense: lowerDenseFormer,
  hyper: lowerHyperConnections,
  mhc: lowerManifoldHyperConnections,
};

export function lowerResidual(ctx: LowerContext, x0: number, sublayers: NamedSublayer[]): number {
  const residual = ctx.model.residual;
  const lowering = RESIDUAL_LOWERINGS[residual.kind] as ResidualLowering<typeof residual.kind>;
  return lowering(ctx, residual, x0, sublayers);
}

export function lowerAddResidual(ctx: LowerContext, x0: number, sublayers: NamedSublayer[]): number {
  let h = x0;
  for (const s of sublayers)
    h = ctx.b.scoped(s.scope, () => ctx.b.op("add", [h, lowerSublayerBranch(ctx, h, s.spec)]));
  return h;
}

export function lowerFullAttnRes(
  ctx: LowerContext,
  res: AttnResSpec,
  x0: number,
  sublayers: NamedSublayer[],
): number {
  const attn = new AttnResLowering(ctx, res);
  const sources = [x0];
  let plain = attn.gated ? x0 : undefined;
  for (const s of sublayers)
    ctx.b.scoped(s.scope, () => {
      const h = attn.aggregate({ sources, plain });
      const out = lowerSublayerBranch(ctx, h, s.spec);
      sources.push(out);
      plain = attn.addToPlain(plain, out);
    });
  return ctx.b.scoped("final", () => attn.aggregate({ sources, plain }));
}

/** `partition`: the layers of each block, in order */
export function lowerBlockAttnRes(
  ctx: LowerContext,
  res: AttnResSpec,
  partition: number[],
  x0: number,
  sublayers: NamedSublayer[],
): number {
  const attn = new AttnResLowering(ctx, res);
  // the layer index at which each block ends (exclusive)
  const blockEnds = partition.map((_, n) => partition.slice(0, n + 1).reduce((a, b) => a + b, 0));
  const completed = [x0];
  let partial: number | undefined;
  let plain = attn.gated ? x0 : undefined;
  let block = 0;
  const closeBlocksBefore = (layer: number) => {
    while (block < blockEnds.length && layer >= blockEnds[block]) {
      // a block with no sublayers contributes nothing rather than a zero source
      if (partial !== undefined) completed.push(partial);
      partial = undefined;
      block++;
    }
  };
  for (const s of sublayers) {
    closeBlocksBefore(s.layer);
    ctx.b.scoped(s.scope, () => {
      const sources = partial === undefined ? [...completed] : [...completed, partial];
      const out = lowerSublayerBranch(ctx, attn.aggregate({ sources, plain }), s.spec);
      partial = partial === undefined ? out : ctx.b.op("add", [partial, out]);
      plain = attn.addToPlain(plain, out);
    });
  }
  closeBlocksBefore(ctx.model.layers.length);
  return ctx.b.scoped("final", () => attn.aggregate({ sources: completed, plain }));
}
