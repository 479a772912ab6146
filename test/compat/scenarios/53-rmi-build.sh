# rmi of a built image: the Untagged:/Deleted: lines Docker prints, the image's untagged build
# parents deleted with it (each with its own Deleted: line) and every layer it alone held
# (Deleted: its chain id). Each id is named by what it is: an image by its layer count and
# Env, a layer by its place in the final image (chain ids computed from the diff ids). Then
# rmi --no-prune of the same build, and image prune of the parents it left.
export DOCKER_BUILDKIT=0
mkdir ctx && cd ctx
printf 'one\n' > one.txt
printf 'FROM busybox\nRUN echo 1 > /one\nENV K=v\nCOPY one.txt /\nRUN echo 2 > /two\nLABEL l=x\n' > Dockerfile
docker build -q --network none -t compat-rmi . >/dev/null
names=()
for id in $(docker images -a -q --no-trunc); do
  names+=("s|${id#sha256:}|image($(docker inspect -f '{{len .RootFS.Layers}} {{.Config.Env}}' "$id"))|")
done
prev=""
n=0
for diff in $(docker inspect -f '{{range .RootFS.Layers}}{{.}} {{end}}' compat-rmi); do
  if [ -z "$prev" ]; then chain=$diff; else chain="sha256:$(printf '%s %s' "$prev" "$diff" | sha256sum | cut -d' ' -f1)"; fi
  names+=("s/${chain#sha256:}/layer($n)/")
  prev=$chain n=$((n + 1))
done
script=$(printf '%s;' "${names[@]}")
docker rmi compat-rmi | sed -e "$script"
docker images -a --format '{{.Repository}}'
# --no-prune: the image only (and its top layer: its parent holds the rest); the parents stay.
docker build -q --network none -t compat-rmi . >/dev/null
docker images -a -q | wc -l
docker rmi --no-prune compat-rmi | sed -E 's/sha256:[0-9a-f]{64}/sha256:X/'
docker images -a -q | wc -l
# image prune of the parents left: each image and each layer it alone held (sizes differ).
docker image prune -f | grep -v '^Total reclaimed' | sed -E 's/sha256:[0-9a-f]{64}/sha256:X/'
