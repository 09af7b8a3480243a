#!/usr/bin/env bash
# GPU check for the webgpu engine on a machine that has a GPU but no Node.js and no network.
#
#   scripts/gpu-check.sh pack     (here) bundle what that machine needs into .carry/gpu-check/:
#                                 this Node binary (xz), one-file bundle of scripts/gpu-check.ts
#                                 (tfjs core/layers/cpu/webgpu + lib/engine + lib/models) and the
#                                 webgpu package's Linux dawn.node; the Vulkan loader .debs go to .gl/
#   scripts/gpu-check.sh run      (there, from the repository root, with .carry/gpu-check and .gl
#                                 carried) print the GPU, the WebGPU adapter and its limits, then time
#                                 training images/s of MobileNetV2 and ResNet50 at 224 px, batch 32,
#                                 on webgpu, and the pure-JS cpu backend on the same machine (batch 1,
#                                 one step: it needs minutes per image), all within about 7 minutes.
# Results: one JSON line per measurement on stdout, also in $OUT/gpu-check-results.jsonl when OUT is set.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PACK="$ROOT/.carry/gpu-check"
GL="$ROOT/.gl"
LIMIT_BYTES=$((60 * 1024 * 1024))

pack() {
  local node_bin
  node_bin=$(command -v node)
  case "$(node --version)" in v20.* | v22.*) ;; *) echo "gpu-check: need Node 20 or 22 to pack, found $(node --version)" >&2; exit 1 ;; esac
  rm -rf "$PACK/app" "$PACK/app.tar.xz" && mkdir -p "$PACK/app/node_modules/webgpu/dist/linux-x64"
  echo "gpu-check: bundling scripts/gpu-check.ts"
  "$ROOT/node_modules/esbuild/bin/esbuild" "$ROOT/scripts/gpu-check.ts" --bundle --platform=node --format=cjs --target=node20 \
    --external:webgpu --external:@tensorflow/tfjs-node --external:@tensorflow/tfjs-node-gpu --external:@tensorflow/tfjs-backend-wasm \
    --external:h5wasm --external:h5wasm/node --outfile="$PACK/app/gpu-check.cjs" --log-level=warning
  cp "$ROOT/node_modules/webgpu/index.js" "$ROOT/node_modules/webgpu/package.json" "$PACK/app/node_modules/webgpu/"
  cp "$ROOT/node_modules/webgpu/dist/linux-x64/dawn.node" "$PACK/app/node_modules/webgpu/dist/linux-x64/"
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

run() {
  local t0=$SECONDS dir=/tmp/gpu-check results=/tmp/gpu-check/results.jsonl
  # Overridable for a dry run on a machine without a GPU (e.g. GPU_CHECK_SIZE=32 GPU_CHECK_BATCH=2).
  local size=${GPU_CHECK_SIZE:-224} batch=${GPU_CHECK_BATCH:-32} cpu_cap=${GPU_CHECK_CPU_SECONDS:-330} gpu_cap=${GPU_CHECK_GPU_SECONDS:-170}
  # GPU_CHECK_ARCHS="all" times every registered architecture; GPU_CHECK_CPU=0 skips the cpu baseline.
  local archs=${GPU_CHECK_ARCHS:-mobilenet_v2 resnet50} steps=${GPU_CHECK_STEPS:-10} step_seconds=${GPU_CHECK_STEP_SECONDS:-40}
  [[ $archs == all ]] && archs="densenet121 densenet169 densenet201 resnet50 inception_v3 inception_resnet_v2 mobilenet mobilenet_v2"
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

case "${1:-}" in
  pack) pack ;;
  run) run ;;
  *) echo "usage: scripts/gpu-check.sh pack | run" >&2; exit 2 ;;
esac
