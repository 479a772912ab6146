docker run -d --name q1 busybox sleep 100 >/dev/null
docker ps -q | wc -l
docker ps -aq --filter name=q1 | wc -l
docker ps --filter name=nomatch -q | wc -l
docker rm -f q1
