docker run -d --name e1 busybox sleep 100 >/dev/null
docker exec e1 echo hi
docker exec e1 sh -c 'exit 5'
echo "rc=$?"
docker exec e1 nosuchcommand >/dev/null 2>&1
echo "rc=$?"
docker exec -w /tmp e1 pwd
docker exec -e X=1 e1 sh -c 'echo $X'
docker exec -u nobody e1 id -u
echo piped | docker exec -i e1 cat
docker rm -f e1
