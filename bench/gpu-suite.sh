#!/usr/bin/env bash
# The benchmark suite: `archc tune` for the adapter at hand, then `archc bench` (training and
# forward) on the residual kinds add, Full AttnRes,
# Block AttnRes N=4 and N=8, compared in one process so the AttnRes overhead comes out as ratios,
# at a tiny size and at GPT-2-small size (12 layers, d=768, 12 heads, T=1024, batch 8); and the same
# models in PyTorch (bench/torch_ref.py, eager and torch.compile) when torch is importable; the
# kernels at the issue's target shapes in archc (bench/kernels.ts) and PyTorch (torch_kernels.py); and
# archc's token-by-token decoding (`archc bench --decode`, batch 1 and 16) of the same models. Every
# result is a JSON file in one folder, with a log per command and status.jsonl (exit code and
# seconds of each command, or why it was skipped).
#
#   bash bench/gpu-suite.sh [OUT_DIR]          # default: $OUT, else bench-out
#
# On a bare GPU machine (see ../shared/gpu/README.md), after `npm ci`, `npm run build` and
# `bash ../shared/gpu/pack-bundle.sh` here:
#
#   bash .gpu-bundle/on-device.sh bash bench/gpu-suite.sh "$OUT"
#
# Environment:
#   SUITE_SIZE=full (default) runs tiny and GPT-2-small; SUITE_SIZE=tiny runs the tiny size only
#     with few steps (for the software adapter: give it SUITE_BUDGET_S=1800, since tuning alone
#     compiles a pipeline per variant there, seconds each; a few minutes once the cache is warm).
#   SUITE_BUDGET_S (default 460): the suite stops starting commands once this many seconds have
#     passed, and caps each command at what is left; skipped commands are listed in status.jsonl.
#   TORCH=auto (default: run torch_ref.py when `import torch` works), 0 (never) or 1 (always).
#   PYTHON (default python3), NODE (default node).
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out=${1:-${OUT:-bench-out}}
size=${SUITE_SIZE:-full}
budget=${SUITE_BUDGET_S:-460}
py=${PYTHON:-python3}
node=${NODE:-node}
mkdir -p "$out"
status="$out/status.jsonl"
: >"$status"
start=$(date +%s)

[[ -f dist/cli.js ]] || { echo "gpu-suite: dist/ is missing: run npm run build first" >&2; exit 1; }

have_torch=0
case "${TORCH:-auto}" in
  1) have_torch=1 ;;
  0) have_torch=0 ;;
  *) "$py" -c "import torch" >/dev/null 2>&1 && have_torch=1 ;;
esac
cuda=0
if [[ $have_torch == 1 ]] && "$py" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" >/dev/null 2>&1; then
  cuda=1
fi

# run NAME CAP_SECONDS COMMAND...: output to $out/NAME.log, a status line either way
run() {
  local name=$1 cap=$2
  shift 2
  local now left
  now=$(date +%s)
  left=$((budget - (now - start)))
  if ((left < 15)); then
    echo "gpu-suite: skip $name (budget of ${budget}s spent)" >&2
    printf '{"name":"%s","skipped":"budget"}\n' "$name" >>"$status"
    return 1
  fi
  ((cap > left)) && cap=$left
  echo "gpu-suite: $name (at most ${cap}s)" >&2
  local t0=$(date +%s)
  timeout "$cap" "$@" >"$out/$name.log" 2>&1
  local rc=$?
  printf '{"name":"%s","rc":%d,"seconds":%d,"cap":%d}\n' "$name" "$rc" "$(($(date +%s) - t0))" "$cap" >>"$status"
  ((rc == 0)) || echo "gpu-suite: $name exited $rc (see $out/$name.log)" >&2
  return $rc
}

skip() {
  printf '{"name":"%s","skipped":"%s"}\n' "$1" "$2" >>"$status"
}

# archc on one size: FAMILY (tiny or gpt2s), training/inference flags, decode flags, cap per command
archc_size() {
  local family=$1 steps=$2 decode_steps=$3 cap=$4
  local first="bench/models/$family.arch"
  local compare=("bench/models/$family-full.arch" "bench/models/$family-block4.arch" "bench/models/$family-block8.arch")
  for mode in train infer; do
    run "archc-$family-$mode" "$cap" "$node" bin/archc.js bench "$first" --compare "${compare[@]}" \
      --"$mode" $steps ${tuning[@]+"${tuning[@]}"} --json "$out/archc-$family-$mode.json"
  done
  run "archc-$family-decode" "$cap" "$node" bin/archc.js bench "$first" --compare "${compare[@]}" \
    --decode $decode_steps ${tuning[@]+"${tuning[@]}"} --json "$out/archc-$family-decode.json"
  "$node" bin/archc.js bench "$first" --compare "${compare[@]}" --print-spec >"$out/spec-$family.json" 2>/dev/null
}

# the same models in PyTorch: FAMILY, BACKEND (eager or compile), flags, cap per command
torch_size() {
  local family=$1 backend=$2 steps=$3 cap=$4
  for mode in train infer; do
    local name="torch-$backend-$family-$mode"
    if [[ $have_torch == 0 ]]; then
      skip "$name" "no torch"
    elif [[ $family != tiny && $cuda == 0 ]]; then
      skip "$name" "no CUDA"
    else
      run "$name" "$cap" "$py" bench/torch_ref.py "$out/spec-$family.json" --backend "$backend" \
        --mode "$mode" --device "$torch_device" $steps --json "$out/$name.json"
    fi
  done
}

# PyTorch and archc compute the same thing: torch's logits for a trained Block AttnRes checkpoint
# against the logits archc eval wrote for the same tokens (bench/torch_ref.py --check-logits)
logits_check() {
  if [[ $have_torch == 0 ]]; then
    skip torch-check-logits "no torch"
    return
  fi
  local dir="$out/logits-run"
  run archc-logits-train 300 "$node" bin/archc.js train bench/models/tiny-block4.arch --model bench_tiny_block4 \
    --steps 3 --plain --out "$dir"
  run archc-logits-eval 120 "$node" bin/archc.js eval "$dir" --tokens "$(seq -s, 1 66)" --out "$out/logits-eval.safetensors"
  run torch-check-logits 120 "$py" bench/torch_ref.py --check-logits "$out/logits-eval.safetensors" \
    --checkpoint "$dir/ckpt-3" --device "$torch_device" --json "$out/torch-check-logits.json"
}

torch_device=cpu
[[ $cuda == 1 ]] && torch_device=cuda

# In order of what matters most, so that a spent budget skips the least: the adapter, tuning,
# kernels against PyTorch's, archc's model benchmarks (GPT-2 small first), PyTorch eager, the
# logits check, and torch.compile last (it compiles for a minute or more per model).
run devices 60 "$node" bin/archc.js devices --json
run subgroup-matrix 60 "$node" dist/bench/subgroup-matrix.js --json "$out/subgroup-matrix.json"

# kernel variants measured on this adapter for the suite's models (training and decoding shapes);
# every archc benchmark below compiles with the file when tuning succeeded
# (at most a third of the budget; a file left by an earlier run in this folder is not reused)
rm -f "$out/tuning.json"
tune_models=(bench/models/tiny-full.arch)
[[ $size == tiny ]] || tune_models+=(bench/models/gpt2s-full.arch)
tuning=()
if run tune $((budget / 3)) "$node" bin/archc.js tune "${tune_models[@]}" --decode --repeats 3 \
  --out "$out/tuning.json" --json; then
  tuning=(--tuning "$out/tuning.json")
fi

# kernels at the issue's target shapes against PyTorch's (the same case names in both JSON files)
kernel_size=gpu
[[ $size == tiny ]] && kernel_size=small
run archc-kernels 150 "$node" dist/bench/kernels.js --size "$kernel_size" --json "$out/archc-kernels.json"
if [[ $have_torch == 0 ]]; then
  skip torch-kernels "no torch"
elif [[ $kernel_size == gpu && $cuda == 0 ]]; then
  skip torch-kernels "no CUDA"
else
  run torch-kernels 150 "$py" bench/torch_kernels.py --size "$kernel_size" --device "$torch_device" \
    --json "$out/torch-kernels.json"
fi

if [[ $size == tiny ]]; then
  archc_size tiny "--steps 3 --warmup 1 --round 1 --profile-repeats 1" \
    "--steps 4 --warmup 1 --round 2 --seq 8 --profile-repeats 1" 900
  torch_size tiny eager "--steps 3 --warmup 1 --round 1 --profile-repeats 1" 300
  logits_check
  torch_size tiny compile "--steps 3 --warmup 1 --round 1 --profile-repeats 1" 300
else
  # decode: 128 timed tokens per model and batch size, positions cycling over 0..255
  archc_size gpt2s "--steps 8 --warmup 2 --round 2 --profile-repeats 2" \
    "--steps 128 --warmup 8 --round 16 --seq 256 --profile-repeats 2" 200
  archc_size tiny "--steps 20 --warmup 3 --round 2" "--steps 64 --warmup 4 --round 8 --seq 32" 60
  torch_size gpt2s eager "--steps 8 --warmup 2 --round 2 --profile-repeats 2" 150
  torch_size tiny eager "--steps 20 --warmup 3 --round 2" 120
  logits_check
  torch_size gpt2s compile "--steps 8 --warmup 2 --round 2 --profile-repeats 2" 150
  torch_size tiny compile "--steps 20 --warmup 3 --round 2" 120
fi

"$node" -e '
const fs = require("fs"), path = require("path");
const dir = process.argv[1];
const rows = [];
for (const f of fs.readdirSync(dir).filter((f) => f.endsWith(".json") && !f.startsWith("spec-")).sort()) {
  let r;
  try { r = JSON.parse(fs.readFileSync(path.join(dir, f), "utf8")); } catch { continue; }
  for (const m of r.models ?? [])
    rows.push({ file: f, label: m.label, batch: m.batch, stepMs: m.stepMs, ratio: m.ratio?.stepMs, tokensPerS: m.tokensPerS,
      forwardMs: m.forwardMs, backwardMs: m.backwardMs, optimizerMs: m.optimizerMs, deviceBytes: m.deviceBytes,
      achievedGflops: m.achievedGflops });
}
fs.writeFileSync(path.join(dir, "summary.json"), JSON.stringify(rows, null, 1) + "\n");
for (const r of rows)
  console.log(`${r.file.padEnd(34)} ${(r.label + (r.batch === undefined ? "" : " b" + r.batch)).padEnd(24)} ${r.stepMs.toFixed(2).padStart(10)} ms  ${(r.ratio ?? NaN).toFixed(3)}x  ${r.tokensPerS.toFixed(0).padStart(8)} tok/s`);
' "$out"
echo "gpu-suite: done in $(($(date +%s) - start))s; results in $out" >&2
