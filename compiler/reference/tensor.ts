// The value the CPU reference computes with: a typed array in row-major order plus its IR type.
// f32 values are held in float64 so the reference is an oracle for the float32 GPU kernels.

import type { TensorType } from "../ir/ir.js";
import { numel, sameShape, typeToString } from "../ir/ir.js";

export interface Tensor {
  type: TensorType;
  data: Float64Array | Int32Array;
}

export function zerosF(shape: number[]): Tensor {
  return { type: { dtype: "f32", shape: [...shape] }, data: new Float64Array(numel(shape)) };
}

export function fromValues(shape: number[], values: ArrayLike<number>): Tensor {
  if (values.length !== numel(shape))
    throw new Error(`fromValues: ${values.length} values for shape [${shape}]`);
  return { type: { dtype: "f32", shape: [...shape] }, data: Float64Array.from(values) };
}

export function fromInts(shape: number[], values: ArrayLike<number>): Tensor {
  if (values.length !== numel(shape))
    throw new Error(`fromInts: ${values.length} values for shape [${shape}]`);
  return { type: { dtype: "i32", shape: [...shape] }, data: Int32Array.from(values) };
}

/** throws unless the tensor holds exactly `type` (catches feeds of the wrong shape early) */
export function expectType(t: Tensor, type: { dtype: string; shape: number[] }, what: string): void {
  if (t.type.dtype !== type.dtype || !sameShape(t.type.shape, type.shape))
    throw new Error(`${what}: expected ${typeToString(type as Tensor["type"])}, got ${typeToString(t.type)}`);
  if (t.data.length !== numel(type.shape))
    throw new Error(`${what}: data length ${t.data.length} does not match its shape`);
}
