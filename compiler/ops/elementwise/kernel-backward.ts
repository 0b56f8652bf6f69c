// dy times the derivative of gelu (tanh form), silu, tanh or sigmoid.

import { numel } from "../../ir/ir.js";
import type { KernelTemplate } from "../../codegen/template.js";
import { perItem } from "../../codegen/kernels/backward/common.js";

const DERIVATIVES: Record<string, string> = {
  gelu_grad: `fn derivative(x: f32) -> f32 {
  // clamped like the forward gelu so tanh never sees inf/inf
  let k = 0.7978845608028654;
  let t = tanh(clamp(k * (x + 0.044715 * x * x * x), -15.0, 15.0));
  return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * k * (1.0 + 0.134145 * x * x);
}`,
  silu_grad: `fn derivative(x: f32) -> f32 {
  // sigmoid split on the sign so exp never overflows
  var s: f32;
  if (x >= 0.0) { s = 1.0 / (1.0 + exp(-x)); } else { let e = exp(x); s = e / (1.0 + e); }
  return s * (1.0 + x * (1.0 - s));
}`,
  tanh_grad: `fn derivative(x: f32) -> f32 {
  let t = tanh(clamp(x, -15.0, 15.0));
  return 1.0 - t * t;
}`,
  sigmoid_grad: `fn derivative(x: f32) -> f32 {
  var s: f32;
  if (x >= 0.0) { s = 1.0 / (1.0 + exp(-x)); } else { let e = exp(x); s = e / (1.0 + e); }
  return s * (1.0 - s);
}`,
};

function pointwiseTemplate(op: string): KernelTemplate {
  return {
    operandNames: () => ["x", "dy"],
    render(ctx) {
      const value = `${ctx.operand(1)}[item] * derivative(${ctx.operand(0)}[item])`;
      return perItem(
        numel(ctx.node.type.shape),
        {},
        DERIVATIVES[op],
        `  ${ctx.output}[item] = ${ctx.finish("item", value)};`,
      );
    },
  };
}

export const geluGradTemplate = pointwiseTemplate("gelu_grad");
export const siluGradTemplate = pointwiseTemplate("silu_grad");
export const tanhGradTemplate = pointwiseTemplate("tanh_grad");
export const sigmoidGradTemplate = pointwiseTemplate("sigmoid_grad");
