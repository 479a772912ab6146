docker tag busybox:latest mybox:v1
docker images --format '{{.Repository}}:{{.Tag}}' | sort
docker images mybox --format '{{.Repository}} {{.Tag}}'
docker images -q mybox | wc -l
docker rmi mybox:v1
docker images --format '{{.Repository}}:{{.Tag}}' | sort
