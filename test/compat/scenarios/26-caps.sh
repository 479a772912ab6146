docker run --rm busybox grep -E '^Cap(Inh|Prm|Eff|Bnd|Amb)' /proc/self/status
docker run --rm --cap-drop ALL busybox grep CapEff /proc/self/status
docker run --rm --cap-add SYS_ADMIN busybox grep CapBnd /proc/self/status
docker run --rm busybox grep Seccomp: /proc/self/status
