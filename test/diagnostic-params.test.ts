// Compile-time guarantees, checked by compiling fixtures (test/typecheck/) in which every wrong use
// is marked @ts-expect-error, so the test fails if a wrong use ever compiles: diagnostic parameters
// typed from the catalog's templates, and an op registry that must hold every op and every part.

import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";

const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");

describe("typed diagnostic parameters", () => {
  it("reject a missing, extra or unexpected parameter, and an incomplete op registry, at compile time", () => {
    let output = "";
    try {
      execFileSync(process.execPath, [tsc, "-p", "test/typecheck/tsconfig.json"], { encoding: "utf8" });
    } catch (err) {
      output = String((err as { stdout?: string }).stdout ?? err);
    }
    expect(output).toBe("");
  }, 120_000);
});
