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
sources=(src zig build.zig package.json bun.lock versions.env tsconfig.json bunfig.toml)
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
echo "test.sh: zig build test"
zig_log=$(mktemp)
trap 'rm -f "$zig_log"' EXIT
scripts/zig build test --summary new 2>&1 | tee "$zig_log"
zig_rc=${PIPESTATUS[0]}
# "Build Summary: 10/10 steps succeeded; 41/41 tests passed[; 1 skipped][; 2 failed]"
summary=$(grep -a 'Build Summary:' "$zig_log" | tail -1)
zig_pass=0 zig_fail=0
if [[ $summary =~ ([0-9]+)/([0-9]+)\ tests\ passed(\;\ ([0-9]+)\ skipped)? ]]; then
  zig_pass=${BASH_REMATCH[1]}
  zig_fail=$((BASH_REMATCH[2] - BASH_REMATCH[1] - ${BASH_REMATCH[4]:-0}))
fi
# A compile error or a crash runs no test (or loses the count): one failure, not zero.
if [ "$zig_rc" != 0 ] && [ "$zig_fail" = 0 ]; then zig_fail=1; fi
echo "zig test: $zig_pass pass, $zig_fail fail"

# ---- bun tests -------------------------------------------------------------------------------
if [ $# -gt 0 ]; then bun_args=("$@"); else bun_args=(test/unit test/contract test/e2e); fi
echo "test.sh: bun test ${bun_args[*]}"
bun test "${bun_args[@]}"
bun_rc=$?

if [ "$zig_rc" != 0 ] || [ "$zig_fail" != 0 ] || [ "$bun_rc" != 0 ]; then
  echo "test.sh: FAILED (zig build test exit $zig_rc, bun test exit $bun_rc)" >&2
  exit 1
fi
echo "test.sh: all passed"
