tmp=$(mktemp -d)
echo from-host > "$tmp/in"
docker run --rm -v "$tmp:/mnt" busybox sh -c 'cat /mnt/in; echo from-container > /mnt/out'
cat "$tmp/out"
docker run --rm -v "$tmp:/mnt:ro" busybox sh -c 'echo x > /mnt/ro' 2>/dev/null
echo "rc=$?"
rm -rf "$tmp"
