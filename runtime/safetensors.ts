// The safetensors file format: an 8-byte little-endian header length N, N bytes of JSON
// ({name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {string: string}}), then
// the raw little-endian tensor bytes; offsets count from the start of that data section.

import { closeSync, fsyncSync, openSync, writeSync } from "node:fs";
import {
  DamagedFileError,
  decodeUtf8,
  isObject,
  isWholeNumber,
  parseJsonStrict,
  readUserFile,
  show,
} from "../format/damaged-file.js";

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

/** The largest header this reader accepts (the format's own readers cap it near this too). */
export const MAX_HEADER_BYTES = 100 * 1024 * 1024;

const HINT = "the file is damaged or not a safetensors file: write it again (or restore a copy)";

/**
 * Parses a whole safetensors file. Every problem is a DamagedFileError naming `source`: the header
 * length, the header JSON (including a key given twice), each entry's dtype, shape and
 * data_offsets, and the byte ranges, which must tile the data section exactly (in bounds, no
 * overlap, no gap, nothing after the last tensor).
 */
export function parseSafetensors(bytes: Uint8Array, source = "safetensors data"): SafetensorsFile {
  assertLittleEndianHost();
  const fail = (what: string): never => {
    throw new DamagedFileError(source, what, HINT);
  };
  if (bytes.byteLength < 8)
    fail(`${bytes.byteLength} bytes: shorter than the 8-byte header length of a safetensors file`);
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (headerLength > BigInt(bytes.byteLength - 8))
    fail(`its header length ${headerLength} exceeds the ${bytes.byteLength - 8} bytes that follow it`);
  if (headerLength > BigInt(MAX_HEADER_BYTES))
    fail(`its header length ${headerLength} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  if (headerLength < 2n) fail(`its header length ${headerLength} cannot hold a JSON object`);
  const dataStart = 8 + Number(headerLength);
  const text = decodeUtf8(source, bytes.subarray(8, dataStart), "header");
  const header = parseJsonStrict(source, text, "header", HINT);
  if (!isObject(header)) fail(`the header is ${show(header)}, not a JSON object`);
  const dataLength = bytes.byteLength - dataStart;
  const tensors = new Map<string, Tensor>();
  let metadata: Record<string, string> = {};
  const ranges: { name: string; begin: number; end: number }[] = [];
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === "__metadata__") {
      if (!isObject(entry)) fail(`"__metadata__" is ${show(entry)}, not an object of strings`);
      for (const [key, value] of Object.entries(entry as Record<string, unknown>))
        if (typeof value !== "string") fail(`"__metadata__.${key}" is ${show(value)}, not a string`);
      metadata = entry as Record<string, string>;
      continue;
    }
    const where = `tensor ${JSON.stringify(name)}`;
    if (!isObject(entry)) fail(`${where} is ${show(entry)}, not {dtype, shape, data_offsets}`);
    const { dtype, shape, data_offsets } = entry as Record<string, unknown>;
    for (const key of Object.keys(entry as object))
      if (key !== "dtype" && key !== "shape" && key !== "data_offsets")
        fail(`${where} has an unknown field "${key}"`);
    if (typeof dtype !== "string" || !Object.hasOwn(BYTES_PER_ELEMENT, dtype))
      fail(`${where} has dtype ${show(dtype)}; known: ${Object.keys(BYTES_PER_ELEMENT).join(", ")}`);
    if (!Array.isArray(shape) || !shape.every((d) => isWholeNumber(d)))
      fail(`${where} has shape ${show(shape)}, not a list of whole numbers >= 0`);
    if (
      !Array.isArray(data_offsets) ||
      data_offsets.length !== 2 ||
      !data_offsets.every((d) => isWholeNumber(d))
    )
      fail(`${where} has data_offsets ${show(data_offsets)}, not two whole numbers [begin, end]`);
    const [begin, end] = data_offsets as [number, number];
    if (!(begin <= end && end <= dataLength))
      fail(`${where} has data_offsets [${begin}, ${end}] outside the ${dataLength}-byte data section`);
    const type = dtype as SafetensorsDType;
    const dims = shape as number[];
    const count = elementCount(dims);
    const needed = count * BYTES_PER_ELEMENT[type];
    if (!Number.isSafeInteger(needed) || end - begin !== needed)
      fail(`${where} has ${end - begin} bytes of data, but ${type}[${dims.join(",")}] needs ${needed}`);
    ranges.push({ name, begin, end });
    // a copy (Buffer#slice would share): aligned for the typed array, independent of the file
    const own = new Uint8Array(end - begin);
    own.set(bytes.subarray(dataStart + begin, dataStart + end));
    tensors.set(name, { dtype: type, shape: [...dims], data: viewAs(type, own) });
  }
  ranges.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  for (const { name, begin, end } of ranges) {
    if (begin < covered)
      fail(
        `tensor ${JSON.stringify(name)} at bytes [${begin}, ${end}) overlaps the tensor before it (which ends at ${covered})`,
      );
    if (begin > covered) fail(`bytes [${covered}, ${begin}) of the data section belong to no tensor`);
    covered = end;
  }
  if (covered !== dataLength)
    fail(`the data section has ${dataLength} bytes but its tensors end at byte ${covered}`);
  return { tensors, metadata };
}

export function readSafetensors(path: string): SafetensorsFile {
  return parseSafetensors(readUserFile(path), path);
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
