#!/usr/bin/env bash
# Prepares the kernels' GPU check for a lent device machine (see /work/.library/device): the
# machine has no Deno and no network, and only ~64 MiB of the working tree travels. This bundles
# the kernels' tests and bench into self-contained JS (no node_modules needed), packs the deno
# binary with xz, and fetches the Vulkan loader .debs. The result goes to .gpu/ and .gl/ (add both
# to .git/info/exclude); then call the device tool with
#   command: bash bench/gpu/run.sh    carry: [".gpu", ".gl"]
# and copy what comes back into bench/results/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
mkdir -p .gpu .gl /tmp/amd64/partial
for f in packages/kernels/conformance_test.ts packages/kernels/webgpu/backend_test.ts \
  packages/kernels/create_kernels_test.ts bench/kernels_bench.ts; do
  # mitata probes bun:jsc at run time; it is never loaded under Deno.
  deno bundle --platform deno --external 'bun:*' -o ".gpu/$(basename "$f" .ts).js" "$f"
done
xz -T2 -6 -c "$(readlink -f "$(command -v deno)")" > .gpu/deno.xz
o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
# shellcheck disable=SC2086
apt-get $o update >/dev/null
# shellcheck disable=SC2086
(cd .gl && apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
du -sh .gpu .gl
