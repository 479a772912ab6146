// tsd_unpack through the FFI wrapper, as root: archives made by Python's tarfile and GNU tar,
// gzip and zstd, overlay whiteouts, and hostile archives that try to write outside the
// destination. Needs: python3, tar, gzip, zstd (apt: zstd).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { loadCore, unpack } from "../../src/native/ffi";

let tmp: string;
let seq = 0;

beforeAll(() => {
  tmp = mkdtempSync("/dev/shm/tsd-e2e-unpack-");
  loadCore(join(tmp, "core"));
  writeFileSync(join(tmp, "mktar.py"), MKTAR);
});

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------
// Helpers

interface Entry {
  name: string;
  type?: "file" | "dir" | "symlink" | "link" | "fifo" | "chr" | "blk";
  data?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  /** xattr name -> value as hex */
  xattrs?: Record<string, string>;
}

// Python's tarfile writes whatever names it is given (hostile ones included) and PAX xattrs.
const MKTAR = `
import io, json, sys, tarfile
spec = json.load(open(sys.argv[1]))
fmt = {"pax": tarfile.PAX_FORMAT, "gnu": tarfile.GNU_FORMAT, "ustar": tarfile.USTAR_FORMAT}[spec["format"]]
types = {"file": tarfile.REGTYPE, "dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE, "link": tarfile.LNKTYPE,
         "fifo": tarfile.FIFOTYPE, "chr": tarfile.CHRTYPE, "blk": tarfile.BLKTYPE}
with tarfile.open(sys.argv[2], "w", format=fmt) as t:
    for e in spec["entries"]:
        ti = tarfile.TarInfo(e["name"])
        ti.type = types[e.get("type", "file")]
        ti.mode = e.get("mode", 0o755 if ti.type == tarfile.DIRTYPE else 0o644)
        ti.uid = e.get("uid", 0)
        ti.gid = e.get("gid", 0)
        ti.mtime = e.get("mtime", 1700000000)
        ti.linkname = e.get("linkname", "")
        ti.devmajor = e.get("devmajor", 0)
        ti.devminor = e.get("devminor", 0)
        if "xattrs" in e:
            ti.pax_headers = {"SCHILY.xattr." + k: bytes.fromhex(v).decode("utf-8", "surrogateescape")
                              for k, v in e["xattrs"].items()}
        data = e.get("data", "").encode()
        if ti.type == tarfile.REGTYPE:
            ti.size = len(data)
            t.addfile(ti, io.BytesIO(data))
        else:
            t.addfile(ti)
`;

function sh(cmd: string[], opts: { cwd?: string } = {}): string {
  const r = Bun.spawnSync(cmd, { cwd: opts.cwd, stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${cmd.join(" ")}: ${r.stderr.toString()}`);
  return r.stdout.toString();
}

function fresh(label: string): string {
  const dir = join(tmp, `${label}-${++seq}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** A tar written by Python's tarfile from `entries`. */
function mktar(entries: Entry[], format: "pax" | "gnu" | "ustar" = "pax"): string {
  const id = ++seq;
  const spec = join(tmp, `spec-${id}.json`);
  const out = join(tmp, `archive-${id}.tar`);
  writeFileSync(spec, JSON.stringify({ format, entries }));
  sh(["python3", join(tmp, "mktar.py"), spec, out]);
  return out;
}

function sha256(path: string): string {
  return "sha256:" + new Bun.CryptoHasher("sha256").update(readFileSync(path)).digest("hex");
}

function getxattr(path: string, name: string): string | null {
  const out = sh([
    "python3",
    "-c",
    "import os,sys\ntry: print(os.getxattr(sys.argv[1], sys.argv[2], follow_symlinks=False).hex())\nexcept OSError: print('none')",
    path,
    name,
  ]).trim();
  return out === "none" ? null : out;
}

/** An "outside" directory holding one sentinel file; `untouched` checks it is as made. */
function outside(): { dir: string; secret: string; untouched: () => void } {
  const dir = mkdtempSync("/dev/shm/tsd-e2e-outside-");
  const secret = join(dir, "secret");
  writeFileSync(secret, "sentinel\n");
  const untouched = () => {
    expect(readdirSync(dir)).toEqual(["secret"]);
    expect(readFileSync(secret, "utf8")).toBe("sentinel\n");
    expect(statSync(secret).nlink).toBe(1);
    expect(getxattr(dir, "trusted.overlay.opaque")).toBeNull();
  };
  return { dir, secret, untouched };
}

const outsides: string[] = [];
afterAll(() => {
  for (const dir of outsides) rmSync(dir, { recursive: true, force: true });
});

function withOutside() {
  const o = outside();
  outsides.push(o.dir);
  return o;
}

function major(rdev: number): number {
  return ((rdev >> 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) & ~0xfff);
}
function minor(rdev: number): number {
  return (rdev & 0xff) | ((rdev >> 12) & ~0xff);
}

// A v2 file capability: cap_net_bind_service permitted and effective.
const CAP_NET_BIND = "0100000200040000000000000000000000000000";

// ---------------------------------------------------------------------------------------

describe("entry types and metadata", () => {
  const entries: Entry[] = [
    { name: "dir", type: "dir", mode: 0o750, uid: 1234, gid: 5678, mtime: 1000000000 },
    { name: "dir/file.txt", data: "hello\n", mode: 0o640, uid: 1234, gid: 5678, mtime: 1600000000 },
    { name: "dir/link", type: "symlink", linkname: "file.txt", uid: 1234, gid: 5678, mtime: 1500000000 },
    { name: "dir/hard", type: "link", linkname: "dir/file.txt" },
    { name: "fifo", type: "fifo", mode: 0o600, uid: 7, gid: 8 },
    { name: "null", type: "chr", mode: 0o666, devmajor: 1, devminor: 3 },
    { name: "loop", type: "blk", mode: 0o660, devmajor: 7, devminor: 300 },
    { name: "bin/su", data: "#!/bin/sh\n", mode: 0o4755, uid: 0, gid: 0 },
    { name: "bin/sgid", data: "x", mode: 0o2711, uid: 1000, gid: 1000 },
    { name: "bin/ping", data: "ping", mode: 0o755, xattrs: { "security.capability": CAP_NET_BIND } },
    { name: "xattr.txt", data: "x", xattrs: { "user.foo": Buffer.from("bar").toString("hex") } },
    { name: "deep/a/b/c/file", data: "no parents in the archive" },
    { name: "./dot/slash", data: "leading ./" },
  ];

  let dest: string;
  let tarPath: string;
  let result: { size: number; diffId: string };

  beforeAll(() => {
    tarPath = mktar(entries);
    dest = fresh("types");
    result = unpack(tarPath, dest, { layer: false });
  });

  test("size and diffID are those of the uncompressed tar", () => {
    expect(result.size).toBe(statSync(tarPath).size);
    expect(result.diffId).toBe(sha256(tarPath));
  });

  test("regular files: content, owner, mode, mtime", () => {
    const p = join(dest, "dir/file.txt");
    expect(readFileSync(p, "utf8")).toBe("hello\n");
    const st = statSync(p);
    expect(st.mode & 0o7777).toBe(0o640);
    expect([st.uid, st.gid]).toEqual([1234, 5678]);
    expect(st.mtime.getTime() / 1000).toBe(1600000000);
  });

  test("directories keep owner, mode and an mtime set after their children", () => {
    const st = statSync(join(dest, "dir"));
    expect(st.isDirectory()).toBe(true);
    expect(st.mode & 0o7777).toBe(0o750);
    expect([st.uid, st.gid]).toEqual([1234, 5678]);
    expect(st.mtime.getTime() / 1000).toBe(1000000000);
  });

  test("symlinks are created, not followed, with their owner", () => {
    const p = join(dest, "dir/link");
    expect(lstatSync(p).isSymbolicLink()).toBe(true);
    expect(readlinkSync(p)).toBe("file.txt");
    expect([lstatSync(p).uid, lstatSync(p).gid]).toEqual([1234, 5678]);
    expect(lstatSync(p).mtime.getTime() / 1000).toBe(1500000000);
  });

  test("hard links share the inode", () => {
    expect(statSync(join(dest, "dir/hard")).ino).toBe(statSync(join(dest, "dir/file.txt")).ino);
    expect(statSync(join(dest, "dir/file.txt")).nlink).toBe(2);
  });

  test("fifo, character and block devices", () => {
    const fifo = lstatSync(join(dest, "fifo"));
    expect(fifo.isFIFO()).toBe(true);
    expect(fifo.mode & 0o7777).toBe(0o600);
    expect([fifo.uid, fifo.gid]).toEqual([7, 8]);
    const chr = lstatSync(join(dest, "null"));
    expect(chr.isCharacterDevice()).toBe(true);
    expect([major(chr.rdev), minor(chr.rdev)]).toEqual([1, 3]);
    expect(chr.mode & 0o7777).toBe(0o666);
    const blk = lstatSync(join(dest, "loop"));
    expect(blk.isBlockDevice()).toBe(true);
    expect([major(blk.rdev), minor(blk.rdev)]).toEqual([7, 300]);
  });

  test("setuid and setgid bits survive chown", () => {
    expect(statSync(join(dest, "bin/su")).mode & 0o7777).toBe(0o4755);
    const sgid = statSync(join(dest, "bin/sgid"));
    expect(sgid.mode & 0o7777).toBe(0o2711);
    expect([sgid.uid, sgid.gid]).toEqual([1000, 1000]);
  });

  test("xattrs: security.capability and user.*", () => {
    expect(getxattr(join(dest, "bin/ping"), "security.capability")).toBe(CAP_NET_BIND);
    expect(getxattr(join(dest, "xattr.txt"), "user.foo")).toBe(Buffer.from("bar").toString("hex"));
  });

  test("missing parents are created", () => {
    expect(readFileSync(join(dest, "deep/a/b/c/file"), "utf8")).toBe("no parents in the archive");
    expect(statSync(join(dest, "deep/a")).mode & 0o7777).toBe(0o755);
    expect(readFileSync(join(dest, "dot/slash"), "utf8")).toBe("leading ./");
  });

  test("gzip and zstd streams give the same tree and the diffID of the tar inside", () => {
    sh(["gzip", "-k", "-f", tarPath]);
    sh(["zstd", "-q", "-f", tarPath, "-o", `${tarPath}.zst`]);
    for (const compressed of [`${tarPath}.gz`, `${tarPath}.zst`]) {
      const d = fresh("compressed");
      const r = unpack(compressed, d, { layer: false });
      expect(r).toEqual(result);
      expect(readFileSync(join(d, "dir/file.txt"), "utf8")).toBe("hello\n");
      expect(statSync(join(d, "bin/su")).mode & 0o7777).toBe(0o4755);
      expect(getxattr(join(d, "bin/ping"), "security.capability")).toBe(CAP_NET_BIND);
    }
  });

  test("concatenated gzip members are one stream", () => {
    const half = Math.floor(statSync(tarPath).size / 2);
    const bytes = readFileSync(tarPath);
    const multi = `${tarPath}.multi.gz`;
    writeFileSync(multi, Buffer.concat([Bun.gzipSync(bytes.subarray(0, half)), Bun.gzipSync(bytes.subarray(half))]));
    expect(unpack(multi, fresh("multi"), { layer: false })).toEqual(result);
  });
});

describe("archives from GNU tar", () => {
  test("GNU format long names and links, PAX format with xattrs", () => {
    const src = fresh("gnu-src");
    const long = "a".repeat(120) + "/" + "b".repeat(150);
    mkdirSync(join(src, long), { recursive: true });
    writeFileSync(join(src, long, "f.txt"), "deep\n");
    symlinkSync(join(long, "f.txt"), join(src, "to-long"));
    sh(["python3", "-c", "import os,sys; os.setxattr(sys.argv[1], 'user.tag', b'v1')", join(src, long, "f.txt")]);
    for (const format of ["gnu", "posix"]) {
      const tarPath = join(tmp, `gnutar-${format}-${++seq}.tar`);
      sh(["tar", `--format=${format}`, "--xattrs", "--xattrs-include=user.*", "-C", src, "-cf", tarPath, "."]);
      const dest = fresh(`gnu-${format}`);
      const r = unpack(tarPath, dest, { layer: false });
      expect(r.diffId).toBe(sha256(tarPath));
      expect(readFileSync(join(dest, long, "f.txt"), "utf8")).toBe("deep\n");
      expect(readlinkSync(join(dest, "to-long"))).toBe(join(long, "f.txt"));
      if (format === "posix") expect(getxattr(join(dest, long, "f.txt"), "user.tag")).toBe(Buffer.from("v1").toString("hex"));
    }
  });
});

describe("replacing existing entries", () => {
  test("file over a non-empty directory, directory over a file, directory over directory", () => {
    const dest = fresh("replace");
    unpack(
      mktar([
        { name: "d1/sub/deeper/f", data: "old" },
        { name: "f1", data: "a file" },
        { name: "keep", type: "dir", mode: 0o700 },
        { name: "keep/child", data: "stays" },
        { name: "l", type: "symlink", linkname: "f1" },
      ]),
      dest,
      { layer: false },
    );
    unpack(
      mktar([
        { name: "d1", data: "now a file" },
        { name: "f1", type: "dir", mode: 0o711 },
        { name: "keep", type: "dir", mode: 0o755 },
        { name: "l", data: "not a symlink any more" },
      ]),
      dest,
      { layer: false },
    );
    expect(readFileSync(join(dest, "d1"), "utf8")).toBe("now a file");
    expect(statSync(join(dest, "f1")).isDirectory()).toBe(true);
    expect(statSync(join(dest, "f1")).mode & 0o7777).toBe(0o711);
    expect(statSync(join(dest, "keep")).mode & 0o7777).toBe(0o755);
    expect(readFileSync(join(dest, "keep/child"), "utf8")).toBe("stays");
    expect(lstatSync(join(dest, "l")).isFile()).toBe(true);
    expect(readFileSync(join(dest, "l"), "utf8")).toBe("not a symlink any more");
  });

  test("replacing a directory forgets what was resolved under it", () => {
    const dest = fresh("stale");
    expect(() =>
      unpack(mktar([{ name: "a/b/x", data: "1" }, { name: "a", data: "now a file" }, { name: "a/b/y", data: "2" }]), dest, {
        layer: false,
      }),
    ).toThrow(/layer entry "a\/b\/y": cannot open parent directory "a\/b": not a directory/);
    const moved = fresh("moved");
    unpack(
      mktar([
        { name: "a/b/x", data: "1" },
        { name: "c/b/", type: "dir" },
        { name: "a", type: "symlink", linkname: "c" },
        { name: "a/b/y", data: "2" },
      ]),
      moved,
      { layer: false },
    );
    expect(readFileSync(join(moved, "c/b/y"), "utf8")).toBe("2");
  });

  test("a file entry over an existing hard link does not write through to the other name", () => {
    const dest = fresh("relink");
    unpack(mktar([{ name: "a", data: "original" }, { name: "b", type: "link", linkname: "a" }]), dest, { layer: false });
    unpack(mktar([{ name: "b", data: "replaced" }]), dest, { layer: false });
    expect(readFileSync(join(dest, "a"), "utf8")).toBe("original");
    expect(readFileSync(join(dest, "b"), "utf8")).toBe("replaced");
  });
});

describe("overlay whiteouts (UNPACK_LAYER)", () => {
  const entries: Entry[] = [
    { name: "etc/", type: "dir" },
    { name: "etc/.wh.passwd", data: "" },
    { name: "var/cache/", type: "dir" },
    { name: "var/cache/.wh..wh..opq", data: "" },
    { name: "var/cache/new", data: "fresh" },
    { name: ".wh..wh.plnk", type: "dir" },
    { name: ".wh..wh.plnk/123.456", data: "aufs hardlink storage" },
    { name: "gone/.wh.sub", data: "" },
  ];

  test("whiteouts become 0:0 character devices, opaque markers an xattr", () => {
    const dest = fresh("layer");
    mkdirSync(join(dest, "gone/sub/inner"), { recursive: true });
    mkdirSync(join(dest, "etc"));
    writeFileSync(join(dest, "etc/passwd"), "replaced by the whiteout");
    const r = unpack(mktar(entries), dest, { layer: true });
    expect(r.size).toBeGreaterThan(0);
    const wh = lstatSync(join(dest, "etc/passwd"));
    expect(wh.isCharacterDevice()).toBe(true);
    expect(wh.rdev).toBe(0);
    expect(getxattr(join(dest, "var/cache"), "trusted.overlay.opaque")).toBe(Buffer.from("y").toString("hex"));
    expect(readFileSync(join(dest, "var/cache/new"), "utf8")).toBe("fresh");
    expect(existsSync(join(dest, ".wh..wh.plnk"))).toBe(false);
    expect(existsSync(join(dest, "etc/.wh.passwd"))).toBe(false);
    // An existing tree at a whiteout's name is removed.
    expect(lstatSync(join(dest, "gone/sub")).isCharacterDevice()).toBe(true);
  });

  test("without the flag, .wh. names are ordinary files", () => {
    const dest = fresh("nolayer");
    unpack(mktar(entries), dest, { layer: false });
    expect(lstatSync(join(dest, "etc/.wh.passwd")).isFile()).toBe(true);
    expect(lstatSync(join(dest, "var/cache/.wh..wh..opq")).isFile()).toBe(true);
    expect(getxattr(join(dest, "var/cache"), "trusted.overlay.opaque")).toBeNull();
    expect(existsSync(join(dest, "etc/passwd"))).toBe(false);
  });
});

describe("hostile archives stay inside the destination", () => {
  test("../../etc/x and /abs/path land inside", () => {
    const o = withOutside();
    const dest = fresh("dotdot");
    const rel = "../".repeat(12) + o.dir.slice(1) + "/escaped";
    unpack(
      mktar([
        { name: "../../etc/x", data: "contained" },
        { name: "/abs/path", data: "contained too" },
        { name: rel, data: "would escape" },
        { name: `${o.dir}/abs-escaped`, data: "would escape" },
      ]),
      dest,
      { layer: false },
    );
    expect(readFileSync(join(dest, "etc/x"), "utf8")).toBe("contained");
    expect(readFileSync(join(dest, "abs/path"), "utf8")).toBe("contained too");
    expect(readFileSync(join(dest, o.dir, "escaped"), "utf8")).toBe("would escape");
    expect(readFileSync(join(dest, o.dir, "abs-escaped"), "utf8")).toBe("would escape");
    o.untouched();
  });

  test("a symlink to an outside directory, then a file, directory and device through it", () => {
    const o = withOutside();
    const dest = fresh("symlink-out");
    unpack(
      mktar([
        // The same path inside dest exists, so the writes below have somewhere to land.
        { name: `${o.dir}/`, type: "dir" },
        { name: "evil", type: "symlink", linkname: o.dir },
        { name: "evil/pwned", data: "gotcha" },
        { name: "evil/secret", data: "overwritten?" },
        { name: "evil/newdir", type: "dir" },
        { name: "evil/node", type: "fifo" },
        { name: "evil/newdir/f", data: "x" },
      ]),
      dest,
      { layer: false },
    );
    o.untouched();
    // RESOLVE_IN_ROOT read the absolute target as relative to dest.
    expect(readFileSync(join(dest, o.dir, "pwned"), "utf8")).toBe("gotcha");
    expect(readFileSync(join(dest, o.dir, "secret"), "utf8")).toBe("overwritten?");
    expect(readFileSync(join(dest, o.dir, "newdir/f"), "utf8")).toBe("x");
    expect(lstatSync(join(dest, o.dir, "node")).isFIFO()).toBe(true);
    expect(lstatSync(join(dest, "evil")).isSymbolicLink()).toBe(true);
  });

  test("a symlink to a directory that exists only outside is refused as a parent", () => {
    const o = withOutside();
    const dest = fresh("dangling");
    expect(() =>
      unpack(
        mktar([
          { name: "evil", type: "symlink", linkname: o.dir },
          { name: "evil/pwned", data: "gotcha" },
        ]),
        dest,
        { layer: false },
      ),
    ).toThrow(/layer entry "evil\/pwned": parent is a symlink to a missing directory: "evil"/);
    o.untouched();
    expect(existsSync(join(dest, o.dir))).toBe(false);
  });

  test("symlinks made of .. chains", () => {
    const o = withOutside();
    const dest = fresh("dotdot-links");
    const up = "../".repeat(20) + o.dir.slice(1);
    unpack(
      mktar([
        { name: "a/b/up", type: "symlink", linkname: "../../../../../../../.." },
        { name: "a/b/up/escaped", data: "x" },
        { name: `${o.dir}/`, type: "dir" },
        { name: "c/hop", type: "symlink", linkname: up },
        { name: "c/hop/pwned", data: "y" },
        { name: "c/hop/../../../../../../../../../../../../../../../../../../../../../sneaky", data: "z" },
        { name: "loop1", type: "symlink", linkname: "loop2" },
        { name: "loop2", type: "symlink", linkname: "loop1" },
      ]),
      dest,
      { layer: false },
    );
    o.untouched();
    expect(readFileSync(join(dest, "escaped"), "utf8")).toBe("x");
    expect(readFileSync(join(dest, o.dir, "pwned"), "utf8")).toBe("y");
    expect(readFileSync(join(dest, "sneaky"), "utf8")).toBe("z");
  });

  test("a symlink loop as a parent is an error naming the entry", () => {
    const dest = fresh("loop");
    expect(() =>
      unpack(
        mktar([
          { name: "loop1", type: "symlink", linkname: "loop2" },
          { name: "loop2", type: "symlink", linkname: "loop1" },
          { name: "loop1/file", data: "x" },
        ]),
        dest,
        { layer: false },
      ),
    ).toThrow(/layer entry "loop1\/file": cannot open parent directory "loop1": too many levels of symbolic links/);
  });

  test("a hard link to /etc/passwd is resolved inside (and missing there)", () => {
    const nlink = statSync("/etc/passwd").nlink;
    const dest = fresh("hard-etc");
    expect(() => unpack(mktar([{ name: "pw", type: "link", linkname: "/etc/passwd" }]), dest, { layer: false })).toThrow(
      /layer entry "pw": cannot find hard link target "etc\/passwd": no such file or directory/,
    );
    expect(statSync("/etc/passwd").nlink).toBe(nlink);
    expect(existsSync(join(dest, "pw"))).toBe(false);
  });

  test("a hard link through a symlink to an outside file finds nothing to link", () => {
    const o = withOutside();
    const dest = fresh("hard-through");
    expect(() =>
      unpack(
        mktar([
          { name: "evil", type: "symlink", linkname: o.dir },
          { name: "h", type: "link", linkname: "evil/secret" },
        ]),
        dest,
        { layer: false },
      ),
    ).toThrow(/layer entry "h": cannot find hard link target|layer entry "h": cannot create hard link to/);
    o.untouched();
  });

  test("a hard link to a symlink pointing out links the symlink, and writing it replaces it", () => {
    const o = withOutside();
    const dest = fresh("hard-symlink");
    unpack(
      mktar([
        { name: "s", type: "symlink", linkname: o.secret },
        { name: "h", type: "link", linkname: "s" },
      ]),
      dest,
      { layer: false },
    );
    expect(lstatSync(join(dest, "h")).isSymbolicLink()).toBe(true);
    expect(lstatSync(join(dest, "h")).ino).toBe(lstatSync(join(dest, "s")).ino);
    unpack(mktar([{ name: "h", data: "pwned" }, { name: "s", type: "dir" }, { name: "s/x", data: "inside" }]), dest, { layer: false });
    expect(readFileSync(join(dest, "h"), "utf8")).toBe("pwned");
    expect(readFileSync(join(dest, "s/x"), "utf8")).toBe("inside");
    o.untouched();
  });

  test("whiteouts and opaque markers through a symlink stay inside", () => {
    const o = withOutside();
    const dest = fresh("wh-through");
    unpack(
      mktar([
        { name: `${o.dir}/`, type: "dir" },
        { name: "evil", type: "symlink", linkname: o.dir },
        { name: "evil/.wh.secret", data: "" },
        { name: "evil/.wh..wh..opq", data: "" },
      ]),
      dest,
      { layer: true },
    );
    o.untouched();
    expect(lstatSync(join(dest, o.dir, "secret")).isCharacterDevice()).toBe(true);
    expect(getxattr(join(dest, o.dir), "trusted.overlay.opaque")).toBe(Buffer.from("y").toString("hex"));
  });

  test("entries naming the destination itself: a directory updates it, anything else is refused", () => {
    const dest = fresh("root");
    unpack(mktar([{ name: "./", type: "dir", mode: 0o711, mtime: 1234567890 }]), dest, { layer: false });
    expect(statSync(dest).mode & 0o7777).toBe(0o711);
    expect(statSync(dest).mtime.getTime() / 1000).toBe(1234567890);
    expect(() => unpack(mktar([{ name: "..", data: "x" }]), dest, { layer: false })).toThrow(/entry names the destination itself/);
  });
});

describe("bad input gets a clear error", () => {
  let good: string;
  beforeAll(() => {
    good = mktar([
      { name: "a", data: "A".repeat(5000) },
      { name: "b", data: "B".repeat(3000) },
    ]);
  });

  test("truncated tar names the entry", () => {
    const cut = join(tmp, "cut.tar");
    writeFileSync(cut, readFileSync(good).subarray(0, 512 + 2048));
    expect(() => unpack(cut, fresh("cut"), { layer: false })).toThrow(/layer entry "a": archive is truncated/);
  });

  test("corrupt header checksum", () => {
    const bad = join(tmp, "badsum.tar");
    const bytes = Buffer.from(readFileSync(good));
    bytes[0] = bytes[0]! ^ 0x01;
    writeFileSync(bad, bytes);
    expect(() => unpack(bad, fresh("badsum"), { layer: false })).toThrow(/bad header checksum .* at byte 0/);
  });

  test("not a tar at all", () => {
    const junk = join(tmp, "junk.txt");
    writeFileSync(junk, "this is not a tar archive\n".repeat(100));
    expect(() => unpack(junk, fresh("junk"), { layer: false })).toThrow(/bad header checksum/);
  });

  test("corrupt and truncated gzip", () => {
    const gz = Buffer.from(Bun.gzipSync(readFileSync(good)));
    const truncated = join(tmp, "trunc.tar.gz");
    writeFileSync(truncated, gz.subarray(0, gz.length - 20));
    expect(() => unpack(truncated, fresh("gz-trunc"), { layer: false })).toThrow(/gzip stream is truncated|truncated/);
    const corrupt = join(tmp, "corrupt.tar.gz");
    const flipped = Buffer.from(gz);
    flipped[gz.length - 6] = flipped[gz.length - 6]! ^ 0xff; // the length/CRC trailer
    writeFileSync(corrupt, flipped);
    expect(() => unpack(corrupt, fresh("gz-bad"), { layer: false })).toThrow(/gzip (checksum|length) mismatch/);
    const garbage = join(tmp, "garbage.tar.gz");
    writeFileSync(garbage, Buffer.concat([gz, Buffer.from("trailing junk")]));
    expect(() => unpack(garbage, fresh("gz-junk"), { layer: false })).toThrow(/trailing garbage after gzip stream/);
  });

  test("plain: no format detection (a pull inflated the stream already)", () => {
    const gz = join(tmp, "plain-flag.tar.gz");
    writeFileSync(gz, Bun.gzipSync(readFileSync(good)));
    // The gzip of this small tar is shorter than a header; a longer one fails its checksum.
    expect(() => unpack(gz, fresh("plain-gz"), { layer: true, plain: true })).toThrow(/archive is truncated \(inside a header\)|bad header checksum/);
    expect(unpack(good, fresh("plain-tar"), { layer: true, plain: true }).diffId).toBe(sha256(good));
    expect(unpack(gz, fresh("detect-gz"), { layer: true }).diffId).toBe(sha256(good));
  });

  test("truncated zstd", () => {
    const zst = `${good}.zst`;
    sh(["zstd", "-q", "-f", good, "-o", zst]);
    const bytes = readFileSync(zst);
    const cut = join(tmp, "cut.tar.zst");
    writeFileSync(cut, bytes.subarray(0, bytes.length - 10));
    expect(() => unpack(cut, fresh("zst-cut"), { layer: false })).toThrow(/zstd stream is (truncated|corrupt)/);
  });

  test("missing source and a destination that is not a directory", () => {
    expect(() => unpack(join(tmp, "nope.tar"), fresh("nosrc"), { layer: false })).toThrow(
      /cannot open: no such file or directory/,
    );
    expect(() => unpack(good, good, { layer: false })).toThrow(/cannot open destination directory: not a directory/);
  });

  test("an archive with trailing data after the end marker still hashes all of it", () => {
    const padded = join(tmp, "padded.tar");
    writeFileSync(padded, Buffer.concat([readFileSync(good), Buffer.alloc(10240)]));
    const r = unpack(padded, fresh("padded"), { layer: false });
    expect(r.size).toBe(statSync(padded).size);
    expect(r.diffId).toBe(sha256(padded));
  });
});
