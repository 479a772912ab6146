#!/usr/bin/env python3
"""/dev/net/tun for one test user, by a POSIX ACL entry of its own (system.posix_acl_access),
never by the device's mode: concurrent test runs (each with its own user) do not undo each
other's access, and the host's mode stays as it was.

  tun-acl.py grant UID    u:UID:rw-
  tun-acl.py deny UID     u:UID:--- (closed to that user even where the mode is 0666)
  tun-acl.py drop UID     the entry removed; with no named entry left, the ACL goes and the
                          mode is what it was (the group bits are GROUP_OBJ's again)

Read-modify-write under an flock on /run/tsd-test-tun.lock."""
import fcntl, os, stat, struct, sys

DEV = "/dev/net/tun"
XATTR = "system.posix_acl_access"
USER_OBJ, USER, GROUP_OBJ, GROUP, MASK, OTHER = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20
UNDEFINED = 0xFFFFFFFF


def read_acl():
    """{(tag, id): perm}: the device's ACL, or the one its mode stands for."""
    try:
        raw = os.getxattr(DEV, XATTR)
    except OSError:
        mode = os.stat(DEV).st_mode
        return {(USER_OBJ, UNDEFINED): (mode >> 6) & 7, (GROUP_OBJ, UNDEFINED): (mode >> 3) & 7, (OTHER, UNDEFINED): mode & 7}
    (version,) = struct.unpack_from("<I", raw)
    assert version == 2, f"ACL version {version}"
    acl = {}
    for off in range(4, len(raw), 8):
        tag, perm, ident = struct.unpack_from("<HHI", raw, off)
        acl[(tag, ident)] = perm
    return acl


def write_acl(acl):
    named = {k: v for k, v in acl.items() if k[0] in (USER, GROUP)}
    base = {k: v for k, v in acl.items() if k[0] in (USER_OBJ, GROUP_OBJ, OTHER)}
    if not named:
        try:
            os.removexattr(DEV, XATTR)
        except OSError:
            pass
        u, g, o = base[(USER_OBJ, UNDEFINED)], base[(GROUP_OBJ, UNDEFINED)], base[(OTHER, UNDEFINED)]
        os.chmod(DEV, (os.stat(DEV).st_mode & ~0o777 & 0o7777) | (u << 6) | (g << 3) | o)
        return
    mask = base[(GROUP_OBJ, UNDEFINED)]
    for perm in named.values():
        mask |= perm
    entries = {**base, **named}
    entries[(MASK, UNDEFINED)] = mask
    raw = struct.pack("<I", 2) + b"".join(struct.pack("<HHI", t, entries[(t, i)], i) for t, i in sorted(entries))
    os.setxattr(DEV, XATTR, raw)


def main():
    verb, uid = sys.argv[1], int(sys.argv[2])
    perm = {"grant": 6, "deny": 0, "drop": None}[verb]
    with open("/run/tsd-test-tun.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        acl = read_acl()
        acl.pop((MASK, UNDEFINED), None)
        if perm is None:
            acl.pop((USER, uid), None)
        else:
            acl[(USER, uid)] = perm
        write_acl(acl)


if __name__ == "__main__":
    main()
