docker run -d --name s1 busybox sleep 100 >/dev/null
docker inspect -f '{{.State.Status}}' s1
docker stop -t 1 s1
docker inspect -f '{{.State.Status}} {{.State.ExitCode}}' s1
docker start s1
docker inspect -f '{{.State.Status}}' s1
docker kill s1
docker inspect -f '{{.State.Status}} {{.State.ExitCode}}' s1
docker rm s1
