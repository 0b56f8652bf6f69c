#!/usr/bin/env python3
"""PyTorch's side of `node dist/bench/kernels.js`: the same kernel cases, under the same names where
PyTorch has the same kernel (its attention backward is one call, archc's is two kernels; its
AttnRes rows come twice, eager and torch.compile).

fp32 with TF32 off. Matmuls (nn, and the backward's transposed tn and nt), causal
scaled_dot_product_attention forward and backward (the backward timed as forward+backward minus
forward, reported once against archc's attention_grad_q + attention_grad_kv), the AttnRes
aggregation written in PyTorch (RMS-normed keys with a gain, a softmax over depth, the weighted sum)
forward and backward, eager and torch.compile, and the device's copy bandwidth (`copy_`). FLOPs and
bytes are counted as kernels.ts counts them, so GFLOP/s and GB/s compare directly.

  python3 bench/torch_kernels.py [--size small|gpu] [--device cuda|cpu] [--json OUT]

PyTorch is not a dependency of archc; this script is for machines that have it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any, Callable

torch: Any = None
F: Any = None


def import_torch() -> None:
    """torch, fp32 with TF32 off, as torch_ref.py sets it up"""
    global torch, F
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import torch_ref

    torch_ref.import_torch()
    torch, F = torch_ref.torch, torch_ref.F


def synchronize(device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def time_ms(fn: Callable[[], Any], device, budget_ms: float) -> float:
    """mean ms per call: two warm-up calls, then as many as fit the budget (at most 200), one sync"""
    fn()
    fn()
    synchronize(device)
    start = time.perf_counter()
    fn()
    synchronize(device)
    once = max((time.perf_counter() - start) * 1000, 0.01)
    repeats = max(1, min(200, int(budget_ms / once)))
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    synchronize(device)
    return (time.perf_counter() - start) * 1000 / repeats


def attnres_forward(sources, query, gain, eps: float = 1e-6):
    """sources [S, N, D]: h = sum_i softmax_i(q . (gain * RMSNorm(s_i))) s_i, the kernel's definition"""
    keys = sources * torch.rsqrt(sources.pow(2).mean(-1, keepdim=True) + eps) * gain
    logits = (keys * query).sum(-1)  # [S, N]
    alpha = torch.softmax(logits, dim=0)
    return (alpha.unsqueeze(-1) * sources).sum(0)


def cases(size: str, device) -> list[dict]:
    """each: name, flops, bytes, bound, fn (what is timed); names as kernels.js prints them"""
    gen = torch.Generator(device=device).manual_seed(0)
    randn = lambda *shape: torch.randn(*shape, device=device, generator=gen)  # noqa: E731
    out: list[dict] = []

    def matmul(m: int, k: int, n: int, layout: str = "nn") -> None:
        a = randn(k, m) if layout == "tn" else randn(m, k)
        b = randn(n, k) if layout == "nt" else randn(k, n)
        if layout == "tn":
            fn = lambda: a.t() @ b  # noqa: E731
        elif layout == "nt":
            fn = lambda: a @ b.t()  # noqa: E731
        else:
            fn = lambda: a @ b  # noqa: E731
        suffix = "" if layout == "nn" else f" {layout}"
        out.append(
            dict(
                name=f"matmul {m}x{k}x{n}{suffix}",
                flops=2 * m * n * k,
                bytes=4 * (m * k + k * n + m * n),
                bound="compute",
                fn=fn,
            )
        )

    def attention(batch: int, seq: int, heads: int, hd: int) -> None:
        q, k, v = (randn(batch, heads, seq, hd) for _ in range(3))
        pairs = batch * heads * seq * (seq + 1) // 2
        numel = batch * heads * seq * hd
        out.append(
            dict(
                name=f"attention B{batch} T{seq} H{heads} hd{hd}",
                flops=4 * pairs * hd,
                bytes=16 * numel,
                bound="compute",
                fn=lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True),
            )
        )
        qg, kg, vg = (t.clone().requires_grad_(True) for t in (q, k, v))
        dy = randn(batch, heads, seq, hd)
        y = F.scaled_dot_product_attention(qg, kg, vg, is_causal=True)
        # the backward alone: the graph of one forward, kept, differentiated again and again.
        # archc runs it as two kernels, attention_grad_q and attention_grad_kv (3 + 4 products over
        # the causal pairs): compare their sum with this
        out.append(
            dict(
                name=f"attention backward B{batch} T{seq} H{heads} hd{hd}",
                flops=2 * 7 * pairs * hd,
                bytes=4 * 13 * numel,
                bound="compute",
                fn=lambda: torch.autograd.grad(y, (qg, kg, vg), dy, retain_graph=True),
            )
        )

    def attnres(rows: int, dim: int, sources: int) -> None:
        s = randn(sources, rows, dim)
        q, g = randn(dim) * 0.1, 1 + 0.1 * randn(dim)
        dy = randn(rows, dim)
        sg, qg, gg = (t.clone().requires_grad_(True) for t in (s, q, g))
        for backend in ("eager", "compile"):
            fwd = attnres_forward if backend == "eager" else torch.compile(attnres_forward)
            tag = "" if backend == "eager" else " (torch.compile)"
            out.append(
                dict(
                    name=f"attnres {sources} sources, {rows}x{dim}{tag}",
                    flops=6 * sources * rows * dim,
                    bytes=4 * (sources + 1) * rows * dim,
                    bound="memory",
                    fn=(lambda f: lambda: f(s, q, g))(fwd),
                )
            )

            # the backward alone, over one kept forward graph
            h = fwd(sg, qg, gg)
            out.append(
                dict(
                    name=f"attnres_grad {sources} sources, {rows}x{dim}{tag}",
                    flops=10 * sources * rows * dim,
                    bytes=4 * (2 * sources + 1) * rows * dim,
                    bound="memory",
                    fn=(lambda y: lambda: torch.autograd.grad(y, (sg, qg, gg), dy, retain_graph=True))(h),
                )
            )

    if size == "gpu":
        for layout in ("nn", "tn", "nt"):
            matmul(4096, 4096, 4096, layout)
        attention(8, 1024, 12, 64)
        attnres(8192, 768, 9)
        attnres(8192, 768, 25)
    else:
        matmul(256, 256, 256)
        for layout in ("nn", "tn", "nt"):
            matmul(255, 129, 257, layout)
        attention(1, 128, 4, 32)
        attnres(512, 256, 5)
        attnres(512, 256, 9)
    return out


def copy_gbps(device, nbytes: int, budget_ms: float) -> float:
    src = torch.empty(nbytes // 4, device=device)
    dst = torch.empty_like(src)
    ms = time_ms(lambda: dst.copy_(src), device, budget_ms)
    return 2 * nbytes / ms / 1e6


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", choices=["small", "gpu"], default="small")
    ap.add_argument("--device", default=None, help="cuda (default when available) or cpu")
    ap.add_argument("--json", help="also write the results as JSON here")
    args = ap.parse_args(argv)
    import_torch()
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    budget = 600 if args.size == "small" else 2000
    copy = copy_gbps(device, (256 << 20) if args.size == "gpu" else (16 << 20), budget)
    rows: list[dict] = []
    for c in cases(args.size, device):
        ms = time_ms(c["fn"], device, budget)
        gbps = c["bytes"] / ms / 1e6
        rows.append(
            dict(
                kernel=c["name"],
                ms=round(ms, 4),
                gflops=round(c["flops"] / ms / 1e6, 2),
                gbps=round(gbps, 2),
                bound=c["bound"],
                ofCopy=round(gbps / copy, 4) if c["bound"] == "memory" else None,
            )
        )
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    result = dict(format="torch-kernels", size=args.size, device=name, torch=torch.__version__, copyGbps=copy, kernels=rows)
    print(f"{name} · torch {torch.__version__} · fp32, TF32 off · device copy {copy:.1f} GB/s")
    print(f"{'kernel':<52} {'ms':>9} {'GFLOP/s':>10} {'GB/s':>9}  of copy")
    for r in rows:
        of_copy = "-" if r["ofCopy"] is None else f"{100 * r['ofCopy']:.1f}%"
        print(f"{r['kernel']:<52} {r['ms']:>9.3f} {r['gflops']:>10.2f} {r['gbps']:>9.2f}  {of_copy}")
    text = json.dumps(result, indent=1) + "\n"
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            fh.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
