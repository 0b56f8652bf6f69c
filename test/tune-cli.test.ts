// `archc tune`: a smoke test on the software adapter with a one-layer AttnRes model's forward pass
// (every op with variants, few pipelines), with no assertion on speed. The file it writes must
// load for this adapter and compile the variants it names; a second run keeps the first run's
// entries; another adapter's file at --out is refused. Needs a WebGPU adapter (lavapipe in CI).

import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { compileGraph } from "../compiler/compile.js";
import { findModel, loadProgram } from "../compiler/frontend.js";
import { lowerModel } from "../compiler/ir/lower.js";
import { variantNames } from "../compiler/ops/registry.js";
import { findTuning } from "../compiler/tuning/lookup.js";
import { readTuningFile, serializeTuningFile, type TuningFile } from "../format/tuning.js";
import { defaultAdapterInfo } from "../runtime/device.js";
import { runCli } from "./cli-support.js";

const archc = (args: string[]) => runCli([import("../cli/tune.js")], args);

const MODEL = `import std.transformer

model smoke extends gpt {
  vocab: 64
  context: 16
  dim: 16
  depth: 1
  heads: 2
  kv_heads: 1
  hidden: 2 * dim
  residual: attn
}
`;

let dir: string;
let modelFile: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "archc-tune-"));
  modelFile = join(dir, "smoke.arch");
  writeFileSync(modelFile, MODEL);
});

// 24 rows: more than the 16 that make a product decoding's (rows4, a class of its own)
const SHAPE = ["--infer", "--batch", "2", "--seq", "12", "--repeats", "2"];

describe("archc tune", () => {
  it("measures every variant of every class, checks them, and writes a file this adapter loads", async () => {
    const out = join(dir, "tuning.json");
    const r = await archc(["tune", modelFile, ...SHAPE, "--out", out, "--json"]);
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.exitCode).toBe(0);
    const result = JSON.parse(r.stdout);
    const classes = result.classes.map((c: { op: string; shapeClass: string }) => `${c.op} ${c.shapeClass}`);
    expect(classes.sort()).toEqual([
      "attention t<128,hd8",
      "attnres rows<1024,lanes32",
      "matmul m<128,n<128,k<128,v4",
      // the forward pass folds its norms into the products that read them (the tied head is tb)
      "rmsnorm_matmul m<128,n<128,k<128,tb,v4",
      "rmsnorm_matmul m<128,n<128,k<128,v4",
    ]);
    for (const c of result.classes) {
      expect(c.variants.map((v: { variant: string }) => v.variant)).toContain(c.defaultVariant);
      for (const v of c.variants) {
        expect(v.passed, `${c.op} ${v.variant}`).toBe(true);
        expect(v.error).toBeLessThanOrEqual(1e-4);
        expect(v.ms).toBeGreaterThanOrEqual(0);
      }
    }
    // the table went to stderr with --json, the default marked
    expect(r.stderr).toMatch(/attention t<128,hd8 · 1 node/);
    expect(r.stderr).toMatch(/keys32 .* default/);

    const file = readTuningFile(out, variantNames);
    expect(file).toEqual(result.tuning);
    expect(file.entries).toHaveLength(5);
    for (const e of file.entries) expect(Object.keys(e.ms).length).toBeGreaterThan(1);
    const found = findTuning(await defaultAdapterInfo(), { flag: out, env: {} });
    expect(found.file).toBe(out);

    // compiled with the file, each class's kernels get the variant it keeps
    const model = findModel(loadProgram([modelFile]));
    const graph = lowerModel(model, { batch: 2, seq: 12 });
    const exe = compileGraph(graph, { tuning: found.table });
    for (const e of file.entries) {
      const kernels = exe.kernels.filter((k) => k.ops[0] === e.op).map((k) => exe.modules[k.module]);
      const named = kernels.filter((code) =>
        code.includes(`// variant ${e.variant}, named by the tuning table for ${e.op} ${e.shapeClass}`),
      );
      const isDefault = ["64x64", "keys32", "tokens1"].includes(e.variant);
      if (!isDefault) expect(named.length, `${e.op} ${e.shapeClass}`).toBeGreaterThan(0);
      else expect(named).toEqual([]);
    }
  }, 600_000); // cold: the software driver compiles each variant's pipeline on first use

  it("keeps the entries of classes it does not measure again; times by the wall clock if asked", async () => {
    const out = join(dir, "tuning.json");
    const before = readTuningFile(out, variantNames);
    const r = await archc([
      "tune",
      modelFile,
      ...SHAPE,
      "--ops",
      "attention",
      "--out",
      out,
      "--no-timestamps",
      "--json",
    ]);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toMatch(/wrote .*tuning\.json: 5 entries/);
    const result = JSON.parse(r.stdout);
    expect(result.method).toBe("wall-clock");
    for (const v of result.classes[0].variants) expect(v.ms).toBeGreaterThan(0);
    const after = readTuningFile(out, variantNames);
    const others = (f: TuningFile) => f.entries.filter((e) => e.op !== "attention");
    expect(others(after)).toEqual(others(before));
    expect(after.entries.filter((e) => e.op === "attention")).toHaveLength(1);
  }, 600_000);

  it("with --decode, also tunes decoding's few-row products", async () => {
    const out = join(dir, "decode.json");
    const r = await archc([
      "tune",
      modelFile,
      ...SHAPE,
      "--decode",
      "--ops",
      "matmul",
      "--out",
      out,
      "--json",
    ]);
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toMatch(/smoke decoding at batch 1 and 16/);
    const result = JSON.parse(r.stdout);
    const decoding = result.classes.filter((c: { shapeClass: string }) => c.shapeClass.startsWith("m<=16"));
    expect(decoding.length).toBeGreaterThan(0);
    for (const c of decoding) {
      expect(c.defaultVariant).toBe("rows4");
      for (const v of c.variants) expect(v.passed, `${c.shapeClass} ${v.variant}`).toBe(true);
    }
  }, 600_000);

  it("refuses an --out measured on another adapter, and ops without variants", async () => {
    const foreign = join(dir, "foreign.json");
    const file: TuningFile = {
      format: "archc-tuning",
      version: 1,
      adapter: { vendor: "x", architecture: "y", device: "z", description: "another GPU" },
      entries: [],
    };
    writeFileSync(foreign, serializeTuningFile(file));
    const r = await archc(["tune", modelFile, ...SHAPE, "--out", foreign]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/holds tuning for another GPU, not this adapter/);
    expect(readFileSync(foreign, "utf8")).toBe(serializeTuningFile(file));
    const usage = await archc(["tune", modelFile, "--ops", "rmsnorm"]);
    expect(usage.exitCode).toBe(2);
    expect(usage.stderr).toMatch(/rmsnorm has no kernel variants/);
  });
});
