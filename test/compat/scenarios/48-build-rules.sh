# docker build's rules (the classic builder): exit statuses of a bad instruction, a path
# outside the context, a missing source, a failing RUN and an unknown target; ARG reaching RUN
# but not the image; ENV substitution with defaults, alternatives, quotes and escapes.
export DOCKER_BUILDKIT=0
mkdir ctx && cd ctx
echo x > f
b() { docker build -q --network none "$@" >/dev/null 2>&1; }
printf 'FROM busybox\nRUNN echo\n' > Dockerfile; b .; echo "unknown instruction: $?"
printf 'FROM busybox\nCOPY ../f /f\n' > Dockerfile; b .; echo "outside the context: $?"
printf 'FROM busybox\nCOPY missing /m\n' > Dockerfile; b .; echo "missing source: $?"
printf 'FROM busybox\nRUN exit 42\n' > Dockerfile; b .; echo "failing RUN: $?"
printf 'FROM busybox AS one\nENV A=1\n' > Dockerfile; b --target nope .; echo "unknown target: $?"
cat > Dockerfile <<'DF'
FROM busybox
ARG X=default
ARG Y
RUN echo "x=$X y=$Y" > /args
ENV A=a B="b c"
ENV C=${A:-x}${UNSET:-y}${A:+z}${UNSET:+w} D='$A' E="$B" F=\$A G=pre${A}post
COPY f /copied/
DF
b --build-arg X=7 -t compat-rules .; echo "build: $?"
docker run --rm compat-rules sh -c 'cat /args /copied/f; echo "[$X]"'
docker inspect -f '{{json .Config.Env}}' compat-rules
docker rmi compat-rules >/dev/null
docker container prune -f >/dev/null
docker image prune -f >/dev/null
