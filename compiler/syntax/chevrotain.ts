// Chevrotain, loaded from its single-file bundle: the package's default entry is hundreds of
// small modules, which costs most of a second at start-up, and `archc check` must start fast.
// The bundle is the same code, so the types come from the package itself.

import { createRequire } from "node:module";
import path from "node:path";
import { existsSync } from "node:fs";
import { pathToFileURL } from "node:url";

type Chevrotain = typeof import("chevrotain");

async function loadChevrotain(): Promise<Chevrotain> {
  const entry = createRequire(import.meta.url).resolve("chevrotain");
  const bundle = path.join(path.dirname(entry), "..", "chevrotain.min.mjs");
  if (existsSync(bundle)) return (await import(pathToFileURL(bundle).href)) as Chevrotain;
  return import("chevrotain");
}

export const chevrotain: Chevrotain = await loadChevrotain();
