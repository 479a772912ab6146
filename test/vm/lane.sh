#!/usr/bin/env bash
# The VM test lane: tsd's cgroup v2 end-to-end tests on a pure cgroup v2 kernel (a Debian
# kernel booted under QEMU TCG by test/vm/run.sh), for hosts like these whose own cgroups are
# v1 hybrid. Run as root after scripts/build.sh:
#
#   bash test/vm/lane.sh                 all of test/vm/*.test.ts in the guest
#   bash test/vm/lane.sh test/vm/x.test.ts -t name     bun test arguments instead
#
# The test images are built on the host (they are the same files the main suite uses) and
# read by the guest through its view of the host's /tmp. Prints bun's summary (" N pass",
# " M fail") like scripts/test.sh; exit status non-zero when the guest or a test failed.
set -euo pipefail
cd "$(dirname "$0")/../.."
images=${TSD_TEST_IMAGES:-/tmp/tsd-test-images}
bash test/fixtures/make-images.sh "$images" >/dev/null
export TSD_TEST_IMAGES=$images
exec bash test/vm/run.sh env TSD_TEST_IMAGES="$images" bash test/vm/guest.sh "$@"
