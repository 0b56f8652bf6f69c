// Times `archc check` and `archc ir` on a 48-layer model as a user runs them: a fresh Node
// process each time (cold), so start-up and module loading count. Prints a table and JSON.
//   node dist/bench/frontend.js [--runs N] [--file examples/deep48.arch]

import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { parseArgs } from "node:util";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "10" },
    file: { type: "string", default: "examples/deep48.arch" },
  },
});
const runs = Number(values.runs);
const file = values.file!;
const cli = path.join(root, "bin/archc.js");

function timeCommand(args: string[]): number[] {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    const result = spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: "utf8" });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (result.status !== 0) throw new Error(`archc ${args.join(" ")} failed:\n${result.stderr}`);
    times.push(ms);
  }
  return times;
}

function summary(times: number[]) {
  const sorted = [...times].sort((a, b) => a - b);
  return {
    median_ms: sorted[Math.floor(sorted.length / 2)],
    min_ms: sorted[0],
    max_ms: sorted[sorted.length - 1],
  };
}

const baseline = summary(timeCommand(["--version"]));
const rows = [
  { command: "node + archc --version (start-up floor)", ...baseline },
  { command: `archc check ${file}`, ...summary(timeCommand(["check", file])) },
  { command: `archc ir ${file}`, ...summary(timeCommand(["ir", file])) },
];

console.log(`cold runs: ${runs} each, Node ${process.version}, target under 300 ms\n`);
console.log("| command | median ms | min ms | max ms |\n| --- | ---: | ---: | ---: |");
for (const r of rows)
  console.log(
    `| ${r.command} | ${r.median_ms.toFixed(0)} | ${r.min_ms.toFixed(0)} | ${r.max_ms.toFixed(0)} |`,
  );
console.log("\n" + JSON.stringify({ bench: "frontend", runs, node: process.version, rows }, null, 2));
