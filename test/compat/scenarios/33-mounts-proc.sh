docker run --rm busybox sh -c 'cat /proc/kcore 2>&1 | head -c 0; echo kcore=$?; ls -la /proc/acpi 2>/dev/null | wc -l'
docker run --rm busybox sh -c 'echo 1 > /proc/sys/kernel/domainname' 2>/dev/null
echo "rc=$?"
docker run --rm busybox sh -c 'touch /sys/x' 2>/dev/null
echo "rc=$?"
