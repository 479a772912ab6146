docker run -d --name k1 busybox sleep 100 >/dev/null
docker kill -s KILL k1
docker wait k1
docker rm k1
docker run -d --name k2 busybox sh -c 'trap "exit 7" TERM; echo ready; sleep 100 & wait' >/dev/null
for i in $(seq 200); do docker logs k2 | grep -q ready && break; sleep 0.1; done
docker stop k2
docker wait k2
docker rm k2
docker run -d --name k3 busybox sleep 100 >/dev/null
docker stop -t 1 k3
docker wait k3
docker rm k3
