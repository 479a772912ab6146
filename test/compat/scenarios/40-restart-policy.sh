docker run -d --name rp --restart on-failure:2 busybox sh -c 'exit 1' >/dev/null
for i in $(seq 200); do [ "$(docker inspect -f '{{.RestartCount}} {{.State.Status}}' rp)" = "2 exited" ] && break; sleep 0.1; done
docker inspect -f '{{.RestartCount}} {{.State.Status}} {{.HostConfig.RestartPolicy.Name}} {{.HostConfig.RestartPolicy.MaximumRetryCount}}' rp
docker rm -f rp
