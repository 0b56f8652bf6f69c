// Baseline tests: each test/cases/NAME.arch is a bad input; NAME.expected holds the exact
// formatted diagnostics (code, location, message, caret). Regenerate after an intended change
// with UPDATE_BASELINES=1 and review the diff; a new case's baseline is written and read by hand.

import { describe, expect, it } from "vitest";
import { readdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import path from "node:path";
import { formatDiagnostics, loadProgram } from "../compiler/frontend.js";
import { CATALOG } from "../compiler/diagnostics/catalog.js";

const dir = "test/cases";
const cases = readdirSync(dir)
  .filter((f) => f.endsWith(".arch"))
  .map((f) => f.slice(0, -5))
  .sort();

describe("bad inputs produce exactly the expected diagnostics", () => {
  it("has at least 40 cases", () => expect(cases.length).toBeGreaterThanOrEqual(40));

  for (const name of cases)
    it(name, () => {
      const file = path.join(dir, `${name}.arch`);
      const result = loadProgram([file]);
      expect(result.diagnostics.length).toBeGreaterThan(0);
      for (const d of result.diagnostics) {
        expect(Object.keys(CATALOG)).toContain(d.code);
        expect(d.code).not.toBe("A0901");
      }
      const actual = formatDiagnostics(result) + "\n";
      const expectedFile = path.join(dir, `${name}.expected`);
      if (process.env.UPDATE_BASELINES) writeFileSync(expectedFile, actual);
      // a missing baseline fails: written here, it would accept whatever the checker says
      expect(existsSync(expectedFile), `${expectedFile} is missing; write it and review it`).toBe(true);
      expect(actual).toBe(readFileSync(expectedFile, "utf8"));
    });
});
