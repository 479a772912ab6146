docker run -d --name r1 busybox sleep 100 >/dev/null
docker rm r1 2>/dev/null
echo "rc=$?"
docker rm -f r1
docker rm r1 2>/dev/null
echo "rc=$?"
