docker run --name cm1 busybox sh -c 'echo layered > /hello'
docker commit --change 'CMD ["cat", "/hello"]' --change 'ENV MODE=committed' cm1 committed:v1 >/dev/null
docker run --rm committed:v1
docker run --rm committed:v1 sh -c 'echo $MODE'
docker inspect -f '{{json .Config.Cmd}}' committed:v1
docker rm cm1
docker rmi committed:v1 >/dev/null
