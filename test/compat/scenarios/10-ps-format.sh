docker create --name p1 busybox true >/dev/null
docker run --name p2 busybox true
docker ps -a --format '{{.Names}} {{.Image}} {{.Command}}' | sort
docker ps -a --filter name=p1 --format '{{.Names}}'
docker ps -a --filter status=exited --format '{{.Names}}'
docker ps -a --filter status=created --format '{{.Names}}'
docker ps -a --filter exited=0 --format '{{.Names}}'
docker ps --format '{{.Names}}'
docker rm p1 p2
