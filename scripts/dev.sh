#!/usr/bin/env bash
# The main job: install what is missing, build dist/tsd, load a test image and run a container.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
bash scripts/build.sh
images=/tmp/tsd-test-images
bash test/fixtures/make-images.sh "$images" >/dev/null
root=$(mktemp -d /dev/shm/tsd-dev-XXXXXX)
# The default bridge and its NAT outlive containers (as docker0 does): a demo root that goes
# away takes them down first.
trap 'dist/tsd --root "$root" network prune -f >/dev/null 2>&1 || true; rm -rf "$root"' EXIT
dist/tsd --version
dist/tsd --root "$root" load -i "$images/busybox-docker.tar"
dist/tsd --root "$root" images
dist/tsd --root "$root" run --rm --hostname tsd-demo busybox sh -c 'echo "hello from $(hostname), pid $$"'
