docker create --name x1 busybox true >/dev/null
docker export x1 | tar -t | grep -E '^(bin/busybox|etc/passwd|bin/sh)$' | sort
docker rm x1
