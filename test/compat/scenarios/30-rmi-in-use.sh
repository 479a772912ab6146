docker tag busybox:latest inuse:1
docker create --name u1 inuse:1 true >/dev/null
docker rmi inuse:1 >/dev/null 2>&1
echo "rc=$?"
docker rm u1
docker rmi inuse:1 | sed 's/sha256:[0-9a-f]*/sha256:X/'
