docker run --rm -u nobody busybox id
docker run --rm -u 1234:5678 busybox id
docker run --rm busybox id
