// grammar.md documents every parser rule and no other: the EBNF rule names in its `ebnf` block
// must be exactly the parser's productions.

import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { ArchParser } from "../compiler/syntax/parser.js";

function documentedRules(markdown: string): string[] {
  const block = /```ebnf\n([\s\S]*?)```/.exec(markdown);
  if (!block) throw new Error("grammar.md has no ebnf block");
  return [...block[1].matchAll(/^(\w+)\s*=/gm)].map((m) => m[1]);
}

describe("grammar.md", () => {
  const parser = new ArchParser(true);
  const productions = Object.keys(parser.getGAstProductions()).sort();
  const documented = documentedRules(readFileSync("grammar.md", "utf8"));

  it("documents every production of the parser", () => {
    expect(productions.filter((p) => !documented.includes(p))).toEqual([]);
  });
  it("documents no rule the parser lacks, each once", () => {
    expect(documented.filter((d) => !productions.includes(d))).toEqual([]);
    expect(new Set(documented).size).toBe(documented.length);
  });
  it("describes the meaning of every rule in prose", () => {
    const prose = readFileSync("grammar.md", "utf8").split("## Meaning of each construct")[1] ?? "";
    for (const rule of productions) expect(prose, rule).toContain(rule);
  });
});
