// Hostile .archx files: corruptions generated from valid executables (a forward pass whose AttnRes
// kernels read stacked sources, and a training step whose AttnRes backward binds pool ranges) are refused with a DamagedFileError naming the file before
// any device is touched; the intact files load exactly. CPU only.

import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compileGraph } from "../compiler/compile.js";
import { lowerModel } from "../compiler/ir/lower.js";
import { differentiate } from "../compiler/passes/autodiff.js";
import { ArchxError, loadExecutable, writeExecutable, type Executable } from "../format/archx.js";
import { DamagedFileError } from "../format/damaged-file.js";
import { expectDamaged } from "./damaged-support.js";
import { FULL, tinySpec } from "./golden/specs.js";

const dir = mkdtempSync(join(tmpdir(), "archc-archx-"));
const spec = tinySpec({ vocab: 16, dim: 8, heads: 2, hidden: 16, layers: 4, context: 8, residual: FULL });
const forward = lowerModel(spec, { batch: 1, seq: 4 });
const executables: [string, Executable][] = [
  ["forward", compileGraph(forward, { batch: 1, seq: 4, vocab: 16 })],
  ["training", compileGraph(differentiate(forward), { batch: 1, seq: 4, vocab: 16 })],
];

type Mutable = Record<string, any>;

/** Every corruption a generator can name, as [label, change it makes to a copy]. */
function mutations(exe: Executable): [string, (e: Mutable) => void][] {
  const out: [string, (e: Mutable) => void][] = [];
  const wrong: unknown[] = [null, "x", -1, 1.5, true, [], {}];
  for (const key of Object.keys(exe)) {
    out.push([`${key} removed`, (e) => delete e[key]]);
    for (const v of wrong) {
      if (key === "model" && typeof v === "string") continue;
      if ((key === "batch" || key === "seq" || key === "vocab") && v === null) continue;
      out.push([`${key} = ${JSON.stringify(v)}`, (e) => (e[key] = v)]);
    }
  }
  for (const key of ["batch", "seq", "vocab"])
    out.push([`${key} 0`, (e) => (e[key] = 0)], [`${key} "4"`, (e) => (e[key] = "4")]);
  out.push(["version 1", (e) => (e.version = 1)], ["format other", (e) => (e.format = "onnx")]);
  out.push(
    ["a module not a string", (e) => (e.modules[0] = 3)],
    ["an empty module", (e) => (e.modules[0] = "")],
  );

  const pooled = exe.kernels.findIndex((k) => k.bindings.some((b) => "pool" in b && b.stride === undefined));
  // the stacked kernel with the most sources (the final aggregation's)
  const stackLength = (k: Executable["kernels"][number]) =>
    Math.max(0, ...k.bindings.map((b) => ("stride" in b && b.stride !== undefined ? b.values!.length : 0)));
  const stacked = exe.kernels.reduce(
    (best, k, i) => (stackLength(k) > (best < 0 ? 0 : stackLength(exe.kernels[best])) ? i : best),
    -1,
  );
  const picks = [...new Set([0, 1, Math.max(0, pooled), Math.max(0, stacked), exe.kernels.length - 1])];
  for (const i of picks) {
    const k = (label: string, f: (kernel: Mutable, e: Mutable) => void) =>
      out.push([`kernels[${i}] ${label}`, (e) => f(e.kernels[i], e)]);
    for (const field of ["name", "module", "entryPoint", "bindings", "workgroups", "ops"]) {
      k(`${field} removed`, (kernel) => delete kernel[field]);
      for (const v of wrong) {
        if (field === "name" && typeof v === "string") continue;
        k(`${field} = ${JSON.stringify(v)}`, (kernel) => (kernel[field] = v));
      }
    }
    k("module out of range", (kernel, e) => (kernel.module = e.modules.length));
    k("entryPoint not in its module", (kernel) => (kernel.entryPoint = "nowhere"));
    k("entryPoint with injection", (kernel) => (kernel.entryPoint = "main(){}"));
    for (const wg of [
      [0, 1, 1],
      [1, 0, 1],
      [65536, 1, 1],
      [1.5, 1, 1],
      [-1, 1, 1],
      [1, 1],
      [1, 1, 1, 1],
      ["1", 1, 1],
      [1e10, 1, 1],
    ])
      k(`workgroups ${JSON.stringify(wg)}`, (kernel) => (kernel.workgroups = wg));
    k("no bindings", (kernel) => (kernel.bindings = []));
    k(
      "a binding of a value that does not exist",
      (kernel) => (kernel.bindings[0] = { value: 99999, access: "read" }),
    );
    k("a binding of value -1", (kernel) => (kernel.bindings[0] = { value: -1, access: "read" }));
    k('a binding of value "0"', (kernel) => (kernel.bindings[0] = { value: "0", access: "read" }));
    k("a binding with access write", (kernel) => (kernel.bindings[0].access = "write"));
    k(
      "a binding of a pool that does not exist",
      (kernel, e) => (kernel.bindings[0] = { pool: e.pools.length, access: "read_write" }),
    );
    k("a read-only pool binding", (kernel) => (kernel.bindings[0] = { pool: 0, access: "read" }));
    k(
      "a binding of both a value and a pool",
      (kernel) => (kernel.bindings[0] = { value: 0, pool: 0, access: "read_write" }),
    );
    k("a binding with neither", (kernel) => (kernel.bindings[0] = { access: "read" }));
    k("a binding as a number", (kernel) => (kernel.bindings[0] = 3));
  }
  // a stack of sources: wrong stride, a value too many or too few, values out of order
  const stackAt = (label: string, f: (binding: Mutable, e: Mutable) => void) => {
    if (stacked >= 0)
      out.push([
        `kernels[${stacked}] source stack ${label}`,
        (e) =>
          f(
            e.kernels[stacked].bindings.find((b: Mutable) => b.stride !== undefined),
            e,
          ),
      ]);
  };
  stackAt("stride not aligned", (b) => (b.stride += 4));
  stackAt("stride 0", (b) => (b.stride = 0));
  stackAt("stride removed", (b) => delete b.stride);
  stackAt("values one short", (b) => b.values.pop());
  stackAt("values one more", (b) => b.values.push(b.values[0]));
  stackAt("values empty", (b) => (b.values = []));
  stackAt("one stride shorter", (b) => (b.size -= b.stride));
  stackAt("shifted by a stride", (b) => (b.offset += b.stride));
  if (stacked >= 0)
    out.push([
      `kernels[${stacked}] source stack read at another stride by its module`,
      (e) => {
        const module = e.kernels[stacked].module;
        e.modules[module] = e.modules[module].replace(
          /const STRIDE: u32 = (\d+)u;/,
          (_: string, n: string) => `const STRIDE: u32 = ${Number(n) + 64}u;`,
        );
      },
    ]);
  stackAt("a value wider than the stride", (b, e) => {
    b.values[0] = e.values.reduce((wide: Mutable, v: Mutable) => (v.size > wide.size ? v : wide)).id;
  });
  if (stacked >= 0)
    out.push([
      `kernels[${stacked}] source stack values reversed`,
      (e) => e.kernels[stacked].bindings.find((b: Mutable) => b.stride !== undefined).values.reverse(),
    ]);
  // a pooled kernel's bound byte range: misaligned, past its pool, or missing a value its module reads
  const pooledAt = (label: string, f: (binding: Mutable, e: Mutable) => void) => {
    if (pooled >= 0)
      out.push([
        `kernels[${pooled}] pool range ${label}`,
        (e) =>
          f(
            e.kernels[pooled].bindings.find((b: Mutable) => "pool" in b),
            e,
          ),
      ]);
  };
  pooledAt("offset not aligned", (b) => (b.offset += 4));
  pooledAt("offset negative", (b) => (b.offset = -256));
  pooledAt("offset a string", (b) => (b.offset = String(b.offset)));
  pooledAt("size 0", (b) => (b.size = 0));
  pooledAt("size not a multiple of 4", (b) => (b.size -= 2));
  pooledAt("past the end of its pool", (b, e) => (b.size = e.pools[b.pool].size - b.offset + 4));
  pooledAt("offset without size", (b) => delete b.size);
  pooledAt("shifted by 256 bytes", (b) => (b.offset += 256));
  pooledAt("shifted back by 256 bytes", (b) => {
    b.offset -= 256;
    b.size += 256;
  });
  pooledAt("cut short", (b) => (b.size -= 4));
  pooledAt("values a string", (b) => (b.values = "1,2"));
  pooledAt("values one short", (b) => b.values.pop());
  pooledAt("values one more", (b) => b.values.push(b.values[0]));
  pooledAt("values reversed", (b) => b.values.reverse());
  out.push([
    "a kernel binding one value twice",
    (e) => {
      const kernel = e.kernels.find(
        (k: Mutable) => k.bindings.length < 8 && k.bindings.every((b: Mutable) => "value" in b),
      );
      kernel.bindings.push({ ...kernel.bindings[0] });
    },
  ]);
  pooledAt("a value not in the range", (b, e) => {
    b.values[0] = e.values.find((v: Mutable) => v.pool === b.pool && v.offset >= b.offset + b.size).id;
  });
  if (pooled >= 0)
    out.push([
      `kernels[${pooled}] two pool ranges overlapping`,
      (e) => {
        const ranges = e.kernels[pooled].bindings.filter((b: Mutable) => "pool" in b);
        const [first, second] = ranges
          .filter((b: Mutable) => b.pool === ranges[ranges.length - 1].pool)
          .slice(-2);
        first.size = second.offset + second.size - first.offset;
      },
    ]);
  // dropped, reversed, swapped kernels: a kernel then reads what nothing wrote, or an output is never written
  out.push(["kernels reversed", (e) => e.kernels.reverse()]);
  out.push(["the first kernel dropped", (e) => e.kernels.shift()]);
  out.push(["the last kernel dropped", (e) => e.kernels.pop()]);
  out.push([
    "the first two kernels swapped",
    (e) => ([e.kernels[0], e.kernels[1]] = [e.kernels[1], e.kernels[0]]),
  ]);
  out.push([
    "a read turned into a read of the next value",
    (e) => {
      const kernel = e.kernels.find((k: Mutable) =>
        k.bindings.some((b: Mutable) => b.access === "read" && "value" in b),
      );
      const b = kernel.bindings.find((b: Mutable) => b.access === "read" && "value" in b);
      b.value = e.values.at(-1).id;
    },
  ]);

  const valueIndices = [
    0,
    exe.values.findIndex((v) => exe.pools[v.pool].usage === "scratch"),
    exe.values.length - 1,
  ];
  for (const i of valueIndices) {
    const v = (label: string, f: (value: Mutable, e: Mutable) => void) =>
      out.push([`values[${i}] ${label}`, (e) => f(e.values[i], e)]);
    for (const field of ["id", "dtype", "shape", "pool", "offset", "size", "label"]) {
      v(`${field} removed`, (value) => delete value[field]);
      for (const w of wrong) {
        if (field === "label" && typeof w === "string") continue; // free text
        v(`${field} = ${JSON.stringify(w)}`, (value) => (value[field] = w));
      }
    }
    v("dtype f64", (value) => (value.dtype = "f64"));
    v("shape with a 0", (value) => (value.shape = [0, ...value.shape]));
    v("shape negative", (value) => (value.shape = [-1, ...value.shape]));
    v("shape fractional", (value) => (value.shape = [0.5, ...value.shape]));
    v("size 4 more", (value) => (value.size += 4));
    v("offset unaligned", (value) => (value.offset += 4));
    v("offset past its pool", (value, e) => (value.offset = e.pools[value.pool].size));
    v("pool out of range", (value, e) => (value.pool = e.pools.length));
    v("id of another value", (value, e) => (value.id = e.values[(i + 1) % e.values.length].id));
  }
  // views: windows of another value's bytes
  const views = exe.values.flatMap((v, i) => (v.viewOf === undefined ? [] : [i]));
  for (const i of [views[0], views[views.length - 1]]) {
    if (i === undefined) break;
    const v = (label: string, f: (value: Mutable, e: Mutable) => void) =>
      out.push([`view values[${i}] ${label}`, (e) => f(e.values[i], e)]);
    const baseOf = (value: Mutable, e: Mutable) => e.values.find((b: Mutable) => b.id === value.viewOf);
    v("of no value", (value) => (value.viewOf = 99999));
    v("of a string", (value) => (value.viewOf = String(value.viewOf)));
    v("of itself", (value) => (value.viewOf = value.id));
    v(
      "of another value",
      (value, e) =>
        (value.viewOf = e.values.find(
          (b: Mutable) => b.id !== value.viewOf && b.viewOf === undefined && b.pool === value.pool,
        ).id),
    );
    v("past its base", (value, e) => (value.offset = baseOf(value, e).offset + baseOf(value, e).size));
    // visible when a value binding reads it (a pooled kernel counts as writing what it binds)
    if (exe.kernels.some((k) => k.bindings.some((b) => "value" in b && b.value === exe.values[i].id)))
      v("no longer a view", (value) => delete value.viewOf);
    v("of a value of another dtype", (value) => (value.dtype = "i32"));
    v("is an output's value", (value, e) => (e.outputs[0].value = value.id));
    v("written by a kernel", (value, e) => {
      for (const k of e.kernels)
        for (const b of k.bindings) if (b.value === value.id) b.access = "read_write";
    });
  }
  out.push([
    "two parameters on the same bytes",
    (e) => {
      const params = e.values.filter((v: Mutable) => e.pools[v.pool].usage === "param" && v.size > 0);
      params[1].offset = params[0].offset;
    },
  ]);
  out.push([
    "an input on a parameter's pool",
    (e) => {
      const input = e.values.find((v: Mutable) => v.id === e.inputs[0].value);
      input.pool = e.pools.findIndex((p: Mutable) => p.usage === "param");
    },
  ]);
  out.push([
    "two live scratch values on the same bytes",
    (e) => {
      // the values one kernel reads and writes are live together
      const kernel = e.kernels.find(
        (k: Mutable) => k.bindings.filter((b: Mutable) => "value" in b).length >= 2,
      );
      const ids = kernel.bindings.filter((b: Mutable) => "value" in b).map((b: Mutable) => b.value);
      const scratch = e.values.filter(
        (v: Mutable) => ids.includes(v.id) && e.pools[v.pool].usage === "scratch",
      );
      const target = scratch.length >= 2 ? scratch : e.values.filter((v: Mutable) => ids.includes(v.id));
      target[1].pool = target[0].pool;
      target[1].offset = target[0].offset;
    },
  ]);
  out.push(["a pool shrunk", (e) => (e.pools[0].size = 0)]);
  out.push(["a pool with an unknown usage", (e) => (e.pools[0].usage = "texture")]);
  out.push(["two param pools", (e) => (e.pools[1].usage = "param")]);
  out.push(["a pool size negative", (e) => (e.pools[0].size = -256)]);

  for (const i of [0, exe.params.length - 1]) {
    const p = (label: string, f: (param: Mutable, e: Mutable) => void) =>
      out.push([`params[${i}] ${label}`, (e) => f(e.params[i], e)]);
    for (const field of ["name", "shape", "init", "decay", "group", "value"]) {
      p(`${field} removed`, (param) => delete param[field]);
      for (const w of wrong) {
        if ((field === "name" || field === "group") && typeof w === "string") continue;
        p(`${field} = ${JSON.stringify(w)}`, (param) => (param[field] = w));
      }
    }
    p("init uniform", (param) => (param.init = { kind: "uniform" }));
    p("init std NaN (null in JSON)", (param) => (param.init = { kind: "normal", std: null }));
    p("init std negative", (param) => (param.init = { kind: "normal", std: -0.02 }));
    p("init std a string", (param) => (param.init = { kind: "normal", std: "0.02" }));
    p("init normal without std", (param) => (param.init = { kind: "normal" }));
    p(
      "shape transposed or extended",
      (param) =>
        (param.shape = param.shape.length === 2 ? [param.shape[1], param.shape[0], 1] : [...param.shape, 2]),
    );
    p("value of an input", (param, e) => (param.value = e.inputs[0].value));
    p("name of another parameter", (param, e) => (param.name = e.params[(i + 1) % e.params.length].name));
  }
  for (const key of ["inputs", "outputs"] as const) {
    const io = (label: string, f: (entry: Mutable, e: Mutable) => void) =>
      out.push([`${key}[0] ${label}`, (e) => f(e[key][0], e)]);
    for (const field of ["name", "dtype", "shape", "value"]) {
      io(`${field} removed`, (entry) => delete entry[field]);
      for (const w of wrong) {
        if (field === "name" && typeof w === "string") continue;
        io(`${field} = ${JSON.stringify(w)}`, (entry) => (entry[field] = w));
      }
    }
    io("dtype i32 <-> f32", (entry) => (entry.dtype = entry.dtype === "f32" ? "i32" : "f32"));
    io("shape doubled", (entry) => (entry.shape = entry.shape.map((d: number) => 2 * d)));
    io("listed twice", (entry, e) => e[key].push({ ...entry }));
  }
  out.push(["requirements removed", (e) => delete e.requirements]);
  out.push(["fewer storage buffers required", (e) => (e.requirements.storageBuffersPerKernel -= 1)]);
  out.push(["a smaller largest binding", (e) => (e.requirements.largestBinding.bytes = 4)]);
  out.push(["a smaller largest pool", (e) => (e.requirements.largestPool.bytes = 4)]);
  out.push(["workgroup storage negative", (e) => (e.requirements.workgroupStorageBytes = -1)]);
  return out;
}

describe(".archx validation", () => {
  for (const [kind, exe] of executables) {
    const path = join(dir, `${kind}.archx`);
    writeExecutable(path, exe);

    it(`${kind}: the intact file loads exactly`, () => {
      expect(loadExecutable(path)).toEqual(JSON.parse(JSON.stringify(exe)));
      if (kind === "training") expect(exe.values.some((v) => v.viewOf !== undefined)).toBe(true);
      if (kind === "forward") expect(exe.kernels.some((k) => k.bindings.some((b) => "pool" in b))).toBe(true);
    });

    it(`${kind}: every field mutated, kernels dropped, reversed, swapped`, () => {
      const bad = join(dir, `${kind}-bad.archx`);
      const all = mutations(exe);
      const missed: string[] = [];
      for (const [label, mutate] of all) {
        const copy = JSON.parse(JSON.stringify(exe)) as Mutable;
        mutate(copy);
        if (JSON.stringify(copy) === JSON.stringify(exe)) continue; // a no-op here (the value it already had)
        writeFileSync(bad, JSON.stringify(copy));
        try {
          expectDamaged(label, bad, () => loadExecutable(bad));
        } catch (err) {
          missed.push((err as Error).message.split("\n")[0]);
        }
      }
      expect(missed).toEqual([]);
      expect(all.length).toBeGreaterThan(300);
    });

    it(`${kind}: truncated, duplicate keys, not JSON, not UTF-8`, () => {
      const text = readFileSync(path, "utf8");
      const bad = join(dir, `${kind}-text.archx`);
      const cases: [string, string | Uint8Array][] = [];
      for (let i = 0; i < 60; i++)
        cases.push([`truncated at ${i}/60`, text.slice(0, Math.floor((text.trimEnd().length * i) / 60))]);
      cases.push(["model twice", text.replace("{", `{"model": "other",`)]);
      cases.push(["kernels twice", text.replace("{", `{"kernels": [],`)]);
      cases.push(["a value's offset twice", text.replace(`"offset": 0,`, `"offset": 256, "offset": 0,`)]);
      cases.push(["binary", Uint8Array.from([0x7b, 0xff, 0x7d])]);
      cases.push(["an array", "[]"]);
      cases.push(["null", "null"]);
      for (const [label, content] of cases) {
        writeFileSync(bad, content);
        expectDamaged(label, bad, () => loadExecutable(bad));
      }
    });

    it(`${kind}: random byte flips are refused or load as a well-formed plan`, () => {
      const text = readFileSync(path);
      const bad = join(dir, `${kind}-flip.archx`);
      let s = 12345;
      const random = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
      let refused = 0;
      for (let trial = 0; trial < 200; trial++) {
        const copy = Uint8Array.from(text);
        // flips outside the WGSL text (module contents are for the device's compiler to judge)
        let at = Math.floor(random() * copy.length);
        const modulesEnd = text.indexOf('"kernels"');
        if (at < modulesEnd) at = modulesEnd + Math.floor(random() * (copy.length - modulesEnd));
        copy[at] ^= 1 << Math.floor(random() * 7);
        writeFileSync(bad, copy);
        try {
          loadExecutable(bad);
        } catch (err) {
          if (!(err instanceof DamagedFileError)) throw err;
          refused++;
        }
      }
      expect(refused).toBeGreaterThan(100);
    });
  }

  it("a missing file, a directory, an ArchxError that is a DamagedFileError", () => {
    expectDamaged("missing", join(dir, "none.archx"), () => loadExecutable(join(dir, "none.archx")));
    mkdirSync(join(dir, "d.archx"));
    expectDamaged("a directory", join(dir, "d.archx"), () => loadExecutable(join(dir, "d.archx")));
    const err = new ArchxError("m.archx", "kernels[0] reads value 3 before any kernel writes it");
    expect(err).toBeInstanceOf(DamagedFileError);
    expect(err.message).toBe(
      "m.archx: kernels[0] reads value 3 before any kernel writes it; the executable is damaged: compile it again with archc compile",
    );
  });
});
