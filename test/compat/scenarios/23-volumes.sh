docker volume create v1
docker volume ls --format '{{.Name}}'
docker volume inspect -f '{{.Name}} {{.Driver}}' v1
docker run --rm -v v1:/data busybox sh -c 'echo persisted > /data/f'
docker run --rm -v v1:/data busybox cat /data/f
docker volume rm v1
docker volume rm v1 2>/dev/null
echo "rc=$?"
