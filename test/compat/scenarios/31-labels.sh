docker run --name l1 -l app=web -l tier=front busybox true
docker inspect -f '{{.Config.Labels.app}} {{index .Config.Labels "tier"}}' l1
docker ps -a --filter label=app=web --format '{{.Names}}'
docker ps -a --filter label=app=db --format '{{.Names}}'
docker rm l1
