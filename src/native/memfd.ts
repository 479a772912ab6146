// Sealed memfds through libc (bun has no memfd_create): what the monitor is exec'd from, so no
// writable host file ever backs a tsd process that a container can reach (CVE-2019-5736).
import { dlopen, FFIType, read } from "bun:ffi";
import { closeSync, writeSync } from "node:fs";

const symbols = {
  memfd_create: { args: [FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
  fcntl: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
  __errno_location: { args: [], returns: FFIType.ptr },
} as const;
let libc: ReturnType<typeof dlopen<typeof symbols>>["symbols"] | undefined;

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

function errno(): number {
  return read.i32(libc!.__errno_location()!, 0);
}

/** Whether `fd` is a memfd carrying every seal sealedMemfd sets (a plain file: false). */
export function fullySealed(fd: number): boolean {
  libc ??= dlopen("libc.so.6", symbols).symbols;
  return libc.fcntl(fd, F_GET_SEALS, 0) === ALL_SEALS;
}

/** A close-on-exec memfd named `name` holding exactly `bytes`, sealed against any change. */
export function sealedMemfd(name: string, bytes: Uint8Array): number {
  libc ??= dlopen("libc.so.6", symbols).symbols;
  const cname = Buffer.from(`${name}\0`);
  let fd = libc.memfd_create(cname, MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
  if (fd < 0 && errno() === EINVAL) fd = libc.memfd_create(cname, MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) throw new Error(`memfd_create: errno ${errno()}`);
  try {
    for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off, bytes.length - off);
    if (libc.fcntl(fd, F_ADD_SEALS, ALL_SEALS) !== 0) throw new Error(`seal the memfd: errno ${errno()}`);
    if (libc.fcntl(fd, F_GET_SEALS, 0) !== ALL_SEALS) throw new Error("the memfd's seals are not the ones set");
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  return fd;
}
