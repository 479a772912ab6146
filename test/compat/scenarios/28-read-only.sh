docker run --rm --read-only busybox touch /x 2>/dev/null
echo "rc=$?"
docker run --rm --read-only busybox touch /tmp/x 2>/dev/null
echo "rc=$?"
docker run --rm --read-only --tmpfs /tmp busybox touch /tmp/x
echo "rc=$?"
