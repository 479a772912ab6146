#!/usr/bin/env python3
# image-fs.py ARCHIVE: a `docker save`-format archive (docker save, tsd save, buildah push
# docker-archive:) read as the image it holds. Prints one JSON object: the image config and the
# root filesystem its layers make, applied in order with their whiteouts (`.wh.NAME` removes
# NAME, `.wh..wh..opq` empties its directory of what lower layers put there), each path with
# its type, mode (permission and set-id bits), owner, link target, and a file's size and
# sha256. Hard links are reported as files (their content hashed). Read by
# test/e2e/build-diff.test.ts to compare engines. Python's tarfile reads every header format
# the engines write (ustar, GNU long names, PAX).
import hashlib, json, sys, tarfile

TYPES = {tarfile.REGTYPE: "file", tarfile.AREGTYPE: "file", tarfile.DIRTYPE: "dir", tarfile.SYMTYPE: "symlink",
         tarfile.LNKTYPE: "file", tarfile.CHRTYPE: "char", tarfile.BLKTYPE: "block", tarfile.FIFOTYPE: "fifo"}


def norm(name):
    parts = [p for p in name.split("/") if p not in ("", ".")]
    return "/" + "/".join(parts)


def parent(path):
    return path.rsplit("/", 1)[0] or "/"


def apply_layer(fs, layer):
    opaque, entries = [], []
    for m in layer:
        path = norm(m.name)
        base = path.rsplit("/", 1)[1]
        if base == ".wh..wh..opq":
            opaque.append(parent(path))
        elif base.startswith(".wh."):
            gone = parent(path).rstrip("/") + "/" + base[4:]
            for p in [p for p in fs if p == gone or p.startswith(gone + "/")]:
                del fs[p]
        else:
            entries.append((path, m))
    # An opaque directory hides what lower layers put under it (this layer's own entries stay).
    for d in opaque:
        for p in [p for p in fs if p.startswith(d.rstrip("/") + "/")]:
            del fs[p]
    for path, m in entries:
        if m.type != tarfile.DIRTYPE:
            for p in [p for p in fs if p.startswith(path + "/")]:
                del fs[p]
        fs[path] = describe(layer, m)


def describe(layer, m):
    e = {"type": TYPES.get(m.type, "other:" + m.type.decode()), "mode": oct(m.mode & 0o7777), "uid": m.uid, "gid": m.gid}
    if m.type == tarfile.SYMTYPE:
        e["link"] = m.linkname
    if m.type == tarfile.LNKTYPE:
        m = next(x for x in layer.getmembers() if norm(x.name) == norm(m.linkname))
    if m.isreg():
        data = layer.extractfile(m).read()
        e["size"] = len(data)
        e["sha256"] = hashlib.sha256(data).hexdigest()
    if m.ischr() or m.isblk():
        e["dev"] = f"{m.devmajor}:{m.devminor}"
    return e


def main(path):
    with tarfile.open(path) as outer:
        manifest = json.load(outer.extractfile("manifest.json"))[0]
        config = json.load(outer.extractfile(manifest["Config"]))
        fs = {}
        for name in manifest["Layers"]:
            with tarfile.open(fileobj=outer.extractfile(name)) as layer:
                apply_layer(fs, layer)
    json.dump({"config": config, "files": fs}, sys.stdout, sort_keys=True)


main(sys.argv[1])
