// Flag values shared by the commands: a bad value is bad usage (exit 2), said with the flag's name.

import { EXIT, UserError } from "./common.js";

/** an optional whole-number flag, at least `min` */
export function integerFlag(value: string | undefined, flag: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min)
    throw new UserError(`${flag} must be an integer >= ${min}, got '${value}'`, EXIT.usage);
  return n;
}
