// Sealed memfds through libc (bun has no memfd_create): what the monitor is exec'd from, so no
// writable host file ever backs a tsd process that a container can reach (CVE-2019-5736).
import { closeSync, fstatSync, writeSync } from "node:fs";
import { cstr, errno, libc } from "./libc";

const MFD_CLOEXEC = 0x1;
const MFD_ALLOW_SEALING = 0x2;
// Linux >= 6.3 asks for an explicit MFD_EXEC (and refuses it with EINVAL before).
const MFD_EXEC = 0x10;
const EINVAL = 22;
const F_ADD_SEALS = 1033;
const F_GET_SEALS = 1034;
// F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE: nobody, root included, can
// change a byte or the size, nor lift the seals.
const ALL_SEALS = 0x1 | 0x2 | 0x4 | 0x8;

/** Whether `fd` is a memfd carrying every seal sealedMemfd sets (a plain file: false). */
export function fullySealed(fd: number): boolean {
  return libc().fcntl(fd, F_GET_SEALS, 0) === ALL_SEALS;
}

/** A close-on-exec memfd named `name` holding exactly `bytes`, sealed against any change. */
export function sealedMemfd(name: string, bytes: Uint8Array): number {
  const fd = openMemfd(name);
  try {
    for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off, bytes.length - off);
    seal(fd);
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  return fd;
}

/**
 * sealedMemfd of the file at `path` (an embedded $bunfs file), written by Bun's thread pool: the
 * ~1 ms of copying a 1.2 MB binary overlaps whatever the caller does before it awaits.
 */
export async function sealedMemfdOf(name: string, path: string): Promise<number> {
  const fd = openMemfd(name);
  try {
    const file = Bun.file(path);
    const written = await Bun.write(Bun.file(fd), file);
    if (written !== file.size || fstatSync(fd).size !== file.size) throw new Error(`the memfd holds ${written} of ${file.size} bytes`);
    seal(fd);
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  return fd;
}

function openMemfd(name: string): number {
  const c = libc();
  const cname = cstr(name);
  let fd = c.memfd_create(cname, MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
  if (fd < 0 && errno() === EINVAL) fd = c.memfd_create(cname, MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) throw new Error(`memfd_create: errno ${errno()}`);
  return fd;
}

function seal(fd: number): void {
  const c = libc();
  if (c.fcntl(fd, F_ADD_SEALS, ALL_SEALS) !== 0) throw new Error(`seal the memfd: errno ${errno()}`);
  if (c.fcntl(fd, F_GET_SEALS, 0) !== ALL_SEALS) throw new Error("the memfd's seals are not the ones set");
}
