// A build step's view of an image's rootfs without a container: the overlay tsd-monitor's copy
// mode mounts privately (gone with it), and what a path is in the image as its layer
// directories show it (for COPY's missing parent directories). Every write into the rootfs
// goes through the helper, fd-relative under the rootfs, so a hostile base image's symlink
// cannot redirect a COPY onto the host.
import { lstatSync, mkdirSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { TsdError } from "../errors";
import { layerLinks, type ImageRecord } from "../image/store";
import type { Database } from "bun:sqlite";
import { rootPaths } from "../store/paths";
import { overlayOptions } from "../store/rootless";

export interface StepRootfs {
  /** The work dir (under <root>/tmp) holding upper/, work/, merged/ and an empty lower. */
  dir: string;
  upper: string;
  /** tsd-monitor --copy arguments naming the overlay. */
  args: string[];
}

/** An overlay of `image` with an empty upper dir in `dir` (writable) or none (read-only). */
export function stepRootfs(db: Database, root: string, image: ImageRecord, dir: string, readOnly: boolean): StepRootfs {
  if (!dir.startsWith(`${root}/`)) throw new Error("a step's work dir must live under the root dir");
  const rel = dir.slice(root.length + 1);
  for (const d of ["upper", "work", "merged", "empty"]) mkdirSync(join(dir, d), { recursive: true, mode: 0o755 });
  const lowers = [...(image.layers.length > 0 ? layerLinks(db, image).map((l) => `layers/l/${l}`) : []), `${rel}/empty`];
  const data = (readOnly ? `lowerdir=${lowers.join(":")}` : `lowerdir=${lowers.join(":")},upperdir=${rel}/upper,workdir=${rel}/work`) + overlayOptions();
  if (data.length >= 4000) throw new TsdError(`the image has too many layers for one overlay mount (${image.layers.length})`);
  return { dir, upper: join(dir, "upper"), args: ["--overlay-dir", root, "--overlay-data", data, "--merged", join(dir, "merged"), ...(readOnly ? ["--read-only"] : [])] };
}

export type EntryKind = "dir" | "file" | "link" | "absent";

/**
 * What `path` is in the image (topmost layer first; a whiteout hides it), and the topmost
 * layer holding it. Only lstat of paths whose every parent is a real directory in that
 * layer: nothing is followed.
 */
export function imageEntry(root: string, image: ImageRecord, path: string): { kind: EntryKind; depth: number; layer?: string } {
  let layers = image.layers.map((d) => join(rootPaths(root).layers, d.replace(/^sha256:/, ""), "diff")).reverse();
  const parts = path.split("/").filter((p) => p !== "");
  let top: string | undefined = layers[0];
  for (let i = 0; i < parts.length; i++) {
    const rel = parts.slice(0, i + 1).join("/");
    let kind: EntryKind = "absent";
    top = undefined;
    const below: string[] = [];
    for (const layer of layers) {
      const st = lstatOr(join(layer, rel));
      if (!st) continue;
      if (st.isCharacterDevice() && st.rdev === 0) break;
      if (kind === "absent") {
        kind = st.isDirectory() ? "dir" : st.isSymbolicLink() ? "link" : "file";
        top = layer;
      }
      if (!st.isDirectory() || kind !== "dir") break;
      below.push(layer);
    }
    if (kind !== "dir") return { kind, depth: i, ...(top ? { layer: top } : {}) };
    layers = below;
  }
  return { kind: "dir", depth: parts.length, ...(top ? { layer: top } : {}) };
}

/** The mode (permission bits) and owner of directory `path` of the image (0755 root's when unknown). */
export function imageDirMeta(root: string, image: ImageRecord, path: string): { mode: number; uid: number; gid: number } {
  const e = imageEntry(root, image, path);
  const st = e.kind === "dir" && e.layer ? lstatOr(join(e.layer, ...path.split("/").filter((p) => p !== ""))) : undefined;
  return st ? { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid } : { mode: 0o755, uid: 0, gid: 0 };
}

/**
 * `path` in the image with its symlinks followed as Docker's FollowSymlinkInScope does (an
 * absolute target from the image's /, `..` never above it; at most 255 links): what COPY
 * --from copies when its source is (or passes through) a link. Links are read from the layer
 * directories, each under parents that are real directories there.
 */
export function followInImage(root: string, image: ImageRecord, path: string): string {
  let parts = path.split("/").filter((p) => p !== "" && p !== ".");
  for (let i = 0; i < 255; i++) {
    const e = imageEntry(root, image, `/${parts.join("/")}`);
    if (e.kind !== "link") return `/${parts.join("/")}`;
    const link = parts.slice(0, e.depth + 1);
    const target = readlinkSync(join(e.layer!, ...link));
    const base = target.startsWith("/") ? [] : link.slice(0, -1);
    for (const part of target.split("/")) {
      if (part === "" || part === ".") continue;
      if (part === "..") base.pop();
      else base.push(part);
    }
    parts = [...base, ...parts.slice(e.depth + 1)];
  }
  throw new TsdError(`${path}: too many levels of symbolic links`, 1);
}

function lstatOr(path: string) {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}
