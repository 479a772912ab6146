docker run --rm busybox nosuchcommand
echo "rc=$?"
docker run --rm busybox /etc/passwd
echo "rc=$?"
docker run --rm nosuchimage:v1 true 2>/dev/null
echo "rc=$?"
