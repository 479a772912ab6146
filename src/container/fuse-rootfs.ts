// Rootless storage fallback (issue 13): where the kernel refuses overlayfs in a user namespace
// (before Linux 5.11), a container's rootfs is fuse-overlayfs (Debian's package) over the same
// layers, upper and work dirs. The init cannot mount it (a FUSE mount needs its daemon), so the
// rootfs is mounted here, in the user's namespace (the pause process's mount namespace), at the
// bundle's merged/ before the monitor starts, and config.json names it with FUSE_ANNOTATION
// instead of io.tsd.rootfs.overlay (the init then takes root.path as it is). Unmounted by the
// exit cleanup, the reconcile of a dead monitor or an abandoned start, and rm; a killed CLI's
// mount is found by those (mountinfo), not by the CLI. The daemon exits with its mount.
import { readFileSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { TsdError } from "../errors";
import { rootlessMode } from "../store/rootless";
import { unmount } from "../native/mount";
import { findTool } from "../io";

export const FUSE_ANNOTATION = "io.tsd.rootfs.fuse-overlay";

/** Which overlay rootless containers use: TSD_ROOTLESS_OVERLAY=fuse or kernel, else the
 *  kernel's when it allows overlayfs in a user namespace (5.11), else fuse-overlayfs. */
export function rootlessStorageDriver(env: Record<string, string | undefined>, kernel: string): "overlay" | "fuse-overlayfs" {
  const chosen = env.TSD_ROOTLESS_OVERLAY;
  if (chosen === "fuse") return "fuse-overlayfs";
  if (chosen === "kernel") return "overlay";
  if (chosen !== undefined && chosen !== "") throw new TsdError(`TSD_ROOTLESS_OVERLAY="${chosen}": use fuse or kernel (or unset it)`);
  const [major = 0, minor = 0] = kernel.split(".").map((n) => Number.parseInt(n, 10));
  return major > 5 || (major === 5 && minor >= 11) ? "overlay" : "fuse-overlayfs";
}

/** This process's choice: rootless only (rootful tsd always mounts overlayfs itself). */
export function usesFuse(): boolean {
  if (!rootlessMode()) return false;
  return rootlessStorageDriver(process.env, readFileSync("/proc/sys/kernel/osrelease", "utf8").trim()) === "fuse-overlayfs";
}

interface BundleSpec {
  root?: { path?: string };
  annotations?: Record<string, string>;
}

/** The bundle's spec when it names a fuse rootfs (the common kernel-overlay spec is not parsed). */
function readSpec(bundle: string): BundleSpec | undefined {
  try {
    const text = readFileSync(join(bundle, "config.json"), "utf8");
    return text.includes(FUSE_ANNOTATION) ? (JSON.parse(text) as BundleSpec) : undefined;
  } catch {
    return undefined;
  }
}

/** The overlay data with absolute dirs and fuse-overlayfs's options (no userxattr: its own). */
export function fuseOptions(data: string, dir: string): string {
  const abs = (p: string) => (isAbsolute(p) ? p : join(dir, p));
  const parts = data.split(",").filter((p) => p !== "userxattr");
  const out = parts.map((p) => {
    const eq = p.indexOf("=");
    const [k, v] = [p.slice(0, eq), p.slice(eq + 1)];
    if (k === "lowerdir") return `lowerdir=${v.split(":").map(abs).join(":")}`;
    return k === "upperdir" || k === "workdir" ? `${k}=${abs(v)}` : p;
  });
  // allow_other: the container's other users reach it too (root in the namespace may say so).
  return [...out, "allow_other"].join(",");
}

function mounted(path: string): boolean {
  const esc = path.replace(/[ \t\n\\]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, "0")}`);
  return readFileSync("/proc/self/mountinfo", "utf8").split("\n").some((l) => l.split(" ")[4] === esc);
}

/** Mounts the bundle's fuse rootfs when its config.json has one and it is not mounted yet. */
export function mountFuseRootfs(bundle: string): void {
  // A rootful container never has one: no config.json read on `tsd run`'s path.
  if (!rootlessMode()) return;
  const spec = readSpec(bundle);
  const data = spec?.annotations?.[FUSE_ANNOTATION];
  const merged = spec?.root?.path;
  if (!data || !merged || mounted(merged)) return;
  const opts = fuseOptions(data, spec.annotations?.["io.tsd.rootfs.dir"] ?? "/");
  const tool = findTool("fuse-overlayfs");
  if (!tool) throw new TsdError("rootless: fuse-overlayfs not found: install it (apt-get install fuse-overlayfs), or use the kernel's overlay (TSD_ROOTLESS_OVERLAY=kernel, Linux 5.11 or later)");
  const r = Bun.spawnSync([tool, "-o", opts, merged], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) {
    const said = r.stderr.toString().split("\n").filter((l) => l && !l.startsWith("unknown argument ignored")).join("; ");
    const hint = said.includes("/dev/fuse") ? " (/dev/fuse must be readable and writable by you: mode 0666, as udev makes it)" : "";
    throw new TsdError(`rootless: fuse-overlayfs could not mount the container's rootfs: ${said}${hint}`);
  }
}

/** Unmounts the bundle's fuse rootfs if it is mounted (idempotent; the daemon exits with it). */
export function unmountFuseRootfs(bundle: string): void {
  if (!rootlessMode()) return;
  const spec = readSpec(bundle);
  const merged = spec?.root?.path;
  if (!spec?.annotations?.[FUSE_ANNOTATION] || !merged || !mounted(merged)) return;
  // Root in the namespace that owns the mount: umount(2) itself, lazily if still busy.
  unmount(merged);
}
