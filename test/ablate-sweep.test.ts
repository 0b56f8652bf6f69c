// `archc ablate` end to end on the device, at a size the software driver trains in seconds: an
// uninterrupted sweep, the same sweep killed with SIGKILL midway and resumed (nothing finished is
// rerun; the numbers are identical), `archc report` on a copied folder, a diverging variant, and the
// sweep folder's refusals. One device is shared by the in-process sweeps, so pipelines compile once.

import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { planSweep, SweepError, type SweepPlan } from "../ablate/plan.js";
import { buildReport } from "../ablate/report/build.js";
import { runSweep } from "../ablate/sweep.js";
import { loadProgram } from "../compiler/frontend.js";
import type { GpuContext } from "../runtime/device.js";
import { listCheckpoints } from "../runtime/checkpoint.js";
import { runCli } from "./cli-support.js";
import { openRealDevice } from "./gpu-harness.js";

const SOURCE = `import std.transformer

model micro extends gpt {
  context: 16
  dim: 16
  depth: 2
  heads: 2
  kv_heads: 1
  hidden: 2 * dim
}

train micro_run {
  model: micro
  data: "corpus"
  batch: 2
  seq: 16
  steps: 8
  eval_every: 4
  eval_batches: 1
  log_every: 2
  checkpoint_every: 2
  optimizer: adamw(lr = 1e-2)
  schedule: cosine(warmup = 2)
  seed: 5
}

ablation residuals of micro {
  residual: [add, attn]
  seeds: 2
}
`;

let gpu: GpuContext;
let root: string;
let arch: string;

function plan(): SweepPlan {
  const result = loadProgram([arch]);
  expect(result.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return planSweep(result.program, result.program.ablations.get("residuals")!);
}

async function sweep(dir: string, p: SweepPlan = plan(), signal?: AbortSignal) {
  const lines: string[] = [];
  const outcome = await runSweep(p, { file: arch, dir, plain: true, gpu, signal, log: (l) => lines.push(l) });
  return { outcome, lines };
}

/** every number of a report that training decides (not the clock): losses, curves, statuses */
function trainedNumbers(dir: string) {
  return buildReport(dir, { probe: false }).then((r) =>
    r.variants.map((v) => ({
      label: v.label,
      runs: v.runs.map((run) => ({ seed: run.seed, status: run.status, train: run.train, val: run.val })),
      val: v.valLoss,
    })),
  );
}

beforeAll(async () => {
  gpu = await openRealDevice();
  root = mkdtempSync(join(tmpdir(), "archc-sweep-"));
  mkdirSync(join(root, "corpus"));
  const text = Array.from({ length: 400 }, (_, i) => `Line ${i % 23}: the model reads ${i % 7} words.`);
  writeFileSync(join(root, "corpus", "a.txt"), text.join("\n"));
  arch = join(root, "micro.arch");
  writeFileSync(arch, SOURCE);
});

afterAll(() => {
  gpu?.device.destroy();
  rmSync(root, { recursive: true, force: true });
});

describe("archc ablate", () => {
  it("trains every variant and seed into its own run folder, and the report covers them", async () => {
    const dir = join(root, "full");
    const { outcome } = await sweep(dir);
    expect(outcome).toEqual({ outcome: "finished", ran: 4, skipped: 0, diverged: [], failed: [] });
    for (const run of ["1-add/seed-5", "1-add/seed-6", "2-attn/seed-5", "2-attn/seed-6"]) {
      expect(JSON.parse(readFileSync(join(dir, run, "run.json"), "utf8")).status).toBe("finished");
      expect(listCheckpoints(join(dir, run)).at(-1)?.step).toBe(8);
    }
    const report = await buildReport(dir);
    expect(report.variants.map((v) => [v.label, v.valLoss?.n])).toEqual([
      ["add", 2],
      ["attn", 2],
    ]);
    const [add, attn] = report.variants;
    // the same data order and shared initial values, but a different architecture: close, not equal
    expect(attn.valLoss!.mean).not.toBe(add.valLoss!.mean);
    expect(Math.abs(attn.valLoss!.mean - add.valLoss!.mean)).toBeLessThan(0.5);
    expect(attn.delta?.interval).toBeDefined();
    expect(attn.probe?.aggregations.length).toBe(5); // 4 sublayers and the final aggregation
    expect(add.probe?.aggregations).toEqual([]);
    expect(add.probe?.sublayers.length).toBe(4);
    // a rerun finds everything done and trains nothing
    const again = await sweep(dir);
    expect(again.outcome).toMatchObject({ ran: 0, skipped: 4 });
  }, 900_000); // cold: the software driver compiles every pipeline of both variants here

  it("resumes a sweep killed with SIGKILL: finished runs are not rerun, and the numbers are identical", async () => {
    const dir = join(root, "killed");
    const cli = resolve(__dirname, "..", "bin", "archc.js");
    const child = spawn(process.execPath, [cli, "ablate", arch, "--out", dir, "--plain"], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk) => (stderr += String(chunk)));
    // kill it once the third run (attn, seed 5) has saved a checkpoint but has not finished
    const target = join(dir, "2-attn", "seed-5");
    const killedAt = await new Promise<number>((done, fail) => {
      const timer = setInterval(() => {
        const steps = existsSync(target) ? listCheckpoints(target).map((c) => c.step) : [];
        if (steps.length > 0 && !steps.includes(8)) {
          clearInterval(timer);
          child.kill("SIGKILL");
          done(Math.max(...steps));
        }
      }, 2);
      child.on("exit", () => {
        clearInterval(timer);
        fail(new Error(`the sweep ended before it could be killed:\n${stderr}`));
      });
    });
    await new Promise((r) => child.once("exit", r));
    expect(killedAt).toBeGreaterThan(0);
    const finishedBefore = ["1-add/seed-5", "1-add/seed-6"].map(
      (run) => statSync(join(dir, run, "metrics.jsonl")).mtimeMs,
    );
    expect(existsSync(join(dir, "2-attn", "seed-5", "run.json"))).toBe(false);

    const { outcome, lines } = await sweep(dir);
    expect(outcome).toMatchObject({ outcome: "finished", ran: 2, skipped: 2 });
    expect(lines.some((l) => l.includes("2-attn/seed-5/ckpt-"))).toBe(true); // resumed, not restarted
    const finishedAfter = ["1-add/seed-5", "1-add/seed-6"].map(
      (run) => statSync(join(dir, run, "metrics.jsonl")).mtimeMs,
    );
    expect(finishedAfter).toEqual(finishedBefore);
    expect(await trainedNumbers(dir)).toEqual(await trainedNumbers(join(root, "full")));
  }, 900_000); // a second process: its pipelines come from the driver's disk cache, or are compiled again

  it("archc report on a copied sweep folder reproduces report.json exactly", async () => {
    const original = join(root, "full");
    const archcReport = (dir: string) => runCli([import("../cli/report.js")], ["report", dir]);
    const first = await archcReport(original);
    expect(first.exitCode).toBe(0);
    const copy = join(root, "copy");
    cpSync(original, copy, { recursive: true });
    rmSync(join(copy, "report.json"));
    const second = await archcReport(copy);
    expect(second.exitCode).toBe(0);
    expect(readFileSync(join(copy, "report.json"), "utf8")).toBe(
      readFileSync(join(original, "report.json"), "utf8"),
    );
    for (const file of [
      "report.md",
      "report.csv",
      "figures/loss-curves.png",
      "figures/depth-weights-2.png",
      "figures/depth-rms.svg",
    ])
      expect(existsSync(join(copy, file)), file).toBe(true);
  });

  it("records a diverging run as diverged and goes on with the rest", async () => {
    const dir = join(root, "diverging");
    const p = plan();
    const bad = p.runs.find((r) => r.variant.label === "attn" && r.seed === 5)!;
    bad.train = { ...bad.train, optimizer: { ...bad.train.optimizer, lr: 1e30, clip: 0 } };
    const { outcome } = await sweep(dir, p);
    expect(outcome.diverged).toEqual(["attn seed 5"]);
    expect(outcome.ran).toBe(3);
    const report = await buildReport(dir, { probe: false });
    const attn = report.variants.find((v) => v.label === "attn")!;
    expect(attn.diverged).toBe(1);
    expect(attn.valLoss?.n).toBe(1);
    expect(attn.runs.find((r) => r.seed === 5)?.note).toMatch(/became/);
  });

  it("refuses a sweep folder made by another ablation or file, and names damaged files", async () => {
    const otherArch = join(root, "other.arch");
    writeFileSync(otherArch, SOURCE.replace("residuals", "other"));
    const other = loadProgram([otherArch]).program;
    const otherPlan = planSweep(other, other.ablations.get("other")!);
    await expect(
      runSweep(otherPlan, { file: otherArch, dir: join(root, "full"), plain: true, gpu, log: () => {} }),
    ).rejects.toThrow(/holds ablation 'residuals' of .*micro\.arch/);
    await expect(
      runSweep(plan(), { file: arch, dir: join(root, "full"), plain: true, gpu, log: () => {} }),
    ).resolves.toBeDefined();
    const longer = planSweep(
      loadProgram([arch]).program,
      loadProgram([arch]).program.ablations.get("residuals")!,
      { steps: 9 },
    );
    await expect(
      runSweep(longer, { file: arch, dir: join(root, "full"), plain: true, gpu, log: () => {} }),
    ).rejects.toThrow(/training settings differ/);

    const damaged = join(root, "damaged");
    cpSync(join(root, "full"), damaged, { recursive: true });
    writeFileSync(join(damaged, "2-attn", "seed-6", "run.json"), "{ not json");
    await expect(buildReport(damaged)).rejects.toThrow(SweepError);
    await expect(buildReport(damaged)).rejects.toThrow(/seed-6\/run\.json/);
    writeFileSync(join(damaged, "sweep.json"), "[]");
    const cli = await runCli([import("../cli/report.js")], ["report", damaged]);
    expect(cli.exitCode).toBe(1);
    expect(cli.stderr).toMatch(/sweep\.json: it is not an archc sweep manifest/);
    expect(cli.stderr).not.toMatch(/internal error|\n\s+at /);

    // moving the train block in its file, or adding a comment, changes no setting: the sweep continues
    writeFileSync(arch, `// a comment that shifts every line\n${SOURCE}`);
    try {
      const again = await runSweep(plan(), {
        file: arch,
        dir: join(root, "full"),
        plain: true,
        gpu,
        log: () => {},
      });
      expect(again).toMatchObject({ ran: 0, skipped: 4 });
    } finally {
      writeFileSync(arch, SOURCE);
    }

    // one sweep process per folder: a lock held by another live process refuses a second sweep
    const holder = spawn("sleep", ["60"]);
    writeFileSync(join(root, "full", ".lock"), `${holder.pid}\n`);
    try {
      await expect(
        runSweep(plan(), { file: arch, dir: join(root, "full"), plain: true, gpu, log: () => {} }),
      ).rejects.toThrow(/being run by another archc ablate/);
    } finally {
      holder.kill();
      rmSync(join(root, "full", ".lock"));
    }

    // Ctrl-C before a run starts stops the sweep as interrupted, never as finished
    const stopped = new AbortController();
    stopped.abort();
    const interrupted = await runSweep(plan(), {
      file: arch,
      dir: join(root, "stopped"),
      plain: true,
      gpu,
      signal: stopped.signal,
      log: () => {},
    });
    expect(interrupted).toMatchObject({ outcome: "interrupted", ran: 0 });

    // a line torn by a kill, followed by the resumed session's header, is not damage
    const torn = join(root, "torn");
    cpSync(join(root, "full"), torn, { recursive: true });
    const metrics = join(torn, "1-add", "seed-5", "metrics.jsonl");
    writeFileSync(metrics, readFileSync(metrics, "utf8") + '{"type":"st\n{"type":"header","start_step":8}\n');
    expect((await buildReport(torn, { probe: false })).variants[0].valLoss?.n).toBe(2);

    // a run folder that is gone is reported as missing, not guessed at
    const missing = join(root, "missing");
    cpSync(join(root, "full"), missing, { recursive: true });
    rmSync(join(missing, "2-attn", "seed-6"), { recursive: true });
    const report = await buildReport(missing, { probe: false });
    const attn = report.variants.find((v) => v.label === "attn")!;
    expect(attn.runs.find((r) => r.seed === 6)?.status).toBe("missing");
    expect(attn.valLoss?.n).toBe(1);
  });
});
