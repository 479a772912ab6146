docker run --rm --hostname box busybox env | sort
