#!/usr/bin/env bash
# Fetches a software Vulkan driver (Mesa >= 25 lavapipe from Debian bookworm-backports) into a
# private folder, WITHOUT touching the system: apt with its own package lists downloads the .debs,
# `dpkg -x` unpacks them, and .cache/lavapipe/env.sh points the Vulkan loader at the unpacked driver.
# With it, the webgpu engine runs (slowly, on the CPU) where there is no GPU, so tests cover it.
# Debian 12's own Mesa 22.3 lavapipe is rejected by Dawn, hence backports.
#
#   scripts/fetch-lavapipe.sh            fetch once (cached; later runs print the cached path)
#   source .cache/lavapipe/env.sh        use it in a shell (tests find it by themselves)
#
# Exit 0 when the driver is ready, 1 (with the reason) when it cannot be had here.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DEST=${LAVAPIPE_DIR:-$ROOT/.cache/lavapipe}
MIN_MESA_MAJOR=25
# mesa-vulkan-drivers 25.0.7 from backports needs a newer libdrm (also in backports), LLVM 15 and
# the Vulkan loader; the rest of its dependencies are on every Debian 12 system.
PACKAGES=(mesa-vulkan-drivers/bookworm-backports libdrm2/bookworm-backports libdrm-amdgpu1/bookworm-backports libllvm15 libvulkan1)

if [[ -f "$DEST/env.sh" && -f "$DEST/lvp_icd.json" ]]; then
  echo "lavapipe: ready in $DEST"
  exit 0
fi
fail() { echo "lavapipe: $*" >&2; exit 1; }
command -v apt-get >/dev/null && command -v dpkg >/dev/null || fail "needs apt-get and dpkg (Debian/Ubuntu); the webgpu parity test will skip"
. /etc/os-release 2>/dev/null || true
[[ "${VERSION_CODENAME:-}" == bookworm ]] || fail "this script fetches Debian 12 (bookworm) packages; this system is ${PRETTY_NAME:-unknown}"

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/lists/partial" "$WORK/cache/archives/partial" "$WORK/debs"
# The Debian mirror this system is already configured with; backports is added from the same mirror.
MIRROR=$(grep -hoE '^(URIs:|deb)[[:space:]]+[^[:space:]]+' /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list 2>/dev/null \
  | awk '{print $2}' | grep -E '/debian/?$' | head -n 1 || true)
[[ -n "$MIRROR" ]] || fail "no Debian mirror found in /etc/apt/sources.list*; the webgpu parity test will skip"
printf 'deb %s bookworm main\ndeb %s bookworm-backports main\n' "$MIRROR" "$MIRROR" >"$WORK/sources.list"
APT=(-o "Dir::Etc::SourceList=$WORK/sources.list" -o Dir::Etc::SourceParts=/dev/null -o "Dir::State::Lists=$WORK/lists"
  -o "Dir::Cache=$WORK/cache" -o APT::Sandbox::User=root -o Debug::NoLocking=1 -q)
echo "lavapipe: reading bookworm + bookworm-backports package lists (private, the system's lists stay as they are)"
apt-get "${APT[@]}" update >"$WORK/update.log" 2>&1 || fail "apt-get update failed: $(tail -n 2 "$WORK/update.log")"
(cd "$WORK/debs" && apt-get "${APT[@]}" download "${PACKAGES[@]}" >"$WORK/download.log" 2>&1) || fail "download failed: $(tail -n 2 "$WORK/download.log")"

STAGE="$DEST.partial.$$"
rm -rf "$STAGE"
mkdir -p "$STAGE/root" "$STAGE/xdg"
chmod 700 "$STAGE/xdg"
for deb in "$WORK"/debs/*.deb; do dpkg -x "$deb" "$STAGE/root"; done
MESA_VERSION=$(dpkg-deb -f "$WORK"/debs/mesa-vulkan-drivers_*.deb Version)
[[ "${MESA_VERSION%%.*}" -ge $MIN_MESA_MAJOR ]] || fail "got Mesa $MESA_VERSION, need >= $MIN_MESA_MAJOR"

LIBDIR="$DEST/root/usr/lib/x86_64-linux-gnu"
[[ -f "$STAGE/root/usr/lib/x86_64-linux-gnu/libvulkan_lvp.so" ]] || fail "libvulkan_lvp.so missing from the unpacked packages"
missing=$(LD_LIBRARY_PATH="$STAGE/root/usr/lib/x86_64-linux-gnu" ldd "$STAGE/root/usr/lib/x86_64-linux-gnu/libvulkan_lvp.so" | grep "not found" || true)
[[ -z "$missing" ]] || fail "the driver needs libraries this system lacks: $missing"

# The ICD manifest names the driver by absolute path, so no system folder is involved.
cat >"$STAGE/lvp_icd.json" <<JSON
{ "file_format_version": "1.0.0", "ICD": { "library_path": "$LIBDIR/libvulkan_lvp.so", "api_version": "1.4.305" } }
JSON
cat >"$STAGE/env.sh" <<ENV
# Software Vulkan (Mesa $MESA_VERSION lavapipe) for Dawn/WebGPU; written by scripts/fetch-lavapipe.sh
export VK_ICD_FILENAMES="$DEST/lvp_icd.json"
export VK_DRIVER_FILES="$DEST/lvp_icd.json"
export LD_LIBRARY_PATH="$LIBDIR\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
export XDG_RUNTIME_DIR="$DEST/xdg"
ENV
echo "$MESA_VERSION" >"$STAGE/mesa-version"
rm -rf "$DEST"
mkdir -p "$(dirname "$DEST")"
mv "$STAGE" "$DEST"
echo "lavapipe: Mesa $MESA_VERSION ready in $DEST ($(du -sh "$DEST" | cut -f1))"
