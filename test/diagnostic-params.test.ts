// Diagnostic parameters are typed from the catalog's templates: compiles a fixture in which every
// wrong call is marked @ts-expect-error, so the check fails if a wrong call ever compiles.

import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";

const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");

describe("typed diagnostic parameters", () => {
  it("reject a missing, extra or unexpected parameter at compile time", () => {
    let output = "";
    try {
      execFileSync(process.execPath, [tsc, "-p", "test/typecheck/tsconfig.json"], { encoding: "utf8" });
    } catch (err) {
      output = String((err as { stdout?: string }).stdout ?? err);
    }
    expect(output).toBe("");
  }, 120_000);
});
