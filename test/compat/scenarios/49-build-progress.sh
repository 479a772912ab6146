# docker build's progress as the classic builder prints it: the steps, the intermediate
# containers of RUN and metadata steps, RUN's output, the cache on a second build, the result.
export DOCKER_BUILDKIT=0
mkdir ctx && cd ctx
echo x > f
printf 'FROM busybox\nENV A=1\nRUN echo "hi $A"\nCOPY f /f\nCMD ["cat", "/f"]\n' > Dockerfile
docker build --network none -t compat-progress .
docker build --network none -t compat-progress .
docker rmi compat-progress >/dev/null
docker image prune -f >/dev/null
