#!/usr/bin/env python3
"""An independent safetensors reader (standard library only), used to check archc's writer.

Prints JSON: {"metadata": {...}, "tensors": {name: {"dtype", "shape", "count", "sum", "sum_abs",
"first"}}} for each file given. Sums are accumulated in float64 in file order.
"""
import json
import struct
import sys

FORMATS = {"F64": "d", "F32": "f", "I32": "i", "I64": "q", "U8": "B", "I8": "b", "U16": "H", "I16": "h"}


def describe(path):
    with open(path, "rb") as f:
        blob = f.read()
    (header_len,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8 : 8 + header_len].decode("utf-8"))
    data = blob[8 + header_len :]
    if (8 + header_len) % 8 != 0:
        raise SystemExit(f"{path}: data section not 8-byte aligned")
    out = {"metadata": header.pop("__metadata__", {}), "tensors": {}}
    covered = 0
    for name, entry in header.items():
        begin, end = entry["data_offsets"]
        code = FORMATS[entry["dtype"]]
        count = (end - begin) // struct.calcsize(code)
        expected = 1
        for d in entry["shape"]:
            expected *= d
        if count != expected:
            raise SystemExit(f"{path}: {name} has {count} values for shape {entry['shape']}")
        values = struct.unpack(f"<{count}{code}", data[begin:end])
        covered += end - begin
        out["tensors"][name] = {
            "dtype": entry["dtype"],
            "shape": entry["shape"],
            "count": count,
            "sum": float(sum(values)),
            "sum_abs": float(sum(abs(v) for v in values)),
            "first": [float(v) for v in values[:4]],
        }
    if covered != len(data):
        raise SystemExit(f"{path}: tensors cover {covered} of {len(data)} data bytes")
    return out


if __name__ == "__main__":
    print(json.dumps({path: describe(path) for path in sys.argv[1:]}))
