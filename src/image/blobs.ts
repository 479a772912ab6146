// The content-addressed blob store, <root>/blobs/sha256/<hex>. A blob becomes visible there
// only by a rename after its size and digest were checked; downloads grow in
// <root>/tmp/partial/<hex> (one writer at a time, by an O_EXCL lock file holding the pid), so
// an interrupted pull leaves a partial file the next pull resumes with a Range request.
import { closeSync, existsSync, linkSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writeSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { rootPaths } from "../store/paths";
import { TsdError } from "../errors";

export function digestHex(digest: string): string {
  const m = /^sha256:([a-f0-9]{64})$/.exec(digest);
  if (!m) throw new TsdError(`unsupported or malformed digest "${digest}" (only sha256 is supported)`);
  return m[1]!;
}

export function blobPath(root: string, digest: string): string {
  return join(rootPaths(root).blobs, digestHex(digest));
}

export function hasBlob(root: string, digest: string, size?: number): boolean {
  try {
    const st = statSync(blobPath(root, digest));
    return size === undefined || st.size === size;
  } catch {
    return false;
  }
}

export function sha256Hex(data: Uint8Array | string): string {
  return new Bun.CryptoHasher("sha256").update(data).digest("hex");
}

/** Stores bytes already in memory (manifests, configs) after checking their digest. */
export function putBlob(root: string, digest: string, data: Uint8Array): string {
  const got = `sha256:${sha256Hex(data)}`;
  if (got !== digest) throw new TsdError(`blob ${digest} has content ${got}: refused (corrupt or tampered)`);
  const path = blobPath(root, digest);
  if (existsSync(path)) return path;
  mkdirSync(rootPaths(root).blobs, { recursive: true, mode: 0o700 });
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  writeFileSync(tmp, data, { mode: 0o600 });
  renameSync(tmp, path);
  return path;
}

/** Computes the digest of a file by streaming it. */
export async function fileDigest(path: string): Promise<{ digest: string; size: number }> {
  const h = new Bun.CryptoHasher("sha256");
  let size = 0;
  for await (const chunk of Bun.file(path).stream()) {
    h.update(chunk);
    size += chunk.length;
  }
  return { digest: `sha256:${h.digest("hex")}`, size };
}

/** Moves a verified file into the store (same filesystem: a rename). */
export function adoptBlob(root: string, digest: string, file: string): string {
  const path = blobPath(root, digest);
  mkdirSync(rootPaths(root).blobs, { recursive: true, mode: 0o700 });
  renameSync(file, path);
  return path;
}

export interface PartialDownload {
  path: string;
  /** Bytes already there, to resume from. */
  offset: number;
  hasher: Bun.CryptoHasher;
  append: (chunk: Uint8Array) => void;
  /** Drops the bytes so far (the server ignored the Range request, or they were wrong). */
  restart: () => void;
  close: () => void;
  /** Deletes the bytes for good (they failed verification). */
  discard: () => void;
  release: () => void;
}

/**
 * Takes the partial file for `digest`: waits while another live process holds it, takes it
 * over from a dead one, and hashes what an earlier attempt already wrote. Undefined when the
 * blob appeared in the store meanwhile.
 */
export async function openPartial(root: string, digest: string): Promise<PartialDownload | undefined> {
  const hex = digestHex(digest);
  const dir = join(rootPaths(root).tmp, "partial");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const lock = join(dir, `${hex}.lock`);
  if (!(await takePartialLock(root, digest, lock))) return undefined;
  const path = join(dir, hex);
  const hasher = new Bun.CryptoHasher("sha256");
  let offset = 0;
  if (existsSync(path)) {
    for await (const chunk of Bun.file(path).stream()) {
      hasher.update(chunk);
      offset += chunk.length;
    }
  }
  let fd = openSync(path, "a", 0o600);
  const p: PartialDownload = {
    path,
    offset,
    hasher,
    append(chunk) {
      let off = 0;
      while (off < chunk.length) off += writeSync(fd, chunk, off);
      // The current hasher: restart() replaces it.
      p.hasher.update(chunk);
    },
    restart() {
      if (fd >= 0) closeSync(fd);
      fd = openSync(path, "w", 0o600);
      p.offset = 0;
      p.hasher = new Bun.CryptoHasher("sha256");
    },
    close() {
      if (fd >= 0) closeSync(fd);
      fd = -1;
    },
    discard() {
      p.close();
      rmSync(path, { force: true });
    },
    release() {
      p.close();
      try {
        unlinkSync(lock);
      } catch {
        // Already gone.
      }
    },
  };
  return p;
}

/**
 * Drops the locks of dead holders whose blob is in the store: a pull killed between moving
 * its download into the store and unlinking the lock leaves one, and no one takes a lock for
 * a blob the store has (`takePartialLock` looks first), so nothing else would collect it. A
 * live holder's lock (one that found the blob missing just before it arrived) is kept.
 */
export function removeStaleLocks(root: string): void {
  const dir = join(rootPaths(root).tmp, "partial");
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const m = /^([a-f0-9]{64})\.lock$/.exec(name);
    if (!m || !hasBlob(root, `sha256:${m[1]}`)) continue;
    const holder = Number(readText(join(dir, name)));
    if (holder && alive(holder)) continue;
    rmSync(join(dir, name), { force: true });
  }
}

/** Takes the partial file's lock (false: the blob is in the store now). The lock appears with
 *  its pid already in it (written aside, then hard-linked into place), so no one reads an
 *  empty lock and takes it for a dead holder's; a dead holder's lock is taken over. */
async function takePartialLock(root: string, digest: string, lock: string): Promise<boolean> {
  for (let i = 0; ; i++) {
    if (hasBlob(root, digest)) return false;
    const mine = `${lock}.${process.pid}.${Math.random().toString(36).slice(2)}`;
    writeFileSync(mine, String(process.pid), { mode: 0o600 });
    try {
      linkSync(mine, lock);
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    } finally {
      rmSync(mine, { force: true });
    }
    const holder = Number(readText(lock));
    if (!holder || !alive(holder)) {
      rmSync(lock, { force: true });
      continue;
    }
    if (i > 36000) throw new TsdError(`blob ${digest} has been downloading in process ${holder} for an hour: stop it or remove ${lock}`);
    await Bun.sleep(100);
  }
}

function readText(path: string): string {
  try {
    return readFileSync(path, "utf8").trim();
  } catch {
    return "";
  }
}

function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}
