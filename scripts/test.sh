#!/usr/bin/env bash
# The whole test suite, as root (no sudo needed): the Zig unit tests, then bun's unit and
# end-to-end tests against the built dist/tsd (rebuilt first when missing or older than its
# sources).
#
#   bash scripts/test.sh                    everything
#   bash scripts/test.sh test/e2e/run       bun test with these arguments instead of the
#                                           default paths (the Zig tests still run first)
#
# Exit status: non-zero when any part failed. Prints bun's own summary (" N pass", " M fail")
# and one line "zig test: N pass, M fail" that .ci/run adds to it.
set -uo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
  echo "test.sh: the end-to-end tests need root (namespaces, mounts, cgroups): run it as root" >&2
  exit 1
fi

# ---- dist/tsd: build when missing or stale ---------------------------------------------------
sources=(src zig build.zig package.json bun.lock versions.env tsconfig.json bunfig.toml scripts/build.sh scripts/compile.sh)
existing=()
for s in "${sources[@]}"; do [ -e "$s" ] && existing+=("$s"); done
if [ ! -x dist/tsd ] || [ -n "$(find "${existing[@]}" -newer dist/tsd -print -quit)" ]; then
  echo "test.sh: building dist/tsd (missing or older than its sources)"
  if ! bash scripts/build.sh; then
    echo "test.sh: the build failed; not running the tests" >&2
    exit 1
  fi
fi

# ---- Zig unit tests --------------------------------------------------------------------------
# The host's, then the same built for aarch64 and run under qemu-aarch64 (arm64's syscall
# numbers, seccomp tokens, struct layouts; ~20 s cold, ~3 s cached).
zig_log=$(mktemp)
trap 'rm -f "$zig_log"' EXIT
zig_rc=0 zig_pass=0 zig_fail=0
zig_steps=(test)
if command -v qemu-aarch64 >/dev/null 2>&1; then
  zig_steps+=(test-aarch64)
else
  echo "test.sh: zig build test-aarch64 skipped: qemu-aarch64 not found (apt-get install qemu-user; scripts/bootstrap.sh does)"
fi
for step in "${zig_steps[@]}"; do
  echo "test.sh: zig build $step"
  scripts/zig build "$step" --summary new 2>&1 | tee "$zig_log"
  rc=${PIPESTATUS[0]}
  # "Build Summary: 10/10 steps succeeded; 41/41 tests passed[; 1 skipped][; 2 failed]"
  summary=$(grep -a 'Build Summary:' "$zig_log" | tail -1)
  pass=0 fail=0
  if [[ $summary =~ ([0-9]+)/([0-9]+)\ tests\ passed(\;\ ([0-9]+)\ skipped)? ]]; then
    pass=${BASH_REMATCH[1]}
    fail=$((BASH_REMATCH[2] - BASH_REMATCH[1] - ${BASH_REMATCH[4]:-0}))
  fi
  # A compile error or a crash runs no test (or loses the count): one failure, not zero.
  if [ "$rc" != 0 ] && [ "$fail" = 0 ]; then fail=1; fi
  if [ "$rc" != 0 ]; then zig_rc=$rc; fi
  zig_pass=$((zig_pass + pass)) zig_fail=$((zig_fail + fail))
done
echo "zig test: $zig_pass pass, $zig_fail fail"

# ---- bun tests -------------------------------------------------------------------------------
if [ $# -gt 0 ]; then bun_args=("$@"); else bun_args=(test/unit test/contract test/e2e test/compat); fi
echo "test.sh: bun test ${bun_args[*]}"
bun test "${bun_args[@]}"
bun_rc=$?

if [ "$zig_rc" != 0 ] || [ "$zig_fail" != 0 ] || [ "$bun_rc" != 0 ]; then
  echo "test.sh: FAILED (zig build test exit $zig_rc, bun test exit $bun_rc)" >&2
  exit 1
fi
echo "test.sh: all passed"
