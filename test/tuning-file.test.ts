// Tuning files (format/tuning.ts): a round trip, every kind of damage refused as a DamagedFileError
// naming the file, and the lookup (compiler/tuning/lookup.ts) that picks the file measured on the
// adapter in use: --tuning, then ARCHC_TUNING, then the shipped folder; --no-tuning picks none.

import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { describe, expect, it } from "vitest";
import { variantNames } from "../compiler/ops/registry.js";
import { findTuning, TUNING_ENV } from "../compiler/tuning/lookup.js";
import {
  parseTuningFile,
  readTuningFile,
  serializeTuningFile,
  tuningKey,
  tuningTable,
  type AdapterIdentity,
  type TuningFile,
} from "../format/tuning.js";
import { runCli } from "./cli-support.js";
import { expectDamaged } from "./damaged-support.js";

const LAVAPIPE: AdapterIdentity = {
  vendor: "mesa",
  architecture: "software",
  device: "llvmpipe-llvm-15-0-6-256-bits-",
  description: "llvmpipe: Mesa 25.0.7 (LLVM 15.0.6)",
};
const OTHER: AdapterIdentity = { ...LAVAPIPE, description: "some other GPU" };

function sample(adapter = LAVAPIPE): TuningFile {
  return {
    format: "archc-tuning",
    version: 1,
    adapter,
    entries: [
      {
        op: "matmul",
        shapeClass: "m>=128,n<128,k<128,v4",
        variant: "128x64",
        ms: { "64x64": 1.64, "128x64": 1.51, "32x32": 3.8 },
      },
      { op: "attention", shapeClass: "t<128,hd16", variant: "keys64", ms: { keys32: 4.46, keys64: 1.84 } },
    ],
  };
}

const tmp = () => mkdtempSync(join(tmpdir(), "archc-tuning-"));

function writeSample(dir: string, name: string, file: TuningFile = sample()): string {
  const path = join(dir, name);
  writeFileSync(path, serializeTuningFile(file));
  return path;
}

describe("tuning files", () => {
  it("round-trip: what is written parses back to the same file and table", () => {
    const text = serializeTuningFile(sample());
    const parsed = parseTuningFile("t.json", text, variantNames);
    expect(parsed).toEqual(sample());
    const table = tuningTable(parsed);
    expect(table.get(tuningKey("matmul", "m>=128,n<128,k<128,v4"))).toBe("128x64");
    expect(table.get(tuningKey("attention", "t<128,hd16"))).toBe("keys64");
    expect(table.size).toBe(2);
  });

  it("writes one entry per line, so that a change reads well in a diff", () => {
    const lines = serializeTuningFile(sample()).split("\n");
    expect(lines.filter((l) => l.includes('"op"'))).toHaveLength(2);
    expect(lines.find((l) => l.includes('"op":"attention"'))).toMatch(/^\s+\{.*\}$/);
  });

  const damage: [string, (f: Record<string, unknown>) => unknown, RegExp][] = [
    ["not an object", () => [1, 2], /must be a JSON object/],
    ["another format", (f) => ({ ...f, format: "archc-bench" }), /not a tuning file/],
    ["a newer version", (f) => ({ ...f, version: 2 }), /version 2 is not supported/],
    ["an unknown field", (f) => ({ ...f, extra: true }), /unknown field "extra"/],
    [
      "an adapter without its device",
      (f) => ({ ...f, adapter: { ...LAVAPIPE, device: 3 } }),
      /adapter.device/,
    ],
    ["entries not a list", (f) => ({ ...f, entries: {} }), /"entries" must be an array/],
    ["an op without variants", (f) => withEntry(f, { op: "rmsnorm" }), /op "rmsnorm" has no kernel variants/],
    ["an op that is no op", (f) => withEntry(f, { op: 7 }), /"op" must be a string/],
    ["a variant the op does not have", (f) => withEntry(f, { variant: "256x256" }), /no variant "256x256"/],
    ["a shape class with a space", (f) => withEntry(f, { shapeClass: "m<128 n<128" }), /without spaces/],
    ["an empty shape class", (f) => withEntry(f, { shapeClass: "" }), /"shapeClass"/],
    ["a time of a variant it lacks", (f) => withEntry(f, { ms: { "64x32": 1 } }), /does not have: "64x32"/],
    ["a negative time", (f) => withEntry(f, { ms: { "64x64": -1 } }), /"ms.64x64" must be a number >= 0/],
    ["a time that is text", (f) => withEntry(f, { ms: { "64x64": "fast" } }), /"ms.64x64"/],
    ["times that are no object", (f) => withEntry(f, { ms: [1] }), /"ms" must be an object/],
    [
      "a field an entry does not have",
      (f) => withEntry(f, { note: "x" }),
      /entry 0 has an unknown field "note"/,
    ],
    [
      "one class twice",
      (f) => ({ ...f, entries: [(f.entries as unknown[])[0], (f.entries as unknown[])[0]] }),
      /entry 1 repeats matmul m>=128,n<128,k<128,v4/,
    ],
  ];
  function withEntry(f: Record<string, unknown>, change: Record<string, unknown>) {
    const [first, ...rest] = f.entries as Record<string, unknown>[];
    return { ...f, entries: [{ ...first, ...change }, ...rest] };
  }
  it.each(damage)("refuses %s, naming the file", (_label, change, message) => {
    const text = JSON.stringify(change(JSON.parse(serializeTuningFile(sample()))));
    const err = expectDamaged("damaged", "bad.json", () => parseTuningFile("bad.json", text, variantNames));
    expect(err.message).toMatch(message);
  });

  it("refuses text that is not JSON, a key given twice, bytes that are not UTF-8 and a missing file", () => {
    expect(
      expectDamaged("json", "x.json", () => parseTuningFile("x.json", "{", variantNames)).message,
    ).toMatch(/not valid JSON/);
    const twice = serializeTuningFile(sample()).replace('"version": 1,', '"version": 1, "version": 1,');
    expect(
      expectDamaged("twice", "x.json", () => parseTuningFile("x.json", twice, variantNames)).message,
    ).toMatch(/"version" twice/);
    const dir = tmp();
    const binary = join(dir, "binary.json");
    writeFileSync(binary, Buffer.from([0x7b, 0xff, 0xfe, 0x7d]));
    expect(expectDamaged("utf8", binary, () => readTuningFile(binary, variantNames)).message).toMatch(
      /UTF-8/,
    );
    const missing = join(dir, "missing.json");
    expect(expectDamaged("missing", missing, () => readTuningFile(missing, variantNames)).message).toMatch(
      /does not exist/,
    );
  });

  it("a command given a damaged file says so without a stack trace", async () => {
    const dir = tmp();
    const bad = join(dir, "bad.json");
    writeFileSync(
      bad,
      JSON.stringify({ ...sample(), entries: [{ ...sample().entries[0], variant: "huge" }] }),
    );
    const r = await runCli(
      [import("../cli/compile.js")],
      ["compile", "examples/tiny.arch", "-o", join(dir, "t.archx"), "--tuning", bad],
    );
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(`archc: ${bad}: entry 0: matmul has no variant "huge"`);
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
  });
});

describe("choosing the table for an adapter", () => {
  const none = { env: {}, shipped: join(tmpdir(), "archc-no-such-folder") };

  it("takes --tuning when it was measured on this adapter", () => {
    const file = writeSample(tmp(), "mine.json");
    const found = findTuning(LAVAPIPE, { ...none, flag: file });
    expect(found.file).toBe(file);
    expect(found.table?.get(tuningKey("attention", "t<128,hd16"))).toBe("keys64");
    expect(found.notes).toEqual([]);
  });

  it("passes over a file of another adapter, saying so, and falls back to the shipped folder", () => {
    const dir = tmp();
    const foreign = writeSample(dir, "foreign.json", sample(OTHER));
    const shipped = join(dir, "shipped");
    mkdirSync(shipped);
    const match = writeSample(shipped, "lavapipe.json");
    writeSample(shipped, "a-other.json", sample(OTHER));
    const found = findTuning(LAVAPIPE, { env: {}, shipped, flag: foreign });
    expect(found.file).toBe(match);
    expect(found.notes).toHaveLength(1);
    expect(found.notes[0]).toContain(`${foreign} was measured on some other GPU, not on this adapter`);
    expect(findTuning(OTHER, { env: {}, shipped }).file).toBe(join(shipped, "a-other.json"));
  });

  it("reads ARCHC_TUNING (files and folders, separated like PATH) when there is no --tuning", () => {
    const dir = tmp();
    const folder = join(dir, "folder");
    mkdirSync(folder);
    const foreign = writeSample(dir, "foreign.json", sample(OTHER));
    const match = writeSample(folder, "match.json");
    const env = { [TUNING_ENV]: [foreign, folder].join(delimiter) };
    expect(findTuning(LAVAPIPE, { ...none, env }).file).toBe(match);
    // --tuning replaces the variable
    expect(findTuning(LAVAPIPE, { ...none, env, flag: foreign }).file).toBeUndefined();
  });

  it("finds nothing without files, and nothing at all with --no-tuning", () => {
    expect(findTuning(LAVAPIPE, none)).toEqual({ notes: [] });
    const file = writeSample(tmp(), "mine.json");
    expect(findTuning(LAVAPIPE, { ...none, env: { [TUNING_ENV]: file }, flag: false })).toEqual({
      notes: [],
    });
  });

  it("refuses a damaged or missing file the user named", () => {
    const dir = tmp();
    const missing = join(dir, "missing.json");
    expectDamaged("missing", missing, () => findTuning(LAVAPIPE, { ...none, flag: missing }));
    const bad = join(dir, "bad.json");
    writeFileSync(bad, "{}");
    expectDamaged("bad", bad, () => findTuning(LAVAPIPE, { ...none, env: { [TUNING_ENV]: bad } }));
  });

  it("ships no tuning file that the lookup would refuse", () => {
    // the package's tuning/ folder: every file in it must parse (it may be empty)
    expect(() => findTuning(OTHER, { env: {} })).not.toThrow();
  });
});
