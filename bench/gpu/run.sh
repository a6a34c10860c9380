#!/usr/bin/env bash
# Runs on the device machine (see prepare.sh): unpacks the Vulkan loader and deno, prints the
# adapter, runs the bundled kernels tests (conformance on the real adapter, chunking, auto choice)
# and the kernels bench (SKIP_BENCH=1: tests only); logs go to $OUT.
for f in .gl/*.deb; do dpkg -x "$f" /; done
ldconfig
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -f "$icd" ] && export VK_DRIVER_FILES=$icd
xz -d -c .gpu/deno.xz > /tmp/deno && chmod +x /tmp/deno
/tmp/deno --version | head -1
nvidia-smi -L
/tmp/deno eval --unstable-webgpu 'const a = await navigator.gpu.requestAdapter({ powerPreference: "high-performance" });
console.log(a?.isFallbackAdapter, a?.limits.maxStorageBufferBindingSize, a?.limits.maxBufferSize)' | tee "$OUT/adapter.txt"
timeout 200 /tmp/deno test -A --no-config --unstable-webgpu .gpu/create_kernels_test.js \
  .gpu/backend_test.js .gpu/conformance_test.js > "$OUT/tests.log" 2>&1
echo "tests rc=$?"
grep -E "passed|failed" "$OUT/tests.log" | tail -3
[ -n "${SKIP_BENCH:-}" ] && exit 0
timeout 300 /tmp/deno run -A --no-config --unstable-webgpu .gpu/kernels_bench.js > "$OUT/bench.log" 2>&1
echo "bench rc=$?"
tail -40 "$OUT/bench.log"
