docker system df --format '{{.Type}} {{.TotalCount}} {{.Active}}'
docker run -d --name d1 busybox sleep 100 >/dev/null
docker run --name d2 busybox true
docker system df --format '{{.Type}} {{.TotalCount}} {{.Active}}'
docker system df | head -1
docker system prune -f
docker rm -f d1 >/dev/null
docker system df --format '{{.Type}} {{.TotalCount}} {{.Active}}'
