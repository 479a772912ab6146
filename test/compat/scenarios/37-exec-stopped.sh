docker create --name es busybox true >/dev/null
docker exec es true 2>/dev/null
echo "rc=$?"
docker rm es
