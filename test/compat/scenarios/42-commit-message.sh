docker run --name cm busybox touch /x
docker commit -m "added x" -a "Someone <s@example.com>" cm msgimg:1 >/dev/null
docker inspect -f '{{.Comment}}|{{.Author}}' msgimg:1
docker history --format '{{.Comment}}' msgimg:1 | head -1
docker rm cm
docker rmi msgimg:1 >/dev/null
