# docker build (the classic builder): a two-stage build with ARG, ENV, WORKDIR, COPY of a
# file and a directory's content, RUN, COPY --from, EXPOSE, LABEL, CMD; then the image's
# files, config and metadata history, and a failing RUN's exit status.
export DOCKER_BUILDKIT=0
mkdir ctx && cd ctx
printf 'hello\n' > f.txt
mkdir -p d/sub && echo x > d/sub/x && echo y > d/y
printf 'ignored\n' > skip.txt && printf 'skip.txt\n' > .dockerignore
cat > Dockerfile <<'DF'
FROM busybox AS base
ARG V=1
ENV A=$V B="two words" C=${UNSET:-dflt}
WORKDIR /app
COPY f.txt d ./
RUN echo "built $A $B $C" > /app/built
FROM busybox
COPY --from=base /app /app
ENV PATH=/app:$PATH
EXPOSE 80/udp 8080
LABEL a=b "c d"=e
USER 1000
CMD ["cat", "/app/built"]
DF
docker build -q --network none --build-arg V=2 -t compat-build . >/dev/null
docker run --rm compat-build
docker run --rm compat-build ls -R /app
docker inspect -f '{{json .Config.Env}} {{json .Config.Cmd}} {{json .Config.ExposedPorts}} {{json .Config.Labels}} {{.Config.User}} {{.Config.WorkingDir}}' compat-build
docker history --format '{{.CreatedBy}}' --no-trunc compat-build | head -5
printf 'FROM busybox\nRUN exit 7\n' | docker build -q --network none - >/dev/null 2>&1; echo "status $?"
docker rmi compat-build >/dev/null
# What the builds leave (the first stage's image, the failed step's container) goes too.
docker container prune -f >/dev/null
docker image prune -f >/dev/null
