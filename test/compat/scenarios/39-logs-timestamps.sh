docker run --name lt busybox sh -c 'echo one; echo two'
docker logs -t lt | sed -E 's/^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z /TS /'
docker rm lt
