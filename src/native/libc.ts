// The few libc calls Bun and node:fs lack, in one table, opened once on first use: flock
// (per-container locks), execve (rootless re-exec), mkfifo (the OCI runtime's exec fifo),
// memfd_create and fcntl seals (the monitor's sealed memfd), mount/umount2/waitpid (restore's
// rootfs bind, the fuse rootfs's unmount). libtsd (ffi.ts) has tsd's own calls; these are
// plain libc, not worth a Zig wrapper each.
import { dlopen, FFIType, read } from "bun:ffi";
import { TsdError } from "../errors";

const symbols = {
  flock: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
  execve: { args: [FFIType.ptr, FFIType.ptr, FFIType.ptr], returns: FFIType.i32 },
  mkfifo: { args: [FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
  memfd_create: { args: [FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
  fcntl: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
  mount: { args: [FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.u64, FFIType.ptr], returns: FFIType.i32 },
  umount2: { args: [FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
  waitpid: { args: [FFIType.i32, FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
  __errno_location: { args: [], returns: FFIType.ptr },
} as const;

let lib: ReturnType<typeof dlopen<typeof symbols>>["symbols"] | undefined;

/** libc's symbols above (dlopen'd on the first call). */
export function libc(): NonNullable<typeof lib> {
  lib ??= dlopen("libc.so.6", symbols).symbols;
  return lib;
}

/** errno of the calling thread, right after a failed call. */
export function errno(): number {
  return read.i32(libc().__errno_location()!, 0);
}

/** A NUL-terminated copy of `s` for a char* argument. */
export const cstr = (s: string): Buffer => Buffer.from(`${s}\0`);

const LOCK_EX = 2;

/** flock(fd, LOCK_EX), blocking; the lock goes with the fd (close it to release). */
export function flockExclusive(fd: number): void {
  // A signal (EINTR) is the only failure a retry can cure.
  for (let attempt = 0; attempt < 5; attempt++) if (libc().flock(fd, LOCK_EX) === 0) return;
  throw new TsdError("cannot lock the container: flock failed");
}
