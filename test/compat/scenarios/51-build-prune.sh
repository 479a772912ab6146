# image prune after a build: a tagged image's intermediate images stay (a rebuild takes every
# step of its stage from the cache), the other stage's untagged result goes with its steps;
# rmi of the tagged image takes its untagged parents with it.
export DOCKER_BUILDKIT=0
mkdir ctx && cd ctx
printf 'FROM busybox AS first\nRUN echo 1 > /one\nFROM busybox\nENV K=v\nRUN echo 2 > /two\nCOPY --from=first /one /one\n' > Dockerfile
docker build --network none -t compat-prune . | grep -c 'Using cache'
docker images -a -q | wc -l
docker image prune -f >/dev/null
docker images -a -q | wc -l
docker build --network none -t compat-prune . | grep -c 'Using cache'
docker images -a -q | wc -l
docker rmi compat-prune >/dev/null
docker images -a -q | wc -l
docker image prune -f >/dev/null
docker images -a --format '{{.Repository}}'
