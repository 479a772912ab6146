docker run --rm --network none --hostname nn busybox sh -c 'hostname; cat /etc/hosts | grep -c localhost; ip -o link | wc -l'
docker run --rm --network none busybox hostname -i 2>&1
echo "rc=$?"
