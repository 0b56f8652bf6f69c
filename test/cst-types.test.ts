// compiler/syntax/cst-types.ts is generated from the grammar and committed: the visitor's child keys
// are checked against it at compile time, so a stale file would let a renamed child through. This
// regenerates it in memory and compares; it never writes the file (`npm run gen:cst` does).

import { describe, expect, it } from "vitest";
import { existsSync, readFileSync } from "node:fs";
import { CST_TYPES_FILE, generateCstTypes } from "../compiler/syntax/generate-cst-types.js";
import { ArchParser } from "../compiler/syntax/parser.js";

describe("generated CST types", () => {
  it("are committed and match the grammar (regenerate with `npm run gen:cst`)", async () => {
    expect(existsSync(CST_TYPES_FILE), `${CST_TYPES_FILE} is missing: run \`npm run gen:cst\``).toBe(true);
    const committed = readFileSync(CST_TYPES_FILE, "utf8");
    const expected = await generateCstTypes();
    expect(committed, `${CST_TYPES_FILE} is stale: run \`npm run gen:cst\``).toBe(expected);
  });

  it("declare a node type for every rule of the parser", () => {
    const committed = existsSync(CST_TYPES_FILE) ? readFileSync(CST_TYPES_FILE, "utf8") : "";
    const rules = Object.keys(new ArchParser(true).getGAstProductions());
    expect(rules.length).toBeGreaterThan(0);
    for (const rule of rules) expect(committed, rule).toContain(`name: "${rule}";`);
  });
});
