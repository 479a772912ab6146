// libtsd (zig/lib) through bun:ffi: its symbol table and thin typed wrappers (plain libc calls: libc.ts).
import { dlopen, FFIType, type Pointer, CString } from "bun:ffi";
import { materialize } from "./embedded";
import { TsdError } from "../errors";
import { cstr, libc } from "./libc";

const symbols = {
  tsd_version: { args: [], returns: FFIType.cstring },
  // (src, dest, flags, digest_out[65], errbuf, errlen) -> uncompressed bytes or -errno
  tsd_unpack: {
    args: [FFIType.ptr, FFIType.ptr, FFIType.u32, FFIType.ptr, FFIType.ptr, FFIType.u64],
    returns: FFIType.i64,
  },
  // (dir, out, flags, digest_out[65], errbuf, errlen) -> bytes written or -errno
  tsd_pack: {
    args: [FFIType.ptr, FFIType.ptr, FFIType.u32, FFIType.ptr, FFIType.ptr, FFIType.u64],
    returns: FFIType.i64,
  },
  // (dir, rel, buf, len) -> bytes, -ENOENT absent, -ESTALE whited out, -EFBIG too large
  tsd_read_file: { args: [FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.u64], returns: FFIType.i64 },
  // (name, ip, prefix, mtu, errbuf, errlen) -> ifindex or < 0
  tsd_net_bridge: { args: [FFIType.ptr, FFIType.u32, FFIType.u32, FFIType.u32, FFIType.ptr, FFIType.u64], returns: FFIType.i64 },
  // (ns_path, create, ifname, host_ifname, bridge, ip, prefix, gateway, mac|null, mtu, errbuf, errlen)
  tsd_net_attach: {
    args: [FFIType.ptr, FFIType.u32, FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.u32, FFIType.u32, FFIType.u32, FFIType.ptr, FFIType.u32, FFIType.ptr, FFIType.u64],
    returns: FFIType.i64,
  },
  tsd_net_link_delete: { args: [FFIType.ptr, FFIType.ptr, FFIType.u64], returns: FFIType.i64 },
  tsd_net_link_down: { args: [FFIType.ptr, FFIType.ptr, FFIType.u64], returns: FFIType.i64 },
  tsd_netns_remove: { args: [FFIType.ptr, FFIType.ptr, FFIType.u64], returns: FFIType.i64 },
  // (group_dir, words u32[4n], n*4, errbuf, errlen) -> 0 or -errno
  tsd_cgroup_device_filter: { args: [FFIType.ptr, FFIType.ptr, FFIType.u64, FFIType.ptr, FFIType.u64], returns: FFIType.i64 },
} as const;

type Lib = ReturnType<typeof dlopen<typeof symbols>>["symbols"];
let lib: Lib | undefined;
let libRoot = "";

/** Load libtsd from under `root` (see embedded.ts); later calls reuse the first load. */
export function loadCore(root: string): Lib {
  if (lib) return lib;
  libRoot = root;
  lib = dlopen(materialize("libtsd.so", root), symbols).symbols;
  return lib;
}

/** Names the root dir libtsd is materialized under; it is loaded on first use (dlopen and
 *  the materialize check cost a few ms that `tsd run` does not need). */
export function useCoreRoot(root: string): void {
  libRoot = root;
}

function core(): Lib {
  if (lib) return lib;
  if (!libRoot) throw new Error("libtsd has no root dir: call useCoreRoot(root) or loadCore(root) first");
  return loadCore(libRoot);
}

export function coreVersion(): string {
  return String(core().tsd_version());
}

const UNPACK_LAYER = 1;
const UNPACK_ARCHIVE = 2; // zig/CONTRACT.md: fifos and device nodes refused
const UNPACK_PLAIN = 4; // plain tar whatever its first bytes: a pull inflated it already
const UNPACK_IGNORE_CHOWN = 8; // owners the user namespace cannot map stay the user's (rootless single-id)
const ERRBUF_LEN = 4096;
const PACK_LAYER = 1;
const PACK_XATTRS = 2;
const PACK_DEVICES = 4;

/**
 * Packs everything below the directory `dir` as a layer tar (whiteouts and opaque directories as
 * `.wh.` entries, xattrs, device nodes) into the new file `out`, fd-relative as `tsd-monitor
 * --pack` walks: in this process, for a tree no container can change (a build's staged COPY,
 * a finished RUN's upper dir). Returns its size and its sha256 (`sha256:` + hex), the diffID.
 */
export function packLayer(dir: string, out: string): { size: number; digest: string } {
  const digest = new Uint8Array(65);
  const errbuf = new Uint8Array(ERRBUF_LEN);
  const rc = core().tsd_pack(cstr(dir), cstr(out), PACK_LAYER | PACK_XATTRS | PACK_DEVICES, digest, errbuf, ERRBUF_LEN);
  const status = typeof rc === "bigint" ? rc : BigInt(rc);
  if (status < 0n) throw new TsdError(`cannot pack ${dir}: ${cString(errbuf) || `error ${-status}`}`);
  return { size: Number(status), digest: `sha256:${cString(digest)}` };
}

/**
 * Unpacks the tar stream at `src` (plain, gzip or zstd) into the existing directory `dest`,
 * never writing outside it. `layer` turns AUFS whiteouts into overlayfs ones; `archive` (an
 * image archive, not a filesystem) refuses fifos and device nodes. `src` "-" is stdin. Returns the
 * uncompressed size and the diffID (`sha256:` + hex of the uncompressed stream).
 */
export function unpack(src: string, dest: string, opts: { layer: boolean; archive?: boolean; plain?: boolean; ignoreChown?: boolean }): { size: number; diffId: string } {
  const digest = new Uint8Array(65);
  const errbuf = new Uint8Array(ERRBUF_LEN);
  const rc = core().tsd_unpack(
    cstr(src),
    cstr(dest),
    (opts.layer ? UNPACK_LAYER : 0) | (opts.archive ? UNPACK_ARCHIVE : 0) | (opts.plain ? UNPACK_PLAIN : 0) | (opts.ignoreChown ? UNPACK_IGNORE_CHOWN : 0),
    digest,
    errbuf,
    ERRBUF_LEN,
  );
  const status = typeof rc === "bigint" ? rc : BigInt(rc);
  if (status < 0n) throw new TsdError(cString(errbuf) || `unpack ${src}: error ${-status}`);
  return { size: Number(status), diffId: `sha256:${cString(digest)}` };
}

const ESTALE = 116;
const EFBIG = 27;
const EACCES = 13;

export type LayerFile = { kind: "file"; text: string } | { kind: "absent" } | { kind: "whiteout" } | { kind: "too-large" } | { kind: "denied" };

/**
 * The regular file `rel` of one layer directory, read fd-relative with no symlink followed
 * (zig/lib.zig tsd_read_file), at most `max` bytes. "denied": a directory on the way or the
 * file itself is not open to this process (a rootless CLI on the host, a subordinate id's file).
 */
export function readLayerFile(dir: string, rel: string, max: number): LayerFile {
  const buf = new Uint8Array(max);
  const n = Number(core().tsd_read_file(cstr(dir), cstr(rel), buf, max));
  if (n >= 0) return { kind: "file", text: Buffer.from(buf.subarray(0, n)).toString("utf8") };
  if (n === -ESTALE) return { kind: "whiteout" };
  if (n === -EFBIG) return { kind: "too-large" };
  if (n === -EACCES) return { kind: "denied" };
  return { kind: "absent" };
}

function netCall(what: string, call: (errbuf: Uint8Array) => number | bigint): number {
  const errbuf = new Uint8Array(ERRBUF_LEN);
  const rc = Number(call(errbuf));
  if (rc < 0) throw new TsdError(cString(errbuf) || `${what}: error ${-rc}`);
  return rc;
}

/** A bridge with `ip`/`prefix` as its address, up; made when missing. Returns its ifindex. */
export function netBridge(name: string, ip: number, prefix: number, mtu: number): number {
  return netCall("bridge", (e) => core().tsd_net_bridge(cstr(name), ip, prefix, mtu, e, ERRBUF_LEN));
}

export interface NetAttach {
  nsPath: string;
  create: boolean; // a new namespace bound at nsPath, else join the one there
  ifname: string;
  hostIfname: string;
  bridge: string;
  ip: number;
  prefix: number;
  gateway: number; // 0: no default route
  mac?: number[];
  mtu: number;
}

/** One veth of a container's network namespace (zig/CONTRACT.md); all undone on failure. */
export function netAttach(a: NetAttach): void {
  const mac = a.mac ? new Uint8Array(a.mac) : null;
  netCall("attach", (e) =>
    core().tsd_net_attach(cstr(a.nsPath), a.create ? 1 : 0, cstr(a.ifname), cstr(a.hostIfname), cstr(a.bridge), a.ip, a.prefix, a.gateway, mac, a.mtu, e, ERRBUF_LEN),
  );
}

/** Deletes a host link by name; false when it was not there. */
export function netLinkDelete(name: string): boolean {
  return netCall("link delete", (e) => core().tsd_net_link_delete(cstr(name), e, ERRBUF_LEN)) === 0;
}

/** Takes a host link down; false when it was not there. */
export function netLinkDown(name: string): boolean {
  return netCall("link down", (e) => core().tsd_net_link_down(cstr(name), e, ERRBUF_LEN)) === 0;
}

/** Attaches device rules (src/cgroup/devices.ts encodeDeviceRules) to a cgroup v2 group as its
 *  eBPF device program. */
export function cgroupDeviceFilter(group: string, words: Uint32Array): void {
  netCall("device filter", (e) => core().tsd_cgroup_device_filter(cstr(group), words, words.length, e, ERRBUF_LEN));
}

/** Unbinds and removes a network namespace file; absent is fine. */
export function netnsRemove(path: string): void {
  netCall("netns remove", (e) => core().tsd_netns_remove(cstr(path), e, ERRBUF_LEN));
}

function cString(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  return Buffer.from(bytes.subarray(0, end < 0 ? bytes.length : end)).toString("utf8");
}

export type { Pointer };
export { CString };
