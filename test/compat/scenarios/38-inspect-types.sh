docker inspect -f '{{.Config.Cmd}} {{.Os}} {{.Architecture}}' busybox
docker inspect --type image -f '{{index .RepoTags 0}}' busybox
docker image inspect -f '{{json .Config.Env}}' busybox
