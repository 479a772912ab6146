docker create --name c2 -e A=1 busybox sh -c 'echo hi' >/dev/null
docker inspect -f '{{.State.Status}}' c2
docker inspect -f '{{.Name}} {{.Config.Image}}' c2
docker inspect -f '{{json .Config.Cmd}}' c2
docker inspect -f '{{.Config.Cmd}}' c2
docker inspect -f '{{range .Config.Env}}{{println .}}{{end}}' c2
docker inspect -f '{{index .Config.Cmd 0}} {{len .Config.Cmd}}' c2
docker inspect -f '{{if eq .State.Status "created"}}new{{else}}old{{end}}' c2
docker inspect -f '{{.State.Running}} {{.State.ExitCode}} {{.RestartCount}}' c2
docker rm c2
