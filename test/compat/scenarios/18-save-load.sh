docker tag busybox:latest roundtrip:1
docker save roundtrip:1 | docker load
docker rmi roundtrip:1
