tmp=$(mktemp -d)
echo content > "$tmp/file.txt"
docker create --name cp1 busybox true >/dev/null
docker cp "$tmp/file.txt" cp1:/tmp/
docker cp cp1:/tmp/file.txt "$tmp/back.txt"
cat "$tmp/back.txt"
docker cp cp1:/etc/hostname-nope "$tmp/x" 2>/dev/null
echo "rc=$?"
docker rm cp1
rm -rf "$tmp"
