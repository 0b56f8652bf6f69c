// Reading a program's files: the roots, then every import, each file once, with import cycles
// reported at the import that closes them.

import path from "node:path";
import { existsSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { DiagnosticSink } from "../diagnostics/diagnostic.js";
import { suggestionHint } from "../diagnostics/diagnostic.js";
import type { SourceSpan } from "../../format/spec.js";
import type { FileAst } from "../syntax/ast.js";
import { parseSource } from "../syntax/parse.js";
import { closestName } from "./suggest.js";

export type ReadFile = (file: string) => string;

let stdlibDir: string | undefined;

/** stdlib/ sits at the package root, found upward from this module (source and dist trees differ in depth). */
export function stdlibDirectory(): string {
  if (stdlibDir) return stdlibDir;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, "stdlib");
    if (existsSync(path.join(candidate, "transformer.arch"))) return (stdlibDir = candidate);
    const parent = path.dirname(dir);
    if (parent === dir) return (stdlibDir = path.join(process.cwd(), "stdlib"));
    dir = parent;
  }
}

function stdlibModules(): string[] {
  try {
    return readdirSync(stdlibDirectory())
      .filter((f) => f.endsWith(".arch"))
      .map((f) => `std.${f.slice(0, -5)}`);
  } catch {
    return [];
  }
}

function displayName(absolute: string): string {
  const relative = path.relative(process.cwd(), absolute);
  return relative !== "" && !relative.startsWith("..") && !path.isAbsolute(relative) ? relative : absolute;
}

export interface LoadedFiles {
  /** each file after the files it imports */
  asts: FileAst[];
  sources: Map<string, string>;
}

export class FileLoader {
  private readonly loaded = new Map<string, string>(); // absolute path → display name
  private readonly stack: string[] = [];
  readonly result: LoadedFiles = { asts: [], sources: new Map() };

  constructor(
    private readonly sink: DiagnosticSink,
    private readonly readFile: ReadFile,
  ) {}

  loadRoot(file: string, text?: string): void {
    const absolute = path.resolve(file);
    if (this.loaded.has(absolute)) return;
    this.load(absolute, file, text, undefined);
  }

  private load(
    absolute: string,
    display: string,
    text: string | undefined,
    importedAt: SourceSpan | undefined,
  ): void {
    if (text === undefined) {
      try {
        text = this.readFile(importedAt ? absolute : display);
      } catch (err) {
        const reason =
          (err as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (err as Error).message;
        const span = importedAt ?? { file: display, line: 1, column: 1, offset: 0, length: 0 };
        if (!importedAt) this.result.sources.set(display, "");
        this.sink.report("A0210", span, { path: display, reason });
        return;
      }
    }
    this.loaded.set(absolute, display);
    this.result.sources.set(display, text);
    const ast = parseSource(display, text, this.sink);
    this.stack.push(absolute);
    for (const decl of ast.declarations) {
      if (decl.kind !== "import") continue;
      const target = this.resolve(decl, absolute);
      if (!target) continue;
      if (this.stack.includes(target)) {
        const cycle = [...this.stack.slice(this.stack.indexOf(target)), target].map(
          (f) => this.loaded.get(f) ?? displayName(f),
        );
        this.sink.report("A0209", decl.span, { cycle: cycle.join(" → ") });
        continue;
      }
      if (this.loaded.has(target)) continue;
      this.load(target, displayName(target), undefined, decl.span);
    }
    this.stack.pop();
    this.result.asts.push(ast);
  }

  private resolve(
    decl: Extract<FileAst["declarations"][number], { kind: "import" }>,
    importer: string,
  ): string | undefined {
    if (decl.path !== undefined) return path.resolve(path.dirname(importer), decl.path);
    const module = decl.module ?? "";
    const parts = module.split(".");
    const known = stdlibModules();
    if (parts.length === 2 && parts[0] === "std" && known.includes(module))
      return path.join(stdlibDirectory(), `${parts[1]}.arch`);
    this.sink.report("A0211", decl.span, { name: module, hint: suggestionHint(closestName(module, known)) });
    return undefined;
  }
}
