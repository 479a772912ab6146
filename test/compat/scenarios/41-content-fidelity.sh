docker create --name f1 --expose 80 --expose 53/udp -e A=1 busybox sh -c 'echo "a b"' >/dev/null
docker inspect -f '{{.HostConfig.NetworkMode}}' f1
docker inspect -f '{{json .Config.ExposedPorts}}' f1
docker inspect -f '{{json .Config.Env}}' f1
docker inspect -f '{{json .Config.Labels}}' f1
docker ps -a --format '{{.Command}}' --filter name=f1
docker ps -a --no-trunc --format '{{.Command}}' --filter name=f1
docker create --name f2 busybox sh -c 'echo this is a rather long command line' >/dev/null
docker ps -a --format '{{.Command}}' --filter name=f2
docker rm f1 f2
