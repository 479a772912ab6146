// The host's device nodes, for --privileged (Docker gives such a container every device of the
// host, as runc's HostDevices does): a walk of /dev, without the pseudo-terminal, shared-memory
// and message-queue filesystems (the container has its own) or /dev/console (its own too).
import { lstatSync, readdirSync, type BigIntStats } from "node:fs";
import { join } from "node:path";

export interface OciDevice {
  path: string;
  type: "c" | "b";
  major: number;
  minor: number;
  fileMode: number;
  uid: number;
  gid: number;
}

const SKIPPED_DIRS = new Set(["pts", "shm", "fd", "mqueue", ".lxc", ".lxd-mounts", ".udev"]);
const MAX_DEVICES = 1024; // zig/runtime/spec.zig limits.devices
const MAX_DEPTH = 4;

/** glibc's gnu_dev_major/minor: a 64-bit dev_t with both numbers split in two. */
export function splitDev(rdev: bigint): { major: number; minor: number } {
  const major = Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & 0xfffff000n));
  const minor = Number((rdev & 0xffn) | ((rdev >> 12n) & 0xffffff00n));
  return { major, minor };
}

export function deviceOf(path: string, st: BigIntStats): OciDevice | undefined {
  const type = st.isCharacterDevice() ? "c" : st.isBlockDevice() ? "b" : undefined;
  if (!type) return undefined;
  const { major, minor } = splitDev(st.rdev);
  return { path, type, major, minor, fileMode: Number(st.mode & 0o7777n), uid: Number(st.uid), gid: Number(st.gid) };
}

export function hostDevices(dir = "/dev", depth = 0, out: OciDevice[] = []): OciDevice[] {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    return out;
  }
  for (const name of names) {
    if (out.length >= MAX_DEVICES) break;
    const path = join(dir, name);
    if (depth === 0 && (name === "console" || SKIPPED_DIRS.has(name))) continue;
    let st: BigIntStats;
    try {
      // lstat: a symlink in /dev is not followed (runc skips them too).
      st = lstatSync(path, { bigint: true });
    } catch {
      continue;
    }
    if (st.isDirectory()) {
      if (depth < MAX_DEPTH) hostDevices(path, depth + 1, out);
      continue;
    }
    const d = deviceOf(path, st);
    if (d) out.push(d);
  }
  return out;
}
