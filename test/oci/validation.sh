#!/usr/bin/env bash
# bash test/oci/validation.sh RUNTIME [validation.ts options]: builds runtime-tools if needed
# (test/oci/build-tools.sh, cached) and runs its validation suite against RUNTIME.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tools=${TSD_OCI_TOOLS:-/var/cache/tsd-oci}
bash "$here/build-tools.sh" "$tools" >/dev/null
exec bun "$here/validation.ts" "$@" --tools "$tools"
