// The create-time half of run/create's metadata flags: --cidfile (claimed before the create,
// written after it), --volumes-from (the other container's mounts), --platform (the image must
// be of it) and the labels merged over the image's, as Docker's daemon does.
import type { Database } from "bun:sqlite";
import { closeSync, existsSync, openSync, rmSync, writeSync } from "node:fs";
import { posix } from "node:path";
import { TsdError } from "../errors";
import { findImage, type ImageRecord } from "../image/store";
import { parsePlatform } from "../image/media";
import { createContainer, type Created } from "./create";
import { decodeOptions, type BindMount, type RunOptions } from "./options";
import { lookup } from "./resolve";

/** createContainer with the metadata flags applied; the cidfile holds the id when it returns. */
export function createWithMeta(db: Database, root: string, opts: RunOptions, o: { startsNow?: boolean } = {}): Created {
  const cid = opts.cidfile === undefined ? undefined : claimCidfile(opts.cidfile);
  try {
    const image = findImage(db, opts.image);
    const c = createContainer(db, root, resolveMeta(db, root, opts, image), { ...o, image });
    if (cid) writeCidfile(cid, c.id);
    return c;
  } catch (e) {
    if (cid) releaseCidfile(cid);
    throw e;
  }
}

/** The options as the container keeps them: labels merged over `image`'s (opts.image's
 *  record), --volumes-from's mounts added. */
function resolveMeta(db: Database, root: string, opts: RunOptions, image: ImageRecord | undefined): RunOptions {
  if (!image) return opts; // createContainer says so
  if (opts.platform) checkImagePlatform(opts.image, image, opts.platform);
  const labels = { ...(image.config.config?.Labels ?? {}), ...(opts.labels ?? {}) };
  const from = (opts.volumesFrom ?? []).flatMap((spec) => volumesFrom(db, root, spec));
  return {
    ...opts,
    ...(Object.keys(labels).length > 0 ? { labels } : {}),
    ...(from.length > 0 ? { volumes: mergeVolumesFrom(opts, from) } : {}),
  };
}

/** Docker's daemon: "image with reference … was found but does not match the specified platform". */
export function checkImagePlatform(ref: string, image: Pick<ImageRecord, "config">, platform: string): void {
  const want = parsePlatform(platform);
  const os = image.config.os ?? "linux";
  const arch = parsePlatform(`${os}/${image.config.architecture ?? want.architecture}`).architecture;
  if (os !== want.os || arch !== want.architecture) {
    throw new TsdError(
      `image with reference ${ref} was found but does not match the specified platform: wanted ${platform}, actual: ${os}/${arch}: pull it for that platform (tsd pull --platform ${platform}) or drop --platform`,
    );
  }
}

/** The mounts (volumes and binds; not tmpfs) of container `spec` = C[:ro|rw]. */
export function volumesFrom(db: Database, root: string, spec: string): BindMount[] {
  const [ref, mode] = spec.split(":") as [string, string | undefined];
  const row = lookup(db, root, ref);
  if (!row) throw new TsdError(`no such container: ${ref} (for --volumes-from ${spec})`);
  return decodeOptions(row.options).volumes.map((v) => {
    // The volume is the other container's: shared by name, never anonymous here (rm -v of
    // this container must not take it), never copied into again.
    const { anonymous: _, ...rest } = v;
    return { ...rest, readonly: mode === undefined ? v.readonly : mode === "ro", inherited: true, ...(v.volume ? { noCopy: true } : {}) };
  });
}

/** The container's own mounts win over --volumes-from's at the same path (Docker's order). */
export function mergeVolumesFrom(opts: Pick<RunOptions, "volumes" | "tmpfs">, from: BindMount[]): BindMount[] {
  const clean = (p: string) => posix.normalize(p).replace(/(.)\/+$/, "$1");
  const taken = new Set([...opts.volumes, ...opts.tmpfs].map((m) => clean(m.destination)));
  const added: BindMount[] = [];
  for (const m of from) {
    if (taken.has(clean(m.destination))) continue;
    taken.add(clean(m.destination));
    added.push(m);
  }
  return [...opts.volumes, ...added];
}

/** Docker's CLI: a cidfile that exists is refused (another container may own it). */
export function claimCidfile(path: string): string {
  if (existsSync(path)) throw new TsdError(`container ID file found, make sure the other container isn't running or delete ${path}`);
  try {
    closeSync(openSync(path, "wx", 0o644));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EEXIST") throw new TsdError(`container ID file found, make sure the other container isn't running or delete ${path}`);
    throw new TsdError(`failed to create the container ID file ${path}: ${code ?? (e as Error).message}`);
  }
  return path;
}

function writeCidfile(path: string, id: string): void {
  const fd = openSync(path, "w");
  try {
    writeSync(fd, id);
  } finally {
    closeSync(fd);
  }
}

function releaseCidfile(path: string): void {
  rmSync(path, { force: true });
}
