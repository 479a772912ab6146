// A container's rootfs as tsd-monitor's copy and pack modes (src/native/helper.ts) name it
// when it is not running: the overlay its config.json describes.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { TsdError } from "../errors";
import { containerDir } from "../store/paths";
import { FUSE_ANNOTATION } from "./fuse-rootfs";

/**
 * A stopped container's rootfs: the overlay its config.json describes, mounted by the helper in
 * a private mount namespace (gone with it). Read-only copies stack the upper dir as the top
 * lower layer, so nothing (not even the overlay's work dir) is written.
 */
export function overlayArgs(root: string, id: string, readOnly: boolean): string[] {
  const spec = JSON.parse(readFileSync(join(containerDir(root, id), "config.json"), "utf8")) as { root: { path: string }; annotations?: Record<string, string> };
  // A fuse-overlayfs rootfs (rootless, container/fuse-rootfs.ts) has the same dirs.
  const overlay = spec.annotations?.["io.tsd.rootfs.overlay"] ?? spec.annotations?.[FUSE_ANNOTATION];
  const dir = spec.annotations?.["io.tsd.rootfs.dir"] ?? "/";
  if (!overlay) throw new TsdError(`container ${id.slice(0, 12)} has no overlay rootfs: cannot reach its files`, 1);
  const data = readOnly ? readOnlyOverlay(overlay) : overlay;
  return ["--overlay-dir", dir, "--overlay-data", data, "--merged", spec.root.path, ...(readOnly ? ["--read-only"] : [])];
}

/** `lowerdir=L,upperdir=U,workdir=W` → `lowerdir=U:L`: the same view, nothing writable. */
export function readOnlyOverlay(data: string): string {
  const opts = new Map<string, string>();
  for (const part of data.split(",")) {
    const eq = part.indexOf("=");
    if (eq > 0) opts.set(part.slice(0, eq), part.slice(eq + 1));
  }
  const lower = opts.get("lowerdir");
  const upper = opts.get("upperdir");
  if (!lower) throw new TsdError("the container's overlay has no lowerdir", 1);
  const userxattr = data.split(",").includes("userxattr") ? ",userxattr" : "";
  return `lowerdir=${upper ? `${upper}:` : ""}${lower}${userxattr}`;
}
