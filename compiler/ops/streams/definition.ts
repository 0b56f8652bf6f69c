// The residual-stream ops of hyper-connections and mHC: the residual state of one token is n
// streams, held token-major as X[..., n, D] so that one token's streams are contiguous (mHC
// normalises them as one vector). Reading mixes the streams into a sublayer's input; writing mixes
// them into new streams and adds the sublayer's output with a weight per stream. Weights are
// static ([n], [n, n]) or per token ([..., n], [..., n, n]). stream_mix and stream_gram are what
// their gradients emit.

import { sameShape, typeToString, type TensorType } from "../../ir/ir.js";
import { f32, fail, num, type OpDef } from "../../ir/ops.js";

/** the state's leading (token) dims, stream count and width; fails unless rank >= 2 */
function stateShape(x: TensorType, what: string): { rows: number[]; n: number; d: number } {
  if (x.dtype !== "f32" || x.shape.length < 2)
    fail(`${what} must be an f32 state [..., n, D], got ${typeToString(x)}`);
  const s = x.shape;
  return { rows: s.slice(0, -2), n: s[s.length - 2], d: s[s.length - 1] };
}

/** a weight operand is static (`tail`) or per token (`rows` then `tail`) */
function expectWeights(w: TensorType, rows: number[], tail: number[], what: string): void {
  if (!sameShape(w.shape, tail) && !sameShape(w.shape, [...rows, ...tail]))
    fail(`${what} must be [${tail.join(",")}] or [${[...rows, ...tail].join(",")}], got ${typeToString(w)}`);
}

export const STREAMS_FORWARD_OPS = {
  stream_expand: {
    doc: "X[..., k, :] = x[..., :] for k < streams: n copies of x [..., D] as the initial state [..., n, D]",
    arity: 1,
    attrs: ["streams"],
    infer: ([x], a) => {
      const n = num(a, "streams");
      if (!Number.isInteger(n) || n < 1) fail(`stream_expand: streams must be a positive integer, got ${n}`);
      return f32([...x.shape.slice(0, -1), n, x.shape[x.shape.length - 1]]);
    },
  },
  stream_read: {
    doc: "out[..., :] = sum_k w_k X[..., k, :]; operands X [..., n, D] and, optionally, w [n] or [..., n] (without w, every w_k = 1)",
    arity: "variadic",
    attrs: [],
    infer: (inputs) => {
      if (inputs.length < 1 || inputs.length > 2) fail("stream_read takes the state and optional weights");
      const { rows, n, d } = stateShape(inputs[0], "stream_read state");
      if (inputs.length === 2) expectWeights(inputs[1], rows, [n], "stream_read weights");
      return f32([...rows, d]);
    },
  },
  stream_write: {
    doc:
      "X'[..., j, :] = sum_k R[..., k, j] X[..., k, :] + b[..., j] y[..., :]; operands X [..., n, D], " +
      "R [n, n] or [..., n, n], b [n] or [..., n], y [..., D]",
    arity: 4,
    attrs: [],
    infer: ([x, r, b, y]) => {
      const { rows, n, d } = stateShape(x, "stream_write state");
      expectWeights(r, rows, [n, n], "stream_write mixing matrix");
      expectWeights(b, rows, [n], "stream_write output weights");
      if (!sameShape(y.shape, [...rows, d])) fail(`stream_write output must be [${[...rows, d].join(",")}]`);
      return f32([...x.shape]);
    },
  },
} satisfies Record<string, OpDef>;

export const STREAMS_BACKWARD_OPS = {
  stream_mix: {
    doc:
      "out[..., j, :] = sum_k R[..., k, j] X[..., k, :] over X [..., n, D] with R [n, m] or [..., n, m] " +
      "(transpose: R is [m, n] and read as R[..., j, k]); result [..., m, D]",
    arity: 2,
    attrs: ["transpose"],
    infer: ([x, r], a) => {
      const { rows, n, d } = stateShape(x, "stream_mix state");
      if (r.shape.length < 2) fail("stream_mix weights must be a matrix");
      const [r0, r1] = r.shape.slice(-2);
      const [inner, m] = a.transpose === true ? [r1, r0] : [r0, r1];
      if (inner !== n) fail(`stream_mix: ${typeToString(r)} does not mix ${n} streams`);
      expectWeights(r, rows, r.shape.slice(-2), "stream_mix weights");
      return f32([...rows, m, d]);
    },
  },
  stream_gram: {
    doc: "out[..., k, j] = sum_d A[..., k, d] B[..., j, d] over A [..., n, D], B [..., m, D]; result [..., n, m]",
    arity: 2,
    attrs: [],
    infer: ([x, y]) => {
      const a = stateShape(x, "stream_gram lhs");
      const b = stateShape(y, "stream_gram rhs");
      if (!sameShape(a.rows, b.rows) || a.d !== b.d)
        fail(`stream_gram: ${typeToString(x)} and ${typeToString(y)} differ outside the stream dim`);
      return f32([...a.rows, a.n, b.n]);
    },
  },
} satisfies Record<string, OpDef>;
