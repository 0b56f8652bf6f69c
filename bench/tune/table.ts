// `archc tune`'s table: per shape class, every variant's time, its ratio to the default and its
// check against the float64 reference; `*` marks the variant the tuning file keeps.

import { TOLERANCE } from "./measure.js";
import type { TuneResult } from "./run-tune.js";

export function formatTune(result: TuneResult): string {
  const a = result.adapter;
  const lines = [
    `${a.name} (${a.software ? "software" : "hardware"}) · ${result.method}, ${result.repeats} dispatches x 3 rounds, median · ${result.seconds.toFixed(1)} s`,
    `check: relative error against the float64 reference <= ${TOLERANCE}; * the variant kept`,
  ];
  for (const c of result.classes) {
    const checked = c.checkedOn === c.probe ? "" : `, checked on ${c.checkedOn}`;
    lines.push(
      "",
      `${c.op} ${c.shapeClass} · ${c.nodes} node${c.nodes === 1 ? "" : "s"} · probe ${c.probe}${checked}`,
    );
    const defaultMs = c.variants.find((v) => v.variant === c.defaultVariant)?.ms;
    for (const v of c.variants) {
      const mark = v.variant === c.chosen ? "*" : " ";
      const ms = v.ms === undefined ? "-" : `${v.ms.toFixed(4)} ms`;
      const ratio = v.ms === undefined || defaultMs === undefined ? "-" : (v.ms / defaultMs).toFixed(2);
      const check = v.passed
        ? `ok (error ${v.error.toExponential(1)})`
        : v.problem
          ? `refused: ${v.problem}`
          : `refused: error ${v.error.toExponential(1)}`;
      const role = v.variant === c.defaultVariant ? "  default" : "";
      lines.push(
        `  ${mark} ${v.variant.padEnd(14)} ${ms.padStart(12)} ${ratio.padStart(6)}  ${check}${role}`,
      );
    }
  }
  return lines.join("\n") + "\n";
}
