// `tsd diff`: what a container changed in its filesystem, as Docker lists it (A added, C changed,
// D deleted), read from its overlay's upper dir against the image's layers.
//
// The upper dir is the container's to write, so it is walked one name at a time from opened
// directories (`/proc/self/fd/N/NAME`, the final name never followed, directories opened with
// O_NOFOLLOW): a symlink the container plants, even swapped in mid-walk, is listed as a
// symlink and never resolved on the host. The image's layers are looked up the same way.
import { closeSync, constants, lstatSync, openSync, readdirSync, readFileSync, type Stats } from "node:fs";
import { isAbsolute, join } from "node:path";
import { TsdError } from "../errors";
import { containerDir } from "../store/paths";
import { FUSE_ANNOTATION } from "./fuse-rootfs";

export type ChangeKind = "A" | "C" | "D";
export interface Change {
  kind: ChangeKind;
  path: string;
}

/** Bounds on the walk: a container's upper dir is not trusted to be small or shallow. */
const MAX_DEPTH = 256;
const MAX_ENTRIES = 1_000_000;
const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;

/** The empty mount points the runtime itself makes in the upper dir (Docker keeps these in
 *  its init layer, so they never show): its generated /etc files and the kernel filesystems. */
const RUNTIME_FILES = new Set(["/etc/hostname", "/etc/hosts", "/etc/resolv.conf"]);
const RUNTIME_DIRS = new Set(["/proc", "/sys", "/dev"]);

/** The container's upper dir and its image's layers (top first), from its bundle's config.json. */
export function overlayDirs(root: string, id: string): { upper: string; lowers: string[] } {
  const spec = JSON.parse(readFileSync(join(containerDir(root, id), "config.json"), "utf8")) as { annotations?: Record<string, string> };
  const data = spec.annotations?.["io.tsd.rootfs.overlay"] ?? spec.annotations?.[FUSE_ANNOTATION];
  const base = spec.annotations?.["io.tsd.rootfs.dir"] ?? "/";
  if (!data) throw new TsdError(`container ${id.slice(0, 12)} has no overlay rootfs: nothing to compare`, 1);
  const opts = new Map(data.split(",").map((p) => [p.slice(0, p.indexOf("=")), p.slice(p.indexOf("=") + 1)] as const));
  const at = (p: string) => (isAbsolute(p) ? p : join(base, p));
  const upper = opts.get("upperdir");
  if (!upper) throw new TsdError(`container ${id.slice(0, 12)} has no writable layer: nothing to compare`, 1);
  return { upper: at(upper), lowers: (opts.get("lowerdir") ?? "").split(":").filter(Boolean).map(at) };
}

export function containerChanges(root: string, id: string): Change[] {
  const { upper, lowers } = overlayDirs(root, id);
  const fd = openSync(upper, DIR_FLAGS);
  const lowerFds: number[] = [];
  try {
    // The layers' own paths are tsd's (short symlinks under layers/l, as overlay2's): followed.
    for (const l of lowers) lowerFds.push(openSync(l, constants.O_RDONLY | constants.O_DIRECTORY));
    const walk = new Walk(lowerFds);
    walk.dir(fd, "", 0);
    return walk.changes;
  } finally {
    for (const l of lowerFds) closeSync(l);
    closeSync(fd);
  }
}

class Walk {
  changes: Change[] = [];
  private entries = 0;
  constructor(private readonly lowers: number[]) {}

  /** Lists the changes below the opened directory `fd` (at container path `path`); returns
   *  whether any was listed. Names in byte order, a directory before what it holds (Go's
   *  filepath.Walk, which Docker's list follows). */
  dir(fd: number, path: string, depth: number): boolean {
    if (depth > MAX_DEPTH) throw new TsdError(`the container's changes nest deeper than ${MAX_DEPTH} directories: tsd does not list them`, 1);
    const names = readdirSync(`/proc/self/fd/${fd}`).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    let any = false;
    for (const name of names) {
      if (++this.entries > MAX_ENTRIES) throw new TsdError(`the container changed more than ${MAX_ENTRIES} files: tsd does not list them`, 1);
      if (this.entry(fd, name, `${path}/${name}`, depth)) any = true;
    }
    return any;
  }

  private entry(parent: number, name: string, path: string, depth: number): boolean {
    const st = lstatSync(`/proc/self/fd/${parent}/${name}`);
    if (st.isCharacterDevice() && st.rdev === 0) {
      this.changes.push({ kind: "D", path });
      return true;
    }
    if (RUNTIME_FILES.has(path)) return false;
    const lower = this.lookup(path);
    if (!st.isDirectory()) {
      this.changes.push({ kind: lower ? "C" : "A", path });
      return true;
    }
    const at = this.changes.length;
    const fd = openSync(`/proc/self/fd/${parent}/${name}`, DIR_FLAGS);
    let inner: boolean;
    try {
      inner = this.dir(fd, path, depth + 1);
    } finally {
      closeSync(fd);
    }
    if (!lower && !inner && RUNTIME_DIRS.has(path)) return false;
    // A directory the image has shows only when something below it or its own owner or
    // mode changed (overlay copies every parent of a change up with it).
    if (lower && !inner && !metadataChanged(st, lower)) return false;
    this.changes.splice(at, 0, { kind: lower ? "C" : "A", path });
    return true;
  }

  /** The image's entry at `path` (top layer first), or undefined when absent, deleted by a
   *  whiteout or hidden under a non-directory in a layer above. */
  private lookup(path: string): Stats | undefined {
    const parts = path.split("/").filter(Boolean);
    for (const layer of this.lowers) {
      const r = lookupIn(layer, parts);
      if (r === "absent") continue;
      return r === "hidden" ? undefined : r;
    }
    return undefined;
  }
}

function lookupIn(layer: number, parts: string[]): Stats | "absent" | "hidden" {
  let fd = layer;
  try {
    for (let i = 0; i < parts.length; i++) {
      let st: Stats;
      try {
        st = lstatSync(`/proc/self/fd/${fd}/${parts[i]}`);
      } catch {
        return "absent";
      }
      if (st.isCharacterDevice() && st.rdev === 0) return "hidden";
      if (i === parts.length - 1) return st;
      if (!st.isDirectory()) return "hidden";
      const next = openSync(`/proc/self/fd/${fd}/${parts[i]}`, DIR_FLAGS);
      if (fd !== layer) closeSync(fd);
      fd = next;
    }
    return "absent";
  } finally {
    if (fd !== layer) closeSync(fd);
  }
}

function metadataChanged(a: Stats, b: Stats): boolean {
  return a.mode !== b.mode || a.uid !== b.uid || a.gid !== b.gid;
}
