docker run --rm --hostname myhost busybox hostname
docker run --rm --name named-box --hostname h2 busybox cat /etc/hostname
