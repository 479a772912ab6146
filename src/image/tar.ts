// A small streaming tar writer (POSIX ustar + PAX extended headers) for archives made of
// tsd's own files (save). Container filesystems are never walked here: a running container
// can swap a directory for a symlink between a check and a use of a host path, so commit,
// export and cp walk them fd-relative in tsd-monitor --pack/--copy (zig/unpack/pack.zig).
import { closeSync, openSync, readSync } from "node:fs";

const BLOCK = 512;
const enc = new TextEncoder();

export interface TarEntry {
  name: string;
  type: "file" | "dir" | "symlink" | "hardlink" | "char" | "block" | "fifo";
  mode: number;
  uid: number;
  gid: number;
  mtime: number; // seconds
  size?: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  xattrs?: Record<string, Uint8Array>;
}

const TYPEFLAG = { file: "0", hardlink: "1", symlink: "2", char: "3", block: "4", dir: "5", fifo: "6" } as const;

/** Writes tar entries to a sink; `bytes` counts what was written, `end()` adds the trailer. */
export class TarWriter {
  bytes = 0;
  constructor(private readonly sink: (chunk: Uint8Array) => void) {}

  private put(chunk: Uint8Array): void {
    this.sink(chunk);
    this.bytes += chunk.length;
  }

  private pad(n: number): void {
    const rem = n % BLOCK;
    if (rem) this.put(new Uint8Array(BLOCK - rem));
  }

  /** An entry's header; the caller then writes exactly `size` bytes with `data()` for files. */
  header(e: TarEntry): void {
    const name = e.type === "dir" && !e.name.endsWith("/") ? `${e.name}/` : e.name;
    const pax: [string, Uint8Array][] = [];
    const nameBytes = enc.encode(name);
    let ustarName = name;
    let prefix = "";
    if (nameBytes.length > 100 || /[^\x20-\x7e]/.test(name)) {
      const split = splitName(name);
      if (split) [prefix, ustarName] = split;
      else {
        pax.push(["path", nameBytes]);
        ustarName = name.slice(0, 99).replace(/[^\x20-\x7e]/g, "_");
      }
    }
    const link = e.linkname ?? "";
    if (enc.encode(link).length > 100 || /[^\x20-\x7e]/.test(link)) pax.push(["linkpath", enc.encode(link)]);
    const size = e.type === "file" ? (e.size ?? 0) : 0;
    if (size > 0o77777777777) pax.push(["size", enc.encode(String(size))]);
    if (e.uid > 0o7777777) pax.push(["uid", enc.encode(String(e.uid))]);
    if (e.gid > 0o7777777) pax.push(["gid", enc.encode(String(e.gid))]);
    for (const [k, v] of Object.entries(e.xattrs ?? {})) pax.push([`SCHILY.xattr.${k}`, v]);
    if (pax.length > 0) {
      const body = paxRecords(pax);
      this.put(ustarHeader({ name: "PaxHeader", type: "x", mode: 0o644, uid: 0, gid: 0, mtime: e.mtime, size: body.length }));
      this.put(body);
      this.pad(body.length);
    }
    this.put(
      ustarHeader({
        name: ustarName,
        prefix,
        type: TYPEFLAG[e.type],
        mode: e.mode & 0o7777,
        uid: Math.min(e.uid, 0o7777777),
        gid: Math.min(e.gid, 0o7777777),
        mtime: e.mtime,
        size: size > 0o77777777777 ? 0 : size,
        linkname: link.length <= 100 ? link : link.slice(0, 100),
        devmajor: e.devmajor ?? 0,
        devminor: e.devminor ?? 0,
      }),
    );
  }

  data(chunk: Uint8Array): void {
    this.put(chunk);
  }

  /** Pads a file's data to the block boundary. */
  endData(size: number): void {
    this.pad(size);
  }

  addBytes(name: string, data: Uint8Array, mode = 0o644, mtime = 0): void {
    this.header({ name, type: "file", mode, uid: 0, gid: 0, mtime, size: data.length });
    this.data(data);
    this.endData(data.length);
  }

  /** Copies the file at `path` as the entry's data; the size must be what the header said. */
  addFileData(path: string, size: number): void {
    const fd = openSync(path, "r");
    try {
      const buf = new Uint8Array(1 << 20);
      let left = size;
      while (left > 0) {
        const n = readSync(fd, buf, 0, Math.min(buf.length, left), null);
        if (n === 0) throw new Error(`${path} shrank while it was packed`);
        this.put(buf.subarray(0, n));
        left -= n;
      }
    } finally {
      closeSync(fd);
    }
    this.pad(size);
  }

  end(): void {
    this.put(new Uint8Array(BLOCK * 2));
  }
}

function splitName(name: string): [string, string] | undefined {
  if (/[^\x20-\x7e]/.test(name) || name.length > 256) return undefined;
  for (let i = name.length - 1; i > 0; i--) {
    if (name[i] === "/" && i <= 155 && name.length - i - 1 <= 100 && name.length - i - 1 > 0) return [name.slice(0, i), name.slice(i + 1)];
  }
  return undefined;
}

function paxRecords(records: [string, Uint8Array][]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const [k, v] of records) {
    const rest = enc.encode(` ${k}=`).length + v.length + 1;
    let len = rest + String(rest).length;
    if (String(len).length !== String(rest).length) len = rest + String(len).length;
    parts.push(enc.encode(`${len} ${k}=`), v, enc.encode("\n"));
  }
  return Buffer.concat(parts);
}

function ustarHeader(h: {
  name: string;
  prefix?: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  size: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
}): Uint8Array {
  const b = new Uint8Array(BLOCK);
  const str = (off: number, len: number, s: string) => b.set(enc.encode(s).subarray(0, len), off);
  const oct = (off: number, len: number, n: number) => str(off, len, `${Math.max(0, Math.floor(n)).toString(8).padStart(len - 1, "0")}\0`);
  str(0, 100, h.name);
  oct(100, 8, h.mode);
  oct(108, 8, h.uid);
  oct(116, 8, h.gid);
  oct(124, 12, h.size);
  oct(136, 12, h.mtime);
  b.fill(0x20, 148, 156);
  str(156, 1, h.type);
  str(157, 100, h.linkname ?? "");
  str(257, 6, "ustar\0");
  str(263, 2, "00");
  oct(329, 8, h.devmajor ?? 0);
  oct(337, 8, h.devminor ?? 0);
  str(345, 155, h.prefix ?? "");
  let sum = 0;
  for (const x of b) sum += x;
  str(148, 8, `${sum.toString(8).padStart(6, "0")}\0 `);
  return b;
}
