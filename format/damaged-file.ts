// Damaged or missing input files (checkpoints, state.json, `latest`, .archx, safetensors): a user
// error, reported as `archc: <path>: <what>; <hint>` with no stack trace. Every file reader in
// runtime/ throws this class (runtime/ cannot import cli/, so it lives here and cli/common.ts
// recognises it).

import { readFileSync } from "node:fs";

export class DamagedFileError extends Error {
  constructor(
    /** the file (or directory) at fault, as the user named it */
    readonly path: string,
    /** what is wrong with it */
    readonly what: string,
    /** what to do about it */
    readonly hint?: string,
  ) {
    super(`${path}: ${what}${hint ? `; ${hint}` : ""}`);
    this.name = "DamagedFileError";
  }
}

const FS_PROBLEMS: Record<string, string> = {
  ENOENT: "does not exist",
  EISDIR: "is a directory, not a file",
  ENOTDIR: "is not inside a directory (a part of the path is a file)",
  EACCES: "cannot be read (permission denied)",
  EPERM: "cannot be read (operation not permitted)",
  ELOOP: "is a symbolic link loop",
  ENAMETOOLONG: "has a name that is too long",
};

/** A Node fs error on a user's path as a DamagedFileError; other errors are returned as they are. */
export function fsFailure(path: string, err: unknown, hint?: string): unknown {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === "string" && code in FS_PROBLEMS)
    return new DamagedFileError(path, FS_PROBLEMS[code], hint);
  if (typeof code === "string" && code.startsWith("E"))
    return new DamagedFileError(path, `cannot be read (${code})`, hint);
  return err;
}

/** readFileSync, with fs errors on `path` turned into DamagedFileErrors. */
export function readUserFile(path: string, hint?: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw fsFailure(path, err, hint);
  }
}

/** Decodes UTF-8 strictly: invalid bytes are damage, not U+FFFD. */
export function decodeUtf8(path: string, bytes: Uint8Array, what = "file"): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new DamagedFileError(path, `the ${what} is not valid UTF-8 text`);
  }
}

/**
 * JSON.parse, refusing what it would silently accept: a key that appears twice in one object
 * (JSON.parse keeps the last one). Errors name `path`.
 */
export function parseJsonStrict(path: string, text: string, what = "file", hint?: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new DamagedFileError(path, `the ${what} is not valid JSON (${(err as Error).message})`, hint);
  }
  const duplicate = duplicateKey(text);
  if (duplicate !== undefined)
    throw new DamagedFileError(
      path,
      `the ${what} has the key ${JSON.stringify(duplicate)} twice in one object`,
      hint,
    );
  return value;
}

/**
 * The first key that occurs twice in one object of `text`, which must be valid JSON; undefined if
 * none. A linear scan: strings are skipped as tokens, objects and arrays tracked on a stack.
 */
export function duplicateKey(text: string): string | undefined {
  const stack: { keys?: Set<string>; expectKey: boolean }[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      let j = i + 1;
      while (text.charCodeAt(j) !== 0x22) j += text.charCodeAt(j) === 0x5c /* \ */ ? 2 : 1;
      const top = stack.at(-1);
      if (top?.keys && top.expectKey) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (top.keys.has(key)) return key;
        top.keys.add(key);
        top.expectKey = false;
      }
      i = j;
    } else if (c === 0x7b /* { */) stack.push({ keys: new Set(), expectKey: true });
    else if (c === 0x5b /* [ */) stack.push({ expectKey: false });
    else if (c === 0x7d /* } */ || c === 0x5d /* ] */) stack.pop();
    else if (c === 0x2c /* , */) {
      const top = stack.at(-1);
      if (top?.keys) top.expectKey = true;
    }
  }
  return undefined;
}

/** A short printable rendering of a JSON value for messages. */
export function show(value: unknown): string {
  if (value === undefined) return "nothing";
  let text: string;
  try {
    text = typeof value === "number" && !Number.isFinite(value) ? String(value) : JSON.stringify(value);
  } catch {
    text = String(value);
  }
  return text.length > 60 ? text.slice(0, 57) + "..." : text;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function isWholeNumber(value: unknown, min = 0): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= min;
}
