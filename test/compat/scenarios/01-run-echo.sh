docker run --rm busybox echo hello world
