// The human-readable table `archc inspect` prints by default.

import type { InspectReport } from "./inspect.js";

function human(n: number): string {
  const units: [number, string][] = [
    [1e12, "T"],
    [1e9, "G"],
    [1e6, "M"],
    [1e3, "K"],
  ];
  for (const [size, suffix] of units) if (Math.abs(n) >= size) return `${(n / size).toFixed(2)}${suffix}`;
  return Number.isInteger(n) ? String(n) : n.toFixed(2);
}

function bytes(n: number): string {
  const units: [number, string][] = [
    [2 ** 30, "GiB"],
    [2 ** 20, "MiB"],
    [2 ** 10, "KiB"],
  ];
  for (const [size, suffix] of units) if (n >= size) return `${(n / size).toFixed(2)} ${suffix}`;
  return `${n} B`;
}

function table(rows: [string, string][]): string[] {
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`);
}

export function formatInspect(r: InspectReport): string {
  const lines = [
    `model ${r.model} (batch=${r.batch}, seq=${r.seq})`,
    `  residual: ${r.residual}; ${r.sublayers} sublayers`,
    "",
    "parameters",
  ];
  const groups = Object.entries(r.parameters.byGroup).sort(([a], [b]) => a.localeCompare(b));
  lines.push(
    ...table([
      ...groups.map(([g, n]): [string, string] => [g, `${n} (${human(n)})`]),
      ["total", `${r.parameters.total} (${human(r.parameters.total)})`],
    ]),
  );
  const f = r.flopsPerToken;
  lines.push("", "FLOPs per token");
  lines.push(
    ...table([
      ["matmul", human(f.forwardBreakdown.matmul)],
      ["attention (QK, PV)", human(f.forwardBreakdown.attention)],
      ["depth mixing", human(f.forwardBreakdown.attnres)],
      ["forward", human(f.forward)],
      ["training", human(f.training)],
    ]),
  );
  const m = r.activationMemory;
  lines.push(
    "",
    "activation memory",
    ...table([
      ["kept for backward", bytes(m.savedBytes)],
      ["all forward values", bytes(m.forwardBytes)],
    ]),
  );
  if (r.attnres) {
    const a = r.attnres;
    lines.push("", "AttnRes sources");
    lines.push(
      ...table([
        ...a.perSublayer.map((s): [string, string] => [s.sublayer, String(s.sources)]),
        ["final", String(a.final)],
      ]),
    );
    lines.push(`  per sublayer: min ${a.min}, max ${a.max}, mean ${a.mean.toFixed(2)}`);
  }
  lines.push("", "notes", ...r.notes.map((n) => `  - ${n}`));
  return lines.join("\n") + "\n";
}
