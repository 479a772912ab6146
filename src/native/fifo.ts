// mkfifo(3) through libc (node:fs has none): the OCI-runtime mode's exec fifo, the rendezvous
// between `create` (the init blocks reading it) and `start` (which writes one byte).
import { dlopen, FFIType, read } from "bun:ffi";
import { TsdError } from "../errors";

const symbols = {
  mkfifo: { args: [FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
  __errno_location: { args: [], returns: FFIType.ptr },
} as const;
let libc: ReturnType<typeof dlopen<typeof symbols>>["symbols"] | undefined;

const EEXIST = 17;

/** Makes the fifo `path` with `mode` (the umask applies, as for any mkfifo). */
export function mkfifo(path: string, mode: number): void {
  libc ??= dlopen("libc.so.6", symbols).symbols;
  if (libc.mkfifo(Buffer.from(`${path}\0`), mode) === 0) return;
  const errno = read.i32(libc.__errno_location()!, 0);
  throw new TsdError(errno === EEXIST ? `mkfifo ${path}: file exists` : `mkfifo ${path}: errno ${errno}`, 1);
}
