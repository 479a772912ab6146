docker run -d --name w1 busybox sh -c 'exit 1' >/dev/null
docker run -d --name w2 busybox sh -c 'exit 2' >/dev/null
docker wait w1 w2
docker rm w1 w2
