docker create --name before busybox true >/dev/null
docker rename before after
docker ps -a --format '{{.Names}}'
docker rename nosuch x 2>/dev/null
echo "rc=$?"
docker rm after
