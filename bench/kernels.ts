// Times the matmul, attention and AttnRes kernels on the current adapter and prints a table and
// JSON: achieved GFLOP/s or GB/s, and beside each the floor time (FLOPs / peak, bytes / bandwidth).
// Peak FLOP/s is a datasheet figure for known GPUs, a nominal AVX2 figure for software adapters
// (cores x 8 lanes x 2 FMA units x 2 FLOPs x clock), or --peak-gflops; bandwidth is measured here
// with a streaming kernel unless --peak-gbps is given.
//
//   node dist/bench/kernels.js [--size small|large|gpu] [--peak-gflops N] [--peak-gbps N] [--json OUT]
//
// --size gpu takes issue 11's target shapes: matmul 4096^3 as the forward (nn) and the backward's
// transposed products (tn: a transposed, nt: b transposed); attention at GPT-2-small shape (B8
// T1024 H12 hd64), forward and both backward kernels; the AttnRes aggregation over 8192 tokens x
// 768 with 9 sources (Block N=8) and 25 (Full, 12 layers), forward and backward.
// bench/torch_kernels.py times PyTorch on the same cases, under the same names where PyTorch has
// the same kernel (its attention backward is one call: compare it with attention_grad_q + _kv). Every size also measures the
// device's copy bandwidth (copyBufferToBuffer), the yardstick of the memory-bound kernels: their
// "of copy" column is (bytes they must move / their time) over it.

import { writeFileSync } from "node:fs";
import { GraphBuilder } from "../compiler/ir/builder.js";
import type { Graph } from "../compiler/ir/ir.js";
import { numel } from "../compiler/ir/ir.js";
import { compileGraph } from "../compiler/compile.js";
import { withDevice } from "../runtime/device.js";
import { Executor } from "../runtime/executor.js";
import { datasheetPeak, nominalCpuGflops } from "./peak.js";

interface Case {
  name: string;
  graph: Graph;
  flops: number;
  bytes: number;
  /** which roofline bounds it: compute or memory */
  bound: "compute" | "memory";
}

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function matmulCase(m: number, k: number, n: number, layout: "nn" | "tn" | "nt" = "nn"): Case {
  const ta = layout === "tn";
  const tb = layout === "nt";
  const b = new GraphBuilder(`matmul_${m}x${k}x${n}_${layout}`);
  const a = b.input("a", "f32", ta ? [k, m] : [m, k]);
  const w = b.input("b", "f32", tb ? [n, k] : [k, n]);
  b.output("out", b.op("matmul", [a, w], { ta, tb }));
  return {
    name: `matmul ${m}x${k}x${n}${layout === "nn" ? "" : ` ${layout}`}`,
    graph: b.graph,
    flops: 2 * m * n * k,
    bytes: 4 * (m * k + k * n + m * n),
    bound: "compute",
  };
}

function attentionCase(batch: number, seq: number, heads: number, headDim: number): Case {
  const b = new GraphBuilder(`attention_${seq}`);
  const shape = [batch, seq, heads * headDim];
  const [q, k, v] = ["q", "k", "v"].map((n) => b.input(n, "f32", shape));
  b.output("out", b.op("attention", [q, k, v], { heads, kv_heads: heads, head_dim: headDim }));
  const pairs = (batch * heads * seq * (seq + 1)) / 2; // causal (query, key) pairs
  return {
    name: `attention B${batch} T${seq} H${heads} hd${headDim}`,
    graph: b.graph,
    flops: 4 * pairs * headDim,
    bytes: 4 * 4 * numel(shape),
    bound: "compute",
  };
}

/** attention's backward kernels: dq, or dk and dv packed; FLOPs of the products each computes */
function attentionBackwardCase(
  which: "attention_grad_q" | "attention_grad_kv",
  batch: number,
  seq: number,
  heads: number,
  headDim: number,
): Case {
  const b = new GraphBuilder(which);
  const shape = [batch, seq, heads * headDim];
  const operands = ["q", "k", "v", "o", "dy"].map((n) => b.input(n, "f32", shape));
  b.output("out", b.op(which, operands, { heads, kv_heads: heads, head_dim: headDim }));
  const pairs = (batch * heads * seq * (seq + 1)) / 2;
  // dq: P recomputed (q·k), dy·v, dS·k; dk, dv: P recomputed, dy·v, P^T dy, dS^T q
  const products = which === "attention_grad_q" ? 3 : 4;
  return {
    name: `${which} B${batch} T${seq} H${heads} hd${headDim}`,
    graph: b.graph,
    flops: 2 * products * pairs * headDim,
    bytes: 4 * (5 + (which === "attention_grad_q" ? 1 : 2)) * numel(shape),
    bound: "compute",
  };
}

/** the aggregation's backward: every source's gradient (and per-token query and gain terms) in one pass */
function attnresBackwardCase(rows: number, dim: number, sources: number): Case {
  const b = new GraphBuilder(`attnres_grad_${sources}`);
  const inputs = Array.from({ length: sources }, (_, i) => b.input(`s${i}`, "f32", [1, rows, dim]));
  const query = b.input("query", "f32", [dim]);
  const gain = b.input("gain", "f32", [dim]);
  const dy = b.input("dy", "f32", [1, rows, dim]);
  b.output(
    "out",
    b.op("attnres_grad_sources", [...inputs, query, gain, dy], {
      sources,
      score: "softmax",
      key_norm: true,
      eps: 1e-6,
      accumulate: false,
    }),
  );
  return {
    name: `attnres_grad ${sources} sources, ${rows}x${dim}`,
    graph: b.graph,
    flops: 10 * sources * rows * dim,
    // what it must move: read every source and dy, write every source's gradient (the per-token
    // query and gain terms it also writes are overhead, not counted)
    bytes: 4 * (2 * sources + 1) * rows * dim,
    bound: "memory",
  };
}

function attnresCase(rows: number, dim: number, sources: number): Case {
  const b = new GraphBuilder(`attnres_${sources}`);
  const inputs = Array.from({ length: sources }, (_, i) => b.input(`s${i}`, "f32", [1, rows, dim]));
  const query = b.input("query", "f32", [dim]);
  const gain = b.input("gain", "f32", [dim]);
  b.output(
    "out",
    b.op("attnres", [...inputs, query, gain], { sources, score: "softmax", key_norm: true, eps: 1e-6 }),
  );
  // per source element: square, multiply-add into the logit, rescale and accumulate
  return {
    name: `attnres ${sources} sources, ${rows}x${dim}`,
    graph: b.graph,
    flops: 6 * sources * rows * dim,
    bytes: 4 * (sources + 1) * rows * dim,
    bound: "memory",
  };
}

function streamCase(elements: number): Case {
  const b = new GraphBuilder("stream");
  const x = b.input("x", "f32", [elements]);
  b.output("out", b.op("scale", [x], { factor: 2 }));
  return {
    name: `stream ${elements} floats`,
    graph: b.graph,
    flops: elements,
    bytes: 8 * elements,
    bound: "memory",
  };
}

async function timeCase(device: GPUDevice, c: Case, budgetMs: number): Promise<number> {
  const executor = await Executor.create(device, compileGraph(c.graph));
  try {
    const feeds: Record<string, Float32Array> = {};
    for (const input of executor.exe.inputs)
      feeds[input.name] = Float32Array.from({ length: numel(input.shape) }, (_, i) => Math.sin(i + 1));
    await executor.run(feeds, ["out"]); // warm-up: uploads and the driver's shader compilation
    const probeStart = performance.now();
    await executor.runRepeated(1);
    const once = Math.max(performance.now() - probeStart, 0.01);
    const repeats = Math.max(1, Math.min(200, Math.floor(budgetMs / once)));
    const start = performance.now();
    await executor.runRepeated(repeats);
    return (performance.now() - start) / repeats;
  } finally {
    executor.destroy();
  }
}

/** GB/s of copyBufferToBuffer over `bytes`: the device's own copy, no kernel of ours */
async function copyGbps(device: GPUDevice, bytes: number, budgetMs: number): Promise<number> {
  const usage = GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
  const from = device.createBuffer({ size: bytes, usage });
  const to = device.createBuffer({ size: bytes, usage });
  try {
    const copies = async (n: number) => {
      const encoder = device.createCommandEncoder();
      for (let i = 0; i < n; i++) encoder.copyBufferToBuffer(from, 0, to, 0, bytes);
      const start = performance.now();
      device.queue.submit([encoder.finish()]);
      await device.queue.onSubmittedWorkDone();
      return performance.now() - start;
    };
    const once = Math.max(await copies(1), 0.01);
    const n = Math.max(1, Math.min(200, Math.floor(budgetMs / once)));
    // a copy reads and writes every byte
    return (2 * bytes * n) / (await copies(n)) / 1e6;
  } finally {
    from.destroy();
    to.destroy();
  }
}

const size = flag("--size") ?? "small";
if (!["small", "large", "gpu"].includes(size))
  throw new Error(`--size must be small, large or gpu, got ${size}`);
await withDevice(async (gpu) => {
  const d = gpu.description;
  const budgetMs = size === "small" ? 600 : 2000;
  const stream = streamCase(size === "small" ? 1 << 20 : 1 << 24);
  const streamMs = await timeCase(gpu.device, stream, budgetMs);
  const measuredGbps = stream.bytes / streamMs / 1e6;
  const copy = await copyGbps(gpu.device, size === "gpu" ? 256 << 20 : 16 << 20, budgetMs);
  const sheet = datasheetPeak(d);
  const peakGflops = Number(flag("--peak-gflops") ?? sheet?.gflops ?? nominalCpuGflops());
  const peakGbps = Number(flag("--peak-gbps") ?? sheet?.gbps ?? measuredGbps);
  const cases =
    size === "gpu"
      ? [
          matmulCase(4096, 4096, 4096),
          matmulCase(4096, 4096, 4096, "tn"),
          matmulCase(4096, 4096, 4096, "nt"),
          attentionCase(8, 1024, 12, 64),
          attentionBackwardCase("attention_grad_q", 8, 1024, 12, 64),
          attentionBackwardCase("attention_grad_kv", 8, 1024, 12, 64),
          attnresCase(8192, 768, 9),
          attnresBackwardCase(8192, 768, 9),
          attnresCase(8192, 768, 25),
          attnresBackwardCase(8192, 768, 25),
        ]
      : size === "large"
        ? [
            matmulCase(2048, 2048, 2048),
            matmulCase(4096, 4096, 4096),
            attentionCase(4, 1024, 16, 64),
            attnresCase(8192, 1024, 9),
            attnresCase(8192, 1024, 33),
          ]
        : [
            matmulCase(256, 256, 256),
            matmulCase(255, 129, 257),
            matmulCase(255, 129, 257, "tn"),
            matmulCase(255, 129, 257, "nt"),
            attentionCase(1, 128, 4, 32),
            attentionBackwardCase("attention_grad_q", 1, 128, 4, 32),
            attentionBackwardCase("attention_grad_kv", 1, 128, 4, 32),
            attnresCase(512, 256, 5),
            attnresBackwardCase(512, 256, 5),
            attnresCase(512, 256, 9),
          ];
  const rows = [];
  for (const c of cases) {
    const ms = await timeCase(gpu.device, c, budgetMs);
    const floorMs = c.bound === "compute" ? c.flops / (peakGflops * 1e6) : c.bytes / (peakGbps * 1e6);
    const gbps = c.bytes / ms / 1e6;
    rows.push({
      kernel: c.name,
      ms: Number(ms.toFixed(3)),
      gflops: Number((c.flops / ms / 1e6).toFixed(2)),
      gbps: Number(gbps.toFixed(2)),
      bound: c.bound,
      floorMs: Number(floorMs.toFixed(4)),
      ofFloor: Number((floorMs / ms).toFixed(4)),
      ofCopy: c.bound === "memory" ? Number((gbps / copy).toFixed(4)) : null,
    });
  }
  const header = `${d.name} (${d.software ? "software" : "hardware"}); peak ${peakGflops.toFixed(0)} GFLOP/s (${flag("--peak-gflops") ? "flag" : sheet ? "datasheet" : "nominal AVX2"}), bandwidth ${peakGbps.toFixed(1)} GB/s (${flag("--peak-gbps") ? "flag" : sheet ? "datasheet" : "measured stream"}), device copy ${copy.toFixed(1)} GB/s`;
  process.stdout.write(`${header}\n`);
  process.stdout.write(
    `${"kernel".padEnd(44)} ${"ms".padStart(9)} ${"GFLOP/s".padStart(9)} ${"GB/s".padStart(8)}  floor (bound)          achieved/floor  of copy\n`,
  );
  for (const r of rows)
    process.stdout.write(
      `${r.kernel.padEnd(44)} ${r.ms.toFixed(3).padStart(9)} ${r.gflops.toFixed(2).padStart(9)} ${r.gbps.toFixed(2).padStart(8)}  ${r.floorMs.toFixed(4).padStart(8)} ms (${r.bound.padEnd(7)})  ${(r.ofFloor * 100).toFixed(1).padStart(13)}%  ${r.ofCopy === null ? "-" : `${(r.ofCopy * 100).toFixed(1)}%`}\n`,
    );
  const json = JSON.stringify({
    format: "archc-kernels",
    size,
    device: d.name,
    driver: d.driver,
    software: d.software,
    peakGflops,
    peakGbps,
    measuredStreamGbps: measuredGbps,
    copyGbps: copy,
    kernels: rows,
  });
  process.stdout.write(json + "\n");
  const out = flag("--json");
  if (out) writeFileSync(out, json + "\n");
});
