import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseSafetensors, readSafetensors, writeSafetensors, type Tensor } from "../runtime/safetensors.js";

function sampleTensors(): Map<string, Tensor> {
  const weights = Float32Array.from({ length: 3 * 5 }, (_, i) => Math.sin(i) * 0.1);
  return new Map<string, Tensor>([
    ["layers.0.attn.wq", { dtype: "F32", shape: [3, 5], data: weights }],
    ["odd.bytes", { dtype: "U8", shape: [3], data: Uint8Array.from([1, 2, 255]) }], // misaligns what follows
    ["step", { dtype: "I32", shape: [], data: Int32Array.from([-7]) }],
    ["norm.g", { dtype: "F64", shape: [2], data: Float64Array.from([1.5, -2.25]) }],
  ]);
}

describe("safetensors", () => {
  it("round-trips names, dtypes, shapes, values and metadata", () => {
    const path = join(mkdtempSync(join(tmpdir(), "archc-st-")), "t.safetensors");
    const tensors = sampleTensors();
    writeSafetensors(path, tensors, { format: "archc", note: "ünïcode" });
    const back = readSafetensors(path);
    expect(back.metadata).toEqual({ format: "archc", note: "ünïcode" });
    expect([...back.tensors.keys()]).toEqual([...tensors.keys()]);
    for (const [name, t] of tensors) {
      const r = back.tensors.get(name)!;
      expect(r.dtype).toBe(t.dtype);
      expect(r.shape).toEqual(t.shape);
      expect(Array.from(r.data as Float32Array)).toEqual(Array.from(t.data as Float32Array));
    }
  });

  it("writes the layout the format specifies: u64 length, padded JSON, data at 8-byte alignment", () => {
    const path = join(mkdtempSync(join(tmpdir(), "archc-st-")), "t.safetensors");
    writeSafetensors(
      path,
      new Map([["x", { dtype: "F32", shape: [2], data: Float32Array.from([1, 2]) } as Tensor]]),
    );
    const bytes = readFileSync(path);
    const n = Number(bytes.readBigUInt64LE(0));
    expect((8 + n) % 8).toBe(0);
    const header = JSON.parse(bytes.subarray(8, 8 + n).toString("utf8"));
    expect(header).toEqual({ x: { dtype: "F32", shape: [2], data_offsets: [0, 8] } });
    expect(bytes.readFloatLE(8 + n + 4)).toBe(2);
    expect(bytes.length).toBe(8 + n + 8);
  });

  it("refuses data that does not match the shape before creating the file", () => {
    const path = join(mkdtempSync(join(tmpdir(), "archc-st-")), "bad.safetensors");
    const bad = new Map<string, Tensor>([["x", { dtype: "F32", shape: [3], data: new Float32Array(2) }]]);
    expect(() => writeSafetensors(path, bad)).toThrow(/needs 12/);
    expect(() => readFileSync(path)).toThrow();
  });

  it("rejects offsets outside the data section", () => {
    const header = Buffer.from(JSON.stringify({ x: { dtype: "F32", shape: [4], data_offsets: [0, 16] } }));
    const length = Buffer.alloc(8);
    length.writeBigUInt64LE(BigInt(header.length));
    expect(() => parseSafetensors(Buffer.concat([length, header, Buffer.alloc(8)]))).toThrow(/outside/);
  });

  it("is read identically by an independent python reader", () => {
    const dir = mkdtempSync(join(tmpdir(), "archc-st-"));
    const path = join(dir, "t.safetensors");
    const tensors = sampleTensors();
    writeSafetensors(path, tensors, { model: "tiny" });
    const printed = execFileSync("python3", [join(__dirname, "tools", "read_safetensors.py"), path], {
      encoding: "utf8",
    });
    const seen = JSON.parse(printed)[path];
    expect(seen.metadata).toEqual({ model: "tiny" });
    expect(Object.keys(seen.tensors)).toEqual([...tensors.keys()]);
    for (const [name, t] of tensors) {
      const values = Array.from(t.data as Float32Array, Number);
      const py = seen.tensors[name];
      expect(py.shape).toEqual(t.shape);
      expect(py.dtype).toBe(t.dtype);
      expect(py.count).toBe(values.length);
      expect(py.sum).toBeCloseTo(
        values.reduce((s, v) => s + v, 0),
        12,
      );
      expect(py.first).toEqual(values.slice(0, 4));
    }
    // and a file that is not what it claims is caught by the reader, not waved through
    writeFileSync(
      join(dir, "short.safetensors"),
      readFileSync(path).subarray(0, readFileSync(path).length - 4),
    );
    expect(() =>
      execFileSync(
        "python3",
        [join(__dirname, "tools", "read_safetensors.py"), join(dir, "short.safetensors")],
        { stdio: "pipe" },
      ),
    ).toThrow();
  });
});
