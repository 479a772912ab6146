docker run --rm busybox grep NoNewPrivs /proc/self/status
docker run --rm --security-opt no-new-privileges busybox grep NoNewPrivs /proc/self/status
