// `tsd export`: a container's filesystem as one plain tar.
import type { Database } from "bun:sqlite";
import { TsdError } from "../errors";
import { imageById } from "../image/store";
import { runMonitor } from "../native/helper";
import { overlayArgs } from "./helper";
import { lookup } from "./resolve";

/**
 * The container's filesystem as one tar on `fd`: its upper dir stacked on the image's layers
 * as a read-only overlay, mounted by tsd-monitor --pack in a private mount namespace (running
 * or not: the container's own mounts are not part of an export, as with Docker) and walked
 * fd-relative, so a running container swapping a directory for a symlink meanwhile yields the
 * symlink, never host files (zig/unpack/pack.zig).
 */
export async function exportContainer(db: Database, root: string, name: string, fd: number): Promise<void> {
  const c = lookup(db, root, name);
  if (!c) throw new TsdError(`no such container: ${name}`);
  if (!imageById(db, c.image_id)) throw new TsdError(`the image of container ${c.name} is gone: cannot rebuild its filesystem`);
  await runMonitor(["--pack", ...overlayArgs(root, c.id, true), "--xattrs", "--devices", "--one-filesystem"], fd, `cannot export ${c.name}`);
}

