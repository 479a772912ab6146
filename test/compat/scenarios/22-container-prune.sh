docker run --name pr1 busybox true
docker run --name pr2 busybox true
docker container prune -f | grep -c -E '^[0-9a-f]{64}$'
docker ps -a --format '{{.Names}}'
