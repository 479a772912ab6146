docker run -d --name c1 busybox sh -c 'echo out; echo err >&2; sleep 0.3; echo two' >/dev/null
docker wait c1
docker logs c1 2>/dev/null
echo ---
docker logs c1 2>&1 >/dev/null
echo ---
docker logs --tail 1 c1
docker rm c1
