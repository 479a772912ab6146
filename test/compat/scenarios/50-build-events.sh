# The events a classic build logs (containers and images; tsd logs no network event for a
# --network none container, run or build): each RUN's container (create, attach, start, die,
# destroy), each metadata step's container (create, destroy), the image's tag.
export DOCKER_BUILDKIT=0
mkdir ctx && cd ctx
printf 'FROM busybox\nENV A=1\nRUN true\nLABEL x=y\n' > Dockerfile
since=$(date +%s.%N)
docker build -q --network none -t compat-ev . >/dev/null
until=$(date +%s.%N)
docker events --since "$since" --until "$until" --filter type=container --filter type=image --format '{{.Type}} {{.Action}} {{.Actor.Attributes.name}}' | sed -E 's/^(container [a-z]+) [a-z]+_[a-z]+[0-9]*$/\1 NAME/'
docker events --since "$since" --until "$until" --filter type=container --filter event=die --format '{{.Actor.Attributes.exitCode}} {{.Actor.Attributes.image}}'
docker rmi compat-ev >/dev/null
docker image prune -f >/dev/null
