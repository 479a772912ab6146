docker create --name a1 busybox echo attached-output >/dev/null
docker start -a a1
docker start -a a1
docker rm a1
