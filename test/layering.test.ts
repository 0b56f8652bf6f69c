// The folders' dependency rules, checked over every import of every source file (static imports,
// re-exports and dynamic import()): the format (the executable, the specs a run records, the
// training program and decoder contracts) depends on nothing of archc's; the compiler and the
// runtime each import only the format, never each other, the CLI or the tools built on them; and
// no two top-level folders depend on each other in a cycle.

import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const ROOT = join(dirname(new URL(import.meta.url).pathname), "..");
const FOLDERS = ["format", "compiler", "runtime", "ablate", "cli", "bench"];

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(join(ROOT, path)).isDirectory()) return sourceFiles(path);
    return name.endsWith(".ts") && !name.endsWith(".d.ts") ? [path] : [];
  });
}

/**
 * every relative module a file imports, as a repository path without extension: static imports,
 * re-exports and import() with a literal path, as TypeScript's own scanner finds them (comments
 * and strings inside an import cannot confuse it)
 */
function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), "utf8");
  const { importedFiles } = ts.preProcessFile(text, true, true);
  // a worker or other module loaded by URL: new URL("./x.js", import.meta.url)
  const byUrl = [...text.matchAll(/new URL\(\s*["']([^"']+)["']\s*,\s*import\.meta\.url/g)].map((m) => m[1]);
  return [...importedFiles.map((f) => f.fileName), ...byUrl]
    .filter((s) => s.startsWith("."))
    .map((s) => normalize(join(dirname(file), s)).replace(/\.js$/, ""));
}

/** computed imports that load a dependency's file, not one of archc's modules */
const COMPUTED_OUTSIDE_ARCHC = [
  // Chevrotain's bundled build, found next to the package's entry point
  "compiler/syntax/chevrotain.ts: import(p",
];

/** import() or new URL() with a computed path: the walk could not see where it goes */
function computedImports(file: string): string[] {
  const text = readFileSync(join(ROOT, file), "utf8");
  return [...text.matchAll(/\bimport\(\s*(?!["'])[^)]/g), ...text.matchAll(/new URL\(\s*`/g)].map(
    (m) => `${file}: ${m[0]}`,
  );
}

const folderOf = (path: string): string => (path.includes("/") ? path.split("/")[0] : path);

const files = ["cli.ts", ...FOLDERS.flatMap(sourceFiles)];
const edges = files.flatMap((file) => importsOf(file).map((target) => ({ file, target })));

const crossing = (from: string, to: string) =>
  edges
    .filter((e) => folderOf(e.file) === from && folderOf(e.target) === to)
    .map((e) => `${e.file} -> ${e.target}`)
    .filter((edge, i, all) => all.indexOf(edge) === i);

describe("layering, over every import", () => {
  it("finds the imports (the walk sees every folder)", () => {
    expect(files.length).toBeGreaterThan(150);
    for (const folder of FOLDERS)
      expect(
        files.some((f) => f.startsWith(`${folder}/`)),
        folder,
      ).toBe(true);
    expect(edges.length).toBeGreaterThan(500);
    // every relative import resolves to a file of the walk (a misparsed specifier would not)
    const known = new Set(files.map((f) => f.replace(/\.ts$/, "")));
    const unresolved = edges.filter((e) => !known.has(e.target) && !e.target.startsWith("stdlib"));
    expect(unresolved.map((e) => `${e.file} -> ${e.target}`)).toEqual([]);
    expect(files.flatMap(computedImports)).toEqual(COMPUTED_OUTSIDE_ARCHC);
  });

  it("the executable format depends on nothing else of archc's", () => {
    for (const to of FOLDERS.filter((f) => f !== "format")) expect(crossing("format", to), to).toEqual([]);
  });

  it("the compiler imports only the format: never the runtime, the CLI or the tools", () => {
    for (const to of ["runtime", "cli", "ablate", "bench"]) expect(crossing("compiler", to), to).toEqual([]);
  });

  it("the runtime imports only the format: never the compiler, the CLI or the tools", () => {
    for (const to of ["compiler", "cli", "ablate", "bench"]) expect(crossing("runtime", to), to).toEqual([]);
  });

  it("no two top-level folders depend on each other in a cycle", () => {
    const graph = new Map<string, Set<string>>();
    for (const e of edges) {
      const [from, to] = [folderOf(e.file), folderOf(e.target)];
      if (from === to || !FOLDERS.includes(to)) continue;
      graph.set(from, (graph.get(from) ?? new Set()).add(to));
    }
    const reaches = (from: string, to: string, seen = new Set<string>()): boolean =>
      [...(graph.get(from) ?? [])].some(
        (next) => next === to || (!seen.has(next) && (seen.add(next), reaches(next, to, seen))),
      );
    const cycles = [...graph.keys()].flatMap((a) =>
      [...(graph.get(a) ?? [])].filter((b) => reaches(b, a)).map((b) => `${a} -> ${b} -> ... -> ${a}`),
    );
    expect(cycles).toEqual([]);
  });
});
