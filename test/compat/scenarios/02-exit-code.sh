docker run --rm busybox sh -c 'exit 3'
echo "rc=$?"
docker run --rm busybox false
