msg() { sed -e 's/^Error response from daemon: //' -e 's/^tsd: //'; }
docker run -d --name p1 busybox sleep 100 >/dev/null
docker pause p1
docker inspect -f '{{.State.Status}} {{.State.Running}} {{.State.Paused}}' p1
docker ps --filter status=paused --format '{{.Names}} {{.Status}}'
docker pause p1 2>&1 | msg
docker exec p1 true 2>&1 | msg; echo "exec rc=${PIPESTATUS[0]}"
docker attach p1 </dev/null 2>&1 | msg; echo "attach rc=${PIPESTATUS[0]}"
docker start p1 2>/dev/null; echo "start rc=$?"
docker rm p1 2>&1 | msg; echo "rm rc=${PIPESTATUS[0]}"
docker unpause p1
docker unpause p1 2>&1 | msg; echo "unpause rc=${PIPESTATUS[0]}"
docker inspect -f '{{.State.Status}} {{.State.Paused}}' p1
docker pause p1 >/dev/null
docker stop -t 1 p1 >/dev/null
docker inspect -f '{{.State.Status}} {{.State.Paused}} {{.State.ExitCode}}' p1
docker pause p1 2>&1 | msg; echo "pause rc=${PIPESTATUS[0]}"
docker rm p1
