docker run --rm -e FOO=bar -e EMPTY= busybox sh -c 'echo "[$FOO][$EMPTY]"'
docker run --rm -w /tmp busybox pwd
docker run --rm -w /does/not/exist busybox pwd
docker run --rm --entrypoint echo busybox via entrypoint
