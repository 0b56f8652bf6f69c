// Times the matmul, attention and AttnRes kernels on the current adapter and prints a table and
// JSON: achieved GFLOP/s or GB/s, and beside each the floor time (FLOPs / peak, bytes / bandwidth).
// Peak FLOP/s is a datasheet figure for known GPUs, a nominal AVX2 figure for software adapters
// (cores x 8 lanes x 2 FMA units x 2 FLOPs x clock), or --peak-gflops; bandwidth is measured here
// with a streaming kernel unless --peak-gbps is given.
//
//   node dist/bench/kernels.js [--size small|large] [--peak-gflops N] [--peak-gbps N]

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

function matmulCase(m: number, k: number, n: number): Case {
  const b = new GraphBuilder(`matmul_${m}x${k}x${n}`);
  const a = b.input("a", "f32", [m, k]);
  const w = b.input("b", "f32", [k, n]);
  b.output("out", b.op("matmul", [a, w], { ta: false, tb: false }));
  return {
    name: `matmul ${m}x${k}x${n}`,
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

const large = flag("--size") === "large";
await withDevice(async (gpu) => {
  const d = gpu.description;
  const budgetMs = large ? 2000 : 600;
  const stream = streamCase(large ? 1 << 24 : 1 << 20);
  const streamMs = await timeCase(gpu.device, stream, budgetMs);
  const measuredGbps = stream.bytes / streamMs / 1e6;
  const sheet = datasheetPeak(d);
  const peakGflops = Number(flag("--peak-gflops") ?? sheet?.gflops ?? nominalCpuGflops());
  const peakGbps = Number(flag("--peak-gbps") ?? sheet?.gbps ?? measuredGbps);
  const cases = large
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
        attentionCase(1, 128, 4, 32),
        attnresCase(512, 256, 5),
        attnresCase(512, 256, 9),
      ];
  const rows = [];
  for (const c of cases) {
    const ms = await timeCase(gpu.device, c, budgetMs);
    const floorMs = c.bound === "compute" ? c.flops / (peakGflops * 1e6) : c.bytes / (peakGbps * 1e6);
    rows.push({
      kernel: c.name,
      ms: Number(ms.toFixed(3)),
      gflops: Number((c.flops / ms / 1e6).toFixed(2)),
      gbps: Number((c.bytes / ms / 1e6).toFixed(2)),
      bound: c.bound,
      floorMs: Number(floorMs.toFixed(4)),
      ofFloor: Number((floorMs / ms).toFixed(4)),
    });
  }
  const header = `${d.name} (${d.software ? "software" : "hardware"}); peak ${peakGflops.toFixed(0)} GFLOP/s (${flag("--peak-gflops") ? "flag" : sheet ? "datasheet" : "nominal AVX2"}), bandwidth ${peakGbps.toFixed(1)} GB/s (${flag("--peak-gbps") ? "flag" : sheet ? "datasheet" : "measured stream"})`;
  process.stdout.write(`${header}\n`);
  process.stdout.write(
    `${"kernel".padEnd(36)} ${"ms".padStart(9)} ${"GFLOP/s".padStart(9)} ${"GB/s".padStart(8)}  floor (bound)          achieved/floor\n`,
  );
  for (const r of rows)
    process.stdout.write(
      `${r.kernel.padEnd(36)} ${r.ms.toFixed(3).padStart(9)} ${r.gflops.toFixed(2).padStart(9)} ${r.gbps.toFixed(2).padStart(8)}  ${r.floorMs.toFixed(4).padStart(8)} ms (${r.bound.padEnd(7)})  ${(r.ofFloor * 100).toFixed(1)}%\n`,
    );
  process.stdout.write(
    JSON.stringify({
      device: d.name,
      software: d.software,
      peakGflops,
      peakGbps,
      measuredStreamGbps: measuredGbps,
      kernels: rows,
    }) + "\n",
  );
});
