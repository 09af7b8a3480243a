#!/usr/bin/env bash
# GPU check for the webgpu engine on a machine that has a GPU but no Node.js and no network.
#
#   scripts/gpu-check.sh pack     (here) bundle what that machine needs into .carry/gpu-check/:
#                                 this Node binary (xz), one-file bundle of scripts/gpu-check.ts
#                                 (tfjs core/layers/cpu/webgpu + lib/engine + lib/models) and the
#                                 webgpu package's Linux dawn.node; the Vulkan loader .debs go to .gl/
#                                 and a one-file bundle of the CLI (lib/cli.ts, run by the workflow)
#                                 with sharp's and Dawn's native files
#   scripts/gpu-check.sh bundle DIR  (here) only the bundles and native files of pack, unpacked in DIR
#                                 (seconds; test/gpu-check-bundle.test.ts starts them)
#   scripts/gpu-check.sh run      (there, from the repository root, with .carry/gpu-check and .gl
#                                 carried) print the GPU, the WebGPU adapter and its limits, then time
#                                 training images/s of MobileNetV2 and ResNet50 at 224 px, batch 32,
#                                 on webgpu, and the pure-JS cpu backend on the same machine (batch 1,
#                                 one step: it needs minutes per image), all within about 7 minutes.
#   scripts/gpu-check.sh workflow (there, as for run) the study's workflow with the CLI on webgpu, in one
#                                 command of at most ~8 minutes: `bench train --engine webgpu` (all eight,
#                                 224 px, batch 32: images/s, host vs device time, kernels, uploads,
#                                 top kernels), `data prepare` (embedded synthetic set, 224 px,
#                                 1000 + 1000 / 400 + 400), `train` (all eight, TRANSFER=finetune from
#                                 random weights — no network there — EPOCHS=1, the study's augmentation,
#                                 SGD), `evaluate` (GPU latency, predictions, workbook), nvidia-smi samples.
#                                 GPU_CHECK_TINY=1 shrinks everything for a dry run on software Vulkan.
# Results: one JSON line per measurement on stdout, also in $OUT/gpu-check-results.jsonl when OUT is set;
# the workflow copies the workbook, histories, latency JSON, bench JSON and logs under $OUT/workflow/.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PACK="$ROOT/.carry/gpu-check"
GL="$ROOT/.gl"
LIMIT_BYTES=$((60 * 1024 * 1024))

bundle() { # dir — the two one-file bundles and the native packages they load, as they travel (seconds)
  local app=$1
  mkdir -p "$app/node_modules/webgpu/dist/linux-x64"
  echo "gpu-check: bundling scripts/gpu-check.ts"
  "$ROOT/node_modules/esbuild/bin/esbuild" "$ROOT/scripts/gpu-check.ts" --bundle --platform=node --format=cjs --target=node20 \
    --external:webgpu --external:@tensorflow/tfjs-node --external:@tensorflow/tfjs-node-gpu --external:@tensorflow/tfjs-backend-wasm \
    --external:h5wasm --external:h5wasm/node --outfile="$app/gpu-check.cjs" --log-level=warning
  cp "$ROOT/node_modules/webgpu/index.js" "$ROOT/node_modules/webgpu/package.json" "$app/node_modules/webgpu/"
  cp "$ROOT/node_modules/webgpu/dist/linux-x64/dawn.node" "$app/node_modules/webgpu/dist/linux-x64/"
  # The CLI as one file at lib/cli.cjs, so that lib/paths puts data/ and reports/ beside it (app/).
  # Native or optional packages stay outside: sharp (+ libvips) and webgpu travel as files; weights
  # (h5wasm), ONNX, notebooks (tslab, zeromq), tfjs-node-gpu and danfo's browser-only plotly are not
  # used there. danfo's @tensorflow/tfjs-node is pure tfjs in this project (an npm alias): the bundle
  # maps it to tfjs.
  echo "gpu-check: bundling lib/cli.ts"
  mkdir -p "$app/lib"
  "$ROOT/node_modules/esbuild/bin/esbuild" "$ROOT/lib/cli.ts" --bundle --platform=node --format=cjs --target=node20 \
    --external:webgpu --external:sharp --alias:@tensorflow/tfjs-node=@tensorflow/tfjs --external:@tensorflow/tfjs-node-gpu \
    --external:h5wasm --external:h5wasm/node --external:onnxruntime-node --external:zeromq --external:tslab \
    --external:plotly.js-dist-min \
    --outfile="$app/lib/cli.cjs" --log-level=error
  for package in sharp @img/colour @img/sharp-linux-x64 @img/sharp-libvips-linux-x64 detect-libc semver; do
    mkdir -p "$app/node_modules/$(dirname "$package")"
    cp -rL "$ROOT/node_modules/$package" "$app/node_modules/$package"
  done
}

pack() {
  local node_bin
  node_bin=$(command -v node)
  case "$(node --version)" in v20.* | v22.*) ;; *) echo "gpu-check: need Node 20 or 22 to pack, found $(node --version)" >&2; exit 1 ;; esac
  rm -rf "$PACK/app" "$PACK/app.tar.xz"
  bundle "$PACK/app"
  tar -C "$PACK/app" -cJf "$PACK/app.tar.xz" . && rm -rf "$PACK/app"
  if [[ ! -f "$PACK/node.xz" || "$(cat "$PACK/node-version" 2>/dev/null)" != "$(node --version)" ]]; then
    echo "gpu-check: compressing $node_bin ($(node --version)); minutes on 2 cores, done once"
    xz -T0 -6 -c "$node_bin" >"$PACK/node.xz.tmp" && mv "$PACK/node.xz.tmp" "$PACK/node.xz"
    node --version >"$PACK/node-version"
  fi
  if ! ls "$GL"/libvulkan1_*.deb >/dev/null 2>&1; then
    echo "gpu-check: downloading the Vulkan loader and GL dispatch .debs into .gl/"
    local work; work=$(mktemp -d)
    mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$GL"
    # The system's own apt sources, with private lists so the system's state is untouched.
    local apt=(-o "Dir::State::Lists=$work/lists"
      -o "Dir::Cache=$work/cache" -o APT::Sandbox::User=root -o APT::Architecture=amd64 -o APT::Architectures=amd64 -q)
    apt-get "${apt[@]}" update >/dev/null
    (cd "$GL" && apt-get "${apt[@]}" download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2 >/dev/null)
    rm -rf "$work"
  fi
  local bytes; bytes=$(du -cb "$PACK" "$GL" | tail -1 | cut -f1)
  ls -la "$PACK" "$GL"
  echo "gpu-check: packed $((bytes / 1024 / 1024)) MiB (limit $((LIMIT_BYTES / 1024 / 1024)) MiB for what travels)"
  [[ $bytes -lt $LIMIT_BYTES ]] || { echo "gpu-check: too large" >&2; exit 1; }
}

unxz_to() { # file.xz destination — xz if present, else Python's lzma
  if command -v xz >/dev/null; then xz -dc "$1" >"$2"; else python3 -c 'import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$1" "$2"; fi
}

setup_machine() { # dir — Vulkan loader and ICD, Node and the app unpacked into dir
  local dir=$1
  [[ -f "$PACK/node.xz" ]] || { echo "gpu-check: $PACK/node.xz missing: run 'scripts/gpu-check.sh pack' here and carry .carry/gpu-check" >&2; exit 1; }
  rm -rf "$dir" && mkdir -p "$dir/app"
  echo "== machine"; nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || echo "no nvidia-smi"
  nproc; (ldd --version 2>&1 || true) | sed -n 1p
  echo "== Vulkan"
  if ! ldconfig -p | grep 'libvulkan.so.1 ' >/dev/null; then
    if command -v nvidia-smi >/dev/null; then
      # The lent GPU machine is fresh each time: install the carried loader as its notes describe.
      echo "no system libvulkan.so.1: unpacking the carried loader .debs from .gl/ into /"
      for f in "$GL"/*.deb; do dpkg -x "$f" /; done
      ldconfig
    else
      # Anywhere else (a dry run) leave the system alone: a private folder on LD_LIBRARY_PATH.
      echo "no system libvulkan.so.1: unpacking the carried loader .debs into $dir/vk"
      for f in "$GL"/*.deb; do dpkg -x "$f" "$dir/vk"; done
      export LD_LIBRARY_PATH="$dir/vk/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    fi
  fi
  ldconfig -p | grep 'libvulkan.so.1 ' || echo "libvulkan.so.1 via LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}"
  for icd in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json; do
    if [[ -f $icd ]]; then
      export VK_DRIVER_FILES=$icd VK_ICD_FILENAMES=$icd
      echo "NVIDIA Vulkan ICD: $icd"; cat "$icd"; break
    fi
  done
  [[ -f /usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json ]] && export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
  echo "== Node"
  unxz_to "$PACK/node.xz" "$dir/node" && chmod +x "$dir/node"
  if command -v xz >/dev/null; then tar -C "$dir/app" -xJf "$PACK/app.tar.xz"; else python3 -c 'import tarfile,sys; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' "$PACK/app.tar.xz" "$dir/app"; fi
  "$dir/node" --version
}

run() {
  local t0=$SECONDS dir=/tmp/gpu-check results=/tmp/gpu-check/results.jsonl
  # Overridable for a dry run on a machine without a GPU (e.g. GPU_CHECK_SIZE=32 GPU_CHECK_BATCH=2).
  local size=${GPU_CHECK_SIZE:-224} batch=${GPU_CHECK_BATCH:-32} cpu_cap=${GPU_CHECK_CPU_SECONDS:-330} gpu_cap=${GPU_CHECK_GPU_SECONDS:-170}
  # GPU_CHECK_ARCHS="all" times every registered architecture; GPU_CHECK_CPU=0 skips the cpu baseline.
  local archs=${GPU_CHECK_ARCHS:-mobilenet_v2 resnet50} steps=${GPU_CHECK_STEPS:-10} step_seconds=${GPU_CHECK_STEP_SECONDS:-40}
  [[ $archs == all ]] && archs="densenet121 densenet169 densenet201 resnet50 inception_v3 inception_resnet_v2 mobilenet mobilenet_v2"
  setup_machine "$dir"
  local app=("$dir/node" "$dir/app/gpu-check.cjs")
  echo "== WebGPU adapter ($((SECONDS - t0)) s)"
  if ! timeout 60 "${app[@]}" adapter; then
    echo "gpu-check: no usable WebGPU adapter; stopping before the timings" >&2
    exit 1
  fi
  : >"$results"
  # The cpu backend is single-threaded pure JS: minutes per image at 224 px. It runs beside the
  # webgpu timings on other cores, one step of batch 1 each, capped.
  echo "== cpu backend, batch 1, one step each at $size and $((size / 2)) px (background, one core each, capped at $cpu_cap s)"
  local cpu_jobs=("mobilenet_v2 $size" "resnet50 $size" "mobilenet_v2 $((size / 2))" "resnet50 $((size / 2))")
  [[ ${GPU_CHECK_CPU:-1} == 0 ]] && cpu_jobs=()
  for job in "${cpu_jobs[@]}"; do
    set -- $job
    (timeout "$cpu_cap" "${app[@]}" train cpu "$1" 1 "$2" 0 1 1 >>"$results" 2>"$dir/cpu-$1-$2.log" ||
      echo "{\"kind\":\"train\",\"engine\":\"cpu\",\"arch\":\"$1\",\"imageSize\":$2,\"batch\":1,\"unfinished\":\"no step within $cpu_cap s\"}" >>"$results") &
  done
  for arch in $archs; do
    echo "== webgpu $arch $size px batch $batch: 1 warm-up step, then up to $steps timed steps or $step_seconds s ($((SECONDS - t0)) s)"
    timeout "$gpu_cap" "${app[@]}" train webgpu "$arch" "$batch" "$size" 1 "$steps" "$step_seconds" | tee -a "$results" ||
      echo "{\"kind\":\"train\",\"engine\":\"webgpu\",\"arch\":\"$arch\",\"imageSize\":$size,\"batch\":$batch,\"unfinished\":\"stopped after $gpu_cap s\"}" | tee -a "$results"
  done
  echo "== waiting for the cpu backend ($((SECONDS - t0)) s)"
  wait
  cat "$dir"/cpu-*.log 2>/dev/null | tail -n 6 || true
  echo "== results ($((SECONDS - t0)) s)"
  cat "$results"
  [[ -n "${OUT:-}" ]] && cp "$results" "$OUT/gpu-check-results.jsonl" || true
}

workflow() {
  local t0=$SECONDS dir=/tmp/gpu-check
  local out=${OUT:-$dir/out}/workflow
  # Sizes: the study's by default; GPU_CHECK_TINY=1 for a dry run on software Vulkan (minutes here).
  local tiny=${GPU_CHECK_TINY:-0}
  local size=${GPU_CHECK_SIZE:-$([[ $tiny == 1 ]] && echo 32 || echo 224)}
  local bench_batch=${GPU_CHECK_BATCH:-$([[ $tiny == 1 ]] && echo 2 || echo 32)}
  local train_per_class=${GPU_CHECK_TRAIN_PER_CLASS:-$([[ $tiny == 1 ]] && echo 4 || echo 1000)}
  local validation_per_class=${GPU_CHECK_VALIDATION_PER_CLASS:-$([[ $tiny == 1 ]] && echo 2 || echo 400)}
  local archs=${GPU_CHECK_ARCHS:-all}
  # Caps that keep the whole command inside one 10-minute call (~570 s with set-up); whatever finished
  # is still collected.
  # A dry run on software Vulkan is slower at any size: 5× the caps.
  local slow=$([[ $tiny == 1 ]] && echo 5 || echo 1)
  local bench_cap=${GPU_CHECK_BENCH_SECONDS:-$((120 * slow))} prepare_cap=${GPU_CHECK_PREPARE_SECONDS:-$((60 * slow))}
  local train_cap=${GPU_CHECK_TRAIN_SECONDS:-$((270 * slow))} evaluate_cap=${GPU_CHECK_EVALUATE_SECONDS:-$((80 * slow))}
  setup_machine "$dir"
  mkdir -p "$out"
  local cli=("$dir/node" "$dir/app/lib/cli.cjs")
  archs=${archs// /,}
  echo "== WebGPU adapter ($((SECONDS - t0)) s)"
  timeout 60 "$dir/node" "$dir/app/gpu-check.cjs" adapter | tee "$out/adapter.json" || { echo "gpu-check: no usable WebGPU adapter" >&2; exit 1; }
  local sampler=
  if command -v nvidia-smi >/dev/null; then
    nvidia-smi --query-gpu=timestamp,utilization.gpu,utilization.memory,memory.used,power.draw --format=csv -lms 1000 >"$out/nvidia-smi.csv" 2>&1 &
    sampler=$!
  fi
  # The CLI resolves data/ and reports/ beside its bundle (app/); its parameters come from the environment.
  export PROFILE=full ENGINE=webgpu ARCHS=$archs EPOCHS=1 WEIGHTS=none TRANSFER=finetune OPTIMIZER=sgd WORKERS=1 \
    IMAGE_SIZE=$size TRAIN_PER_CLASS=$train_per_class VALIDATION_PER_CLASS=$validation_per_class \
    SYNTHETIC_PER_CLASS=$((train_per_class + validation_per_class)) RUN_ID=gpu-workflow
  [[ -n ${GPU_CHECK_TRAIN_BATCH:-} ]] && export BATCH_SIZE=$GPU_CHECK_TRAIN_BATCH
  [[ $tiny == 1 ]] && export BATCH_SIZE=${GPU_CHECK_TRAIN_BATCH:-2}
  local status=0
  echo "== bench train --engine webgpu, $size px, batch $bench_batch ($((SECONDS - t0)) s)"
  timeout "$bench_cap" "${cli[@]}" bench train --engine webgpu --archs "$archs" --sizes "$size" --batch "$bench_batch" --steps 3 \
    ${GPU_CHECK_COMPARE:+--compare} --json "$out/bench-train-webgpu.json" 2>&1 | grep -v '^Warning: maxDynamic' | tee "$out/bench.log" || status=1
  echo "== data prepare: synthetic, $size px, $train_per_class + $train_per_class / $validation_per_class + $validation_per_class ($((SECONDS - t0)) s)"
  timeout "$prepare_cap" "${cli[@]}" data prepare 2>&1 | tee "$out/prepare.log" || status=1
  echo "== train: $archs, EPOCHS=1, TRANSFER=finetune ($((SECONDS - t0)) s)"
  timeout "$train_cap" "${cli[@]}" train 2>&1 | grep -v '^Warning: maxDynamic' | tee "$out/train.log" || status=1
  echo "== evaluate ($((SECONDS - t0)) s)"
  timeout "$evaluate_cap" "${cli[@]}" evaluate 2>&1 | grep -v '^Warning: maxDynamic' | tee "$out/evaluate.log" || status=1
  [[ -n $sampler ]] && kill "$sampler" 2>/dev/null
  echo "== collecting into $out ($((SECONDS - t0)) s)"
  local app=$dir/app
  cp "$app"/reports/*.xlsx "$out/" 2>/dev/null || true
  # Small files of the run only: histories, run.json, latency and evaluation JSON; not the model weights.
  (cd "$app/reports/runs" 2>/dev/null && find . -path '*/model' -prune -o -path '*/tensorboard' -prune -o -type f \( -name '*.json' -o -name '*.csv' -o -name '*.md' \) -print |
    while read -r f; do mkdir -p "$out/runs/$(dirname "$f")" && cp "$f" "$out/runs/$f"; done) || true
  echo "workflow finished with status $status in $((SECONDS - t0)) s"; ls -R "$out" | head -40
  return $status
}

case "${1:-}" in
  pack) pack ;;
  bundle) bundle "${2:?usage: scripts/gpu-check.sh bundle DIR}" ;;
  run) run ;;
  workflow) workflow ;;
  *) echo "usage: scripts/gpu-check.sh pack | bundle DIR | run | workflow" >&2; exit 2 ;;
esac
