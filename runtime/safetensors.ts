// The safetensors file format: an 8-byte little-endian header length N, N bytes of JSON
// ({name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {string: string}}), then
// the raw little-endian tensor bytes; offsets count from the start of that data section.

import { closeSync, fsyncSync, openSync, readFileSync, writeSync } from "node:fs";

export type SafetensorsDType =
  "F64" | "F32" | "I32" | "U8" | "I64" | "F16" | "BF16" | "U16" | "I16" | "I8" | "BOOL";

export type TensorData =
  | Float64Array
  | Float32Array
  | Int32Array
  | Uint8Array
  | Uint16Array
  | Int16Array
  | Int8Array
  | BigInt64Array;

export interface Tensor {
  dtype: SafetensorsDType;
  shape: number[];
  data: TensorData;
}

export interface SafetensorsFile {
  tensors: Map<string, Tensor>;
  metadata: Record<string, string>;
}

const BYTES_PER_ELEMENT: Record<SafetensorsDType, number> = {
  F64: 8,
  F32: 4,
  I32: 4,
  U8: 1,
  I64: 8,
  F16: 2,
  BF16: 2,
  U16: 2,
  I16: 2,
  I8: 1,
  BOOL: 1,
};

/** Typed arrays for dtypes JS has; half floats are carried as their raw 16-bit patterns. */
function viewAs(dtype: SafetensorsDType, bytes: Uint8Array): TensorData {
  const { buffer, byteOffset, byteLength } = bytes;
  const n = byteLength / BYTES_PER_ELEMENT[dtype];
  switch (dtype) {
    case "F64":
      return new Float64Array(buffer, byteOffset, n);
    case "F32":
      return new Float32Array(buffer, byteOffset, n);
    case "I32":
      return new Int32Array(buffer, byteOffset, n);
    case "I64":
      return new BigInt64Array(buffer, byteOffset, n);
    case "F16":
    case "BF16":
    case "U16":
      return new Uint16Array(buffer, byteOffset, n);
    case "I16":
      return new Int16Array(buffer, byteOffset, n);
    case "I8":
      return new Int8Array(buffer, byteOffset, n);
    case "U8":
    case "BOOL":
      return new Uint8Array(buffer, byteOffset, n);
  }
}

function elementCount(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

function assertLittleEndianHost(): void {
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1)
    throw new Error("safetensors I/O assumes a little-endian host");
}

/** The header bytes, space-padded so the data section starts 8-byte aligned. */
function encodeHeader(
  tensors: ReadonlyMap<string, Tensor>,
  metadata: Record<string, string>,
): { header: Uint8Array; dataBytes: number } {
  const json: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) json.__metadata__ = metadata;
  let offset = 0;
  for (const [name, tensor] of tensors) {
    if (name === "__metadata__") throw new Error(`"__metadata__" cannot name a tensor`);
    const expected = elementCount(tensor.shape) * BYTES_PER_ELEMENT[tensor.dtype];
    if (tensor.data.byteLength !== expected) {
      throw new Error(
        `tensor "${name}": ${tensor.data.byteLength} bytes of data for ${tensor.dtype}[${tensor.shape.join(",")}] (needs ${expected})`,
      );
    }
    json[name] = { dtype: tensor.dtype, shape: tensor.shape, data_offsets: [offset, offset + expected] };
    offset += expected;
  }
  const text = JSON.stringify(json);
  const padded = text + " ".repeat((8 - (Buffer.byteLength(text) % 8)) % 8);
  return { header: new TextEncoder().encode(padded), dataBytes: offset };
}

/**
 * Writes straight from the tensors' memory to the file descriptor, without first assembling the
 * whole file in one buffer (a model's parameters can be most of the machine's memory).
 * Throws before writing anything if any tensor's data does not match its shape.
 */
export function writeSafetensors(
  path: string,
  tensors: ReadonlyMap<string, Tensor>,
  metadata: Record<string, string> = {},
  options: { fsync?: boolean } = {},
): void {
  assertLittleEndianHost();
  const { header } = encodeHeader(tensors, metadata);
  const length = new Uint8Array(8);
  new DataView(length.buffer).setBigUint64(0, BigInt(header.byteLength), true);
  const fd = openSync(path, "w");
  try {
    writeAll(fd, length);
    writeAll(fd, header);
    for (const tensor of tensors.values())
      writeAll(fd, new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength));
    if (options.fsync) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.byteLength) done += writeSync(fd, bytes, done, bytes.byteLength - done);
}

export function parseSafetensors(bytes: Uint8Array): SafetensorsFile {
  assertLittleEndianHost();
  if (bytes.byteLength < 8) throw new Error("not a safetensors file: shorter than its 8-byte header length");
  const headerLength = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  if (8 + headerLength > bytes.byteLength)
    throw new Error(`not a safetensors file: header length ${headerLength} exceeds the file`);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength))) as Record<
    string,
    unknown
  >;
  const dataStart = 8 + headerLength;
  const dataLength = bytes.byteLength - dataStart;
  const tensors = new Map<string, Tensor>();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === "__metadata__") {
      metadata = entry as Record<string, string>;
      continue;
    }
    const { dtype, shape, data_offsets } = entry as {
      dtype: SafetensorsDType;
      shape: number[];
      data_offsets: [number, number];
    };
    if (!(dtype in BYTES_PER_ELEMENT)) throw new Error(`tensor "${name}": unknown dtype ${dtype}`);
    const [begin, end] = data_offsets;
    if (!(begin >= 0 && end >= begin && end <= dataLength))
      throw new Error(
        `tensor "${name}": data_offsets [${begin}, ${end}] outside the ${dataLength}-byte data section`,
      );
    if (end - begin !== elementCount(shape) * BYTES_PER_ELEMENT[dtype])
      throw new Error(`tensor "${name}": ${end - begin} bytes for ${dtype}[${shape.join(",")}]`);
    // a copy (Buffer#slice would share): aligned for the typed array, independent of the file
    const own = new Uint8Array(end - begin);
    own.set(bytes.subarray(dataStart + begin, dataStart + end));
    tensors.set(name, { dtype, shape, data: viewAs(dtype, own) });
  }
  return { tensors, metadata };
}

export function readSafetensors(path: string): SafetensorsFile {
  return parseSafetensors(readFileSync(path));
}

/** Float32 tensors as plain arrays by name: how parameters and optimizer moments travel. */
export function float32Tensors(
  arrays: ReadonlyMap<string, Float32Array>,
  shapes: ReadonlyMap<string, readonly number[]>,
  prefix = "",
): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const [name, data] of arrays) {
    const shape = shapes.get(name) ?? [data.length];
    out.set(prefix + name, { dtype: "F32", shape: [...shape], data });
  }
  return out;
}
