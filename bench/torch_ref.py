#!/usr/bin/env python3
"""PyTorch fp32 reference for `archc bench`: the same models, the same training step, the same table.

The model follows grammar.md's "Semantics of a model" (RMSNorm or LayerNorm, RoPE pairing
(i, i + hd/2), grouped-query causal attention, SwiGLU or tanh-GELU MLPs, tied or untied head, and
the residual kinds add / Full AttnRes / Block AttnRes with their switches), with parameters under
archc's IR names (docs/checkpoints.md), and AdamW as runtime/optim/adamw.ts does it: global-norm
clipping by min(1, clip / norm), bias-corrected moments, decoupled weight decay on matrices and
embeddings only. fp32 throughout, TF32 off.

Models come from `archc bench FILE [--compare ...] --print-spec` (run for you when given .arch
files) or from a JSON file holding that output or a checkpoint's state.json.

  python3 bench/torch_ref.py bench/models/tiny.arch --compare bench/models/tiny-full.arch \\
      --backend eager --device cuda --json out.json
  python3 bench/torch_ref.py --check-logits eval.safetensors --checkpoint runs/x/ckpt-100

--check-logits compares torch's logits for the token windows of an `archc eval CKPT --tokens ...
--out eval.safetensors` file with the logits archc wrote there, the parameters read from the
checkpoint's model.safetensors: both sides run the same parameters on the same tokens.

PyTorch is not a dependency of archc; this script imports it only when it runs a model.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import struct
import subprocess
import sys
import time
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

torch: Any = None
F: Any = None


def import_torch() -> None:
    global torch, F
    if torch is not None:
        return
    try:
        import torch as _torch
        import torch.nn.functional as _F
    except ImportError:
        sys.exit("torch_ref.py: PyTorch is not installed (pip install torch); archc itself does not need it")
    torch, F = _torch, _F
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.set_float32_matmul_precision("highest")


# ------------------------------------------------------------------------------------------------
# The model spec (archc's checked ModelSpec as JSON)


def sublayer_scopes(model: dict) -> list[tuple[int, str, dict]]:
    """(layer, scope, sublayer spec): scopes as the lowering names them (layers.0.attn, layers.0.mlp1, ...)"""
    out = []
    for li, layer in enumerate(model["layers"]):
        seen: dict[str, int] = {}
        for spec in layer["sublayers"]:
            kind = "attn" if spec["kind"] == "attention" else "mlp"
            repeat = seen.get(kind, 0)
            seen[kind] = repeat + 1
            out.append((li, f"layers.{li}.{kind}{'' if repeat == 0 else repeat}", spec))
    return out


def block_sizes(layers: int, blocks: int) -> list[int]:
    base, extra = divmod(layers, blocks)
    return [base + (1 if i < extra else 0) for i in range(blocks)]


ATTNRES_EPS = 1e-6  # compiler/ir/lower/aggregate.ts


def make_model_class():
    nn = torch.nn

    class ArchModel(nn.Module):
        """one archc model; parameters are held in order under their IR names"""

        def __init__(self, model: dict, params: dict[str, Any]):
            super().__init__()
            self.spec = model
            self.names = list(params.keys())
            self.plist = nn.ParameterList([nn.Parameter(t) for t in params.values()])
            self.index = {n: i for i, n in enumerate(self.names)}
            self.sublayers = sublayer_scopes(model)
            self._rope: dict[tuple, tuple] = {}

        def p(self, name: str):
            return self.plist[self.index[name]]

        def named(self):
            return [(n, self.plist[i]) for i, n in enumerate(self.names)]

        # -- building blocks -----------------------------------------------------------------
        def norm(self, h, scope: str):
            n = self.spec["norm"]
            gain = self.p(f"{scope}.norm.gain")
            if n["kind"] == "rmsnorm":
                return h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + n["eps"]) * gain
            return F.layer_norm(h, (h.shape[-1],), gain, self.p(f"{scope}.norm.bias"), n["eps"])

        def rope_tables(self, t: int, hd: int, device):
            key = (t, hd, str(device))
            if key not in self._rope:
                theta = self.spec["position"]["theta"]
                half = hd // 2
                i = torch.arange(half, dtype=torch.float64, device=device)
                freq = torch.pow(torch.tensor(theta, dtype=torch.float64, device=device), -2.0 * i / hd)
                angle = torch.arange(t, dtype=torch.float64, device=device)[:, None] * freq[None, :]
                self._rope[key] = (torch.cos(angle).float(), torch.sin(angle).float())
            return self._rope[key]

        def rope(self, x):  # x: [B, H, T, hd]; pairs (i, i + hd/2)
            hd = x.shape[-1]
            cos, sin = self.rope_tables(x.shape[-2], hd, x.device)
            a, b = x[..., : hd // 2], x[..., hd // 2 :]
            return torch.cat((a * cos - b * sin, a * sin + b * cos), dim=-1)

        def attention(self, n, scope: str, spec: dict):
            bsz, t, _ = n.shape
            heads, kv_heads, hd = spec["heads"], spec["kvHeads"], spec["headDim"]
            q = (n @ self.p(f"{scope}.wq")).view(bsz, t, heads, hd).transpose(1, 2)
            k = (n @ self.p(f"{scope}.wk")).view(bsz, t, kv_heads, hd).transpose(1, 2)
            v = (n @ self.p(f"{scope}.wv")).view(bsz, t, kv_heads, hd).transpose(1, 2)
            if self.spec["position"]["kind"] == "rope":
                q, k = self.rope(q), self.rope(k)
            if kv_heads != heads:  # query head h reads kv head floor(h / (heads / kv_heads))
                group = heads // kv_heads
                k = k.repeat_interleave(group, dim=1)
                v = v.repeat_interleave(group, dim=1)
            o = F.scaled_dot_product_attention(q, k, v, is_causal=True)  # scale 1/sqrt(hd)
            return o.transpose(1, 2).reshape(bsz, t, heads * hd) @ self.p(f"{scope}.wo")

        def mlp(self, n, scope: str, spec: dict):
            if spec["mlp"] == "gelu":
                hidden = F.gelu(n @ self.p(f"{scope}.w1"), approximate="tanh")
            else:
                hidden = F.silu(n @ self.p(f"{scope}.wg")) * (n @ self.p(f"{scope}.wu"))
            return hidden @ self.p(f"{scope}.w2")

        def branch(self, h, scope: str, spec: dict):
            n = self.norm(h, scope)
            return self.attention(n, scope, spec) if spec["kind"] == "attention" else self.mlp(n, scope, spec)

        def aggregate(self, sources: list, scope: str):
            """AttnRes over depth: h = sum_i alpha_i v_i"""
            r = self.spec["residual"]
            values = torch.stack(sources)  # [S, B, T, d]
            if r["weights"] == "static":
                logits = self.p(f"{scope}.res.logits").view(-1, 1, 1, 1)
            else:
                if r["query"] == "projected":
                    query = sources[-1] @ self.p(f"{scope}.res.proj")  # [B, T, d]
                else:
                    query = self.p(f"{scope}.res.query")
                keys = values
                if r["keyNorm"]:
                    keys = values * torch.rsqrt(values.pow(2).mean(-1, keepdim=True) + ATTNRES_EPS)
                    keys = keys * self.p(f"{scope}.res.key_gain")
                logits = (keys * query).sum(-1, keepdim=True)  # [S, B, T, 1]
            alpha = torch.softmax(logits, dim=0) if r["score"] == "softmax" else torch.sigmoid(logits)
            return (alpha * values).sum(0)

        # -- the model -----------------------------------------------------------------------
        def logits(self, tokens):
            m = self.spec
            table = self.p("embed.tokens")
            x0 = table[tokens]
            if m["position"]["kind"] == "learned":
                x0 = x0 + self.p("embed.positions")[: tokens.shape[1]]
            r = m["residual"]
            if r["kind"] == "add":
                h = x0
                for _, scope, spec in self.sublayers:
                    h = h + self.branch(h, scope, spec)
                last = h
            elif r["blocks"] is None:
                sources = [x0]
                for _, scope, spec in self.sublayers:
                    sources.append(self.branch(self.aggregate(sources, scope), scope, spec))
                last = self.aggregate(sources, "final")
            else:
                sizes = block_sizes(len(m["layers"]), r["blocks"])
                ends = [sum(sizes[: i + 1]) for i in range(len(sizes))]
                completed, partial, block = [x0], None, 0

                def close_blocks_before(layer: int):
                    nonlocal partial, block
                    while block < len(ends) and layer >= ends[block]:
                        if partial is not None:  # a block without sublayers adds no source
                            completed.append(partial)
                        partial = None
                        block += 1

                for layer, scope, spec in self.sublayers:
                    close_blocks_before(layer)
                    srcs = completed if partial is None else completed + [partial]
                    out = self.branch(self.aggregate(srcs, scope), scope, spec)
                    partial = out if partial is None else partial + out
                close_blocks_before(len(m["layers"]))
                last = self.aggregate(completed, "final")
            n = self.norm(last, "final")
            return n @ table.t() if m["tied"] else n @ self.p("head.w")

        def forward(self, tokens, targets):
            logits = self.logits(tokens)
            return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))

    return ArchModel


def init_params(param_specs: list[dict], seed: int, device) -> dict[str, Any]:
    """grammar.md's initialisation: N(0, std^2), zeros or ones (the values differ from archc's RNG)"""
    gen = torch.Generator(device="cpu").manual_seed(seed)
    out = {}
    for p in param_specs:
        shape, init = p["shape"], p["init"]
        if init["kind"] == "normal":
            t = torch.randn(shape, generator=gen, dtype=torch.float32) * init["std"]
        elif init["kind"] == "ones":
            t = torch.ones(shape, dtype=torch.float32)
        else:
            t = torch.zeros(shape, dtype=torch.float32)
        out[p["name"]] = t.to(device)
    return out


# ------------------------------------------------------------------------------------------------
# Training step: forward, backward, clipping and AdamW as archc does them


class Trainer:
    def __init__(self, label: str, model_spec: dict, param_specs: list[dict], train: dict, device, backend: str, flops: dict | None):
        ArchModel = make_model_class()
        self.label = label
        self.spec = model_spec
        self.device = device
        self.module = ArchModel(model_spec, init_params(param_specs, train["seed"], device))
        decay = {p["name"]: p["decay"] for p in param_specs}
        opt = train["optimizer"]
        self.clip = opt["clip"]
        groups = [
            {"params": [t for n, t in self.module.named() if decay[n]], "weight_decay": opt["weightDecay"]},
            {"params": [t for n, t in self.module.named() if not decay[n]], "weight_decay": 0.0},
        ]
        groups = [g for g in groups if g["params"]]
        extra = {"fused": True} if device.type == "cuda" else {}
        self.optimizer = torch.optim.AdamW(
            groups, lr=opt["lr"], betas=(opt["beta1"], opt["beta2"]), eps=opt["eps"], **extra
        )
        self.forward = torch.compile(self.module) if backend == "compile" else self.module
        self.parameters = sum(t.numel() for _, t in self.module.named())
        self.flops = flops
        self.round_ms: list[float] = []
        self.first_step_ms = math.nan

    def clip_grads(self):
        if self.clip <= 0:
            return
        grads = [t.grad for _, t in self.module.named() if t.grad is not None]
        norm = torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)))
        scale = torch.clamp(self.clip / norm, max=1.0)  # min(1, clip / norm)
        torch._foreach_mul_(grads, scale)

    def train_step(self, tokens, targets, marks=None):
        mark = marks or (lambda i: None)
        mark(0)
        loss = self.forward(tokens, targets)
        mark(1)
        loss.backward()
        mark(2)
        self.clip_grads()
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        mark(3)
        return loss

    def infer_step(self, tokens, targets, marks=None):
        mark = marks or (lambda i: None)
        mark(0)
        with torch.no_grad():
            loss = self.forward(tokens, targets)
        mark(1)
        return loss


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def synthetic_batch(vocab: int, batch: int, seq: int, device):
    """the same tokens archc bench uses: (i * 31 + 7) mod vocab, targets the next id"""
    i = torch.arange(batch * seq, dtype=torch.int64)
    tokens = (i * 31 + 7) % vocab
    targets = (tokens + 1) % vocab
    return tokens.view(batch, seq).to(device), targets.view(batch, seq).to(device)


def phase_times(t: Trainer, step, batch, repeats: int, device) -> tuple[list[float], float | None]:
    """median forward / backward / optimizer ms over `repeats` steps, and the step's peak bytes"""
    n_marks = 4 if step == t.train_step else 2
    samples = []
    peak = None
    for _ in range(repeats):
        sync(device)
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats()
            base = torch.cuda.memory_allocated()
            events = [torch.cuda.Event(enable_timing=True) for _ in range(n_marks)]
            step(*batch, marks=lambda i: events[i].record())
            sync(device)
            samples.append([events[i].elapsed_time(events[i + 1]) for i in range(n_marks - 1)])
            # what the step allocates on top of what was resident, plus this model's own
            # persistent state (parameters, and for training the two AdamW moments)
            persistent = 4 * t.parameters * (3 if step == t.train_step else 1)
            peak = torch.cuda.max_memory_allocated() - base + persistent
        else:
            stamps = [0.0] * n_marks

            def mark(i):
                stamps[i] = time.perf_counter()

            step(*batch, marks=mark)
            samples.append([1000 * (stamps[i + 1] - stamps[i]) for i in range(n_marks - 1)])
    return [statistics.median(s[i] for s in samples) for i in range(n_marks - 1)], peak


def run_bench(spec: dict, args) -> dict:
    import_torch()
    device = torch.device(args.device)
    train = dict(spec["train"])
    batch_n = args.batch or spec["batch"]
    seq = args.seq or spec["seq"]
    trainers = [
        Trainer(m["label"], m["model"], m["params"], train, device, args.backend, m.get("flops"))
        for m in spec["models"]
    ]
    batches = [synthetic_batch(t.spec["vocab"], batch_n, seq, device) for t in trainers]
    stepper = (lambda t: t.train_step) if args.mode == "train" else (lambda t: t.infer_step)
    for t, b in zip(trainers, batches):
        print(f"{t.label}: first step ({args.backend})...", file=sys.stderr)
        start = time.perf_counter()
        stepper(t)(*b)
        sync(device)
        t.first_step_ms = 1000 * (time.perf_counter() - start)
        for _ in range(args.warmup):
            stepper(t)(*b)
        sync(device)
    rnd = args.round or max(1, args.steps // 5)
    done = 0
    while done < args.steps:
        n = min(rnd, args.steps - done)
        for t, b in zip(trainers, batches):
            sync(device)
            start = time.perf_counter()
            for _ in range(n):
                stepper(t)(*b)
            sync(device)  # one sync per round
            t.round_ms.append(1000 * (time.perf_counter() - start) / n)
        done += n
    results = []
    for t, b in zip(trainers, batches):
        phases, peak = phase_times(t, stepper(t), b, max(1, args.profile_repeats), device)
        step_ms = statistics.median(t.round_ms)
        flops = (t.flops or {}).get("trainStep" if args.mode == "train" else "forwardTotal")
        gflops = flops / (step_ms * 1e6) if flops else None
        results.append(
            {
                "label": t.label,
                "model": t.spec["name"],
                "parameters": t.parameters,
                "firstStepMs": t.first_step_ms,
                "stepMs": step_ms,
                "roundStepMs": t.round_ms,
                "tokensPerStep": batch_n * seq,
                "tokensPerS": batch_n * seq * 1000 / step_ms,
                "forwardMs": phases[0],
                "backwardMs": phases[1] if args.mode == "train" else None,
                "optimizerMs": phases[2] if args.mode == "train" else None,
                "kernels": [],
                "deviceBytes": peak,
                "dispatchesPerStep": None,
                "submissionsPerStep": None,
                "flopsPerStep": flops,
                "achievedGflops": gflops,
            }
        )
    base = results[0]

    def ratio(a, b):
        return None if a is None or b is None or b == 0 else a / b

    for r in results:
        r["ratio"] = {
            k: ratio(r[k], base[k])
            for k in ("stepMs", "tokensPerS", "forwardMs", "backwardMs", "optimizerMs", "deviceBytes", "flopsPerStep")
        }
    adapter = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    return {
        "format": "archc-bench",
        "version": 1,
        "producer": "bench/torch_ref.py",
        "torch": torch.__version__,
        "backend": "torch.compile (mode default)" if args.backend == "compile" else "eager",
        "mode": args.mode,
        "adapter": {"name": adapter, "software": False, "timestampQuery": None},
        "profile": {"method": "cuda-events" if device.type == "cuda" else "wall-clock", "repeats": args.profile_repeats},
        "batch": batch_n,
        "seq": seq,
        "steps": args.steps,
        "warmup": args.warmup,
        "round": rnd,
        "models": results,
    }


def format_table(r: dict) -> str:
    lines = [
        f"torch {r['torch']} {r['backend']} · {r['mode']} · {r['adapter']['name']} · batch {r['batch']} x seq {r['seq']}",
        "| model | params | step ms | vs first | tokens/s | forward ms | backward ms | optimizer ms | GFLOP/s | memory MiB |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    f = lambda v: "-" if v is None else f"{v:.2f}"
    for m in r["models"]:
        mem = "-" if m["deviceBytes"] is None else f"{m['deviceBytes'] / 2**20:.0f}"
        lines.append(
            f"| {m['label']} | {m['parameters']:,} | {m['stepMs']:.2f} | {m['ratio']['stepMs']:.3f}x | {m['tokensPerS']:.0f} | "
            f"{f(m['forwardMs'])} | {f(m['backwardMs'])} | {f(m['optimizerMs'])} | {f(m['achievedGflops'])} | {mem} |"
        )
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------------------
# Loading specs and safetensors


def load_spec(args) -> dict:
    src = args.spec
    if src.endswith(".arch"):
        cmd = ["node", os.path.join(ROOT, "bin", "archc.js"), "bench", src, "--print-spec"]
        if args.compare:
            cmd += ["--compare", *args.compare]
        if args.model:
            cmd += ["--model", args.model]
        if args.batch:
            cmd += ["--batch", str(args.batch)]
        if args.seq:
            cmd += ["--seq", str(args.seq)]
        out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout
        return json.loads(out)
    with open(src, encoding="utf-8") as fh:
        spec = json.load(fh)
    if spec.get("format") == "archc-bench-spec":
        return spec
    raise SystemExit(f"{src}: not an `archc bench --print-spec` output (benchmarks need its parameter list)")


SAFETENSORS_DTYPES = {"F32": ("<f4", 4), "I32": ("<i4", 4), "I64": ("<i8", 8)}


def read_safetensors(path: str) -> tuple[dict, dict]:
    """{name: numpy array}, metadata; F32, I32 and I64 only"""
    import numpy as np

    with open(path, "rb") as fh:
        data = fh.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    body = data[8 + n :]
    out = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        dtype, _ = SAFETENSORS_DTYPES[entry["dtype"]]
        begin, end = entry["data_offsets"]
        out[name] = np.frombuffer(body[begin:end], dtype=dtype).reshape(entry["shape"]).copy()
    return out, header.get("__metadata__", {})


def check_logits(args) -> int:
    import_torch()
    device = torch.device(args.device)
    ckpt = args.checkpoint
    with open(os.path.join(ckpt, "state.json"), encoding="utf-8") as fh:
        state = json.load(fh)
    params, _ = read_safetensors(os.path.join(ckpt, "model.safetensors"))
    evald, meta = read_safetensors(args.check_logits)
    ArchModel = make_model_class()
    module = ArchModel(state["model"], {k: torch.from_numpy(v).to(device) for k, v in params.items()})
    tokens = torch.from_numpy(evald["tokens"]).long().to(device)
    expected = torch.from_numpy(evald["logits"]).to(device)
    with torch.no_grad():
        got = module.logits(tokens)
    diff = (got - expected).abs()
    scale = expected.abs().max().item()
    max_abs = diff.max().item()
    ok = max_abs <= args.atol + args.rtol * scale
    report = {
        "check": "logits",
        "checkpoint": ckpt,
        "eval_file": args.check_logits,
        "model": state["model"]["name"],
        "windows": int(tokens.shape[0]),
        "seq": int(tokens.shape[1]),
        "vocab": int(expected.shape[-1]),
        "max_abs_diff": max_abs,
        "mean_abs_diff": diff.mean().item(),
        "max_abs_logit": scale,
        "argmax_agreement": (got.argmax(-1) == expected.argmax(-1)).float().mean().item(),
        "atol": args.atol,
        "rtol": args.rtol,
        "ok": bool(ok),
    }
    text = json.dumps(report, indent=1) + "\n"
    sys.stdout.write(text)
    if args.json and args.json != "-":
        with open(args.json, "w", encoding="utf-8") as fh:
            fh.write(text)
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("spec", nargs="?", help=".arch file (runs archc bench --print-spec) or its JSON output")
    ap.add_argument("--compare", nargs="*", default=[], help=".arch files (FILE or FILE:MODEL) as for archc bench")
    ap.add_argument("--model", help="model of the first file")
    ap.add_argument("--mode", choices=["train", "infer"], default="train")
    ap.add_argument("--backend", choices=["eager", "compile"], default="eager")
    ap.add_argument("--device", default=None, help="cuda (default when available) or cpu")
    ap.add_argument("--batch", type=int)
    ap.add_argument("--seq", type=int)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--round", type=int, help="steps per round (default steps / 5)")
    ap.add_argument("--profile-repeats", type=int, default=3)
    ap.add_argument("--json", help="write the results as JSON here ('-': stdout, the table to stderr)")
    ap.add_argument("--check-logits", metavar="EVAL.safetensors", help="compare logits with archc eval --out")
    ap.add_argument("--checkpoint", help="with --check-logits: the checkpoint directory archc eval read")
    ap.add_argument("--atol", type=float, default=1e-3)
    ap.add_argument("--rtol", type=float, default=1e-4)
    args = ap.parse_args(argv)
    if args.check_logits:
        if not args.checkpoint:
            ap.error("--check-logits needs --checkpoint CKPT_DIR")
        import_torch()
        args.device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
        return check_logits(args)
    if not args.spec:
        ap.error("give an .arch file or a --print-spec JSON file, or --check-logits")
    spec = load_spec(args)
    import_torch()
    args.device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    result = run_bench(spec, args)
    table = format_table(result)
    text = json.dumps(result, indent=1) + "\n"
    if args.json == "-":
        sys.stderr.write(table)
        sys.stdout.write(text)
    else:
        sys.stdout.write(table)
        if args.json:
            with open(args.json, "w", encoding="utf-8") as fh:
                fh.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
