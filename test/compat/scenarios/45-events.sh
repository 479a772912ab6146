since=$(date +%s.%N)
docker create --name ev1 -l team=a busybox sh -c 'exit 3' >/dev/null
docker start ev1 >/dev/null
docker wait ev1
docker rename ev1 ev2
docker rm ev2 >/dev/null
until=$(date +%s.%N)
docker events --since "$since" --until "$until" --filter container=ev1 --filter container=ev2 --format '{{.Type}} {{.Action}} {{.Actor.Attributes.name}} {{.Actor.Attributes.team}}'
docker events --since "$since" --until "$until" --filter event=die --format '{{.Status}} {{.From}} {{.Actor.Attributes.exitCode}}'
docker events --since "$since" --until "$until" --filter event=rename --format '{{.Actor.Attributes.oldName}}'
docker events --since "$since" --until "$since" --filter container=ev2
