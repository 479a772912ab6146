// mount(2), umount2(2) and waitpid(2) through libc (node has none): restore's bind of the
// rootfs onto a mount point of its own (CRIU's --root must be one) and its wait for the
// restored init, which CRIU leaves as our child (--restore-sibling) but Bun did not spawn;
// the rootless fuse rootfs's unmount.
import { dlopen, FFIType, read } from "bun:ffi";
import { TsdError } from "../errors";

const symbols = {
  mount: { args: [FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.u64, FFIType.ptr], returns: FFIType.i32 },
  umount2: { args: [FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
  waitpid: { args: [FFIType.i32, FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
  __errno_location: { args: [], returns: FFIType.ptr },
} as const;
let libc: ReturnType<typeof dlopen<typeof symbols>>["symbols"] | undefined;

const MS_BIND = 0x1000;
const MS_REC = 0x4000;
const MNT_DETACH = 2;
const WNOHANG = 1;
const ECHILD = 10;

function lib(): NonNullable<typeof libc> {
  libc ??= dlopen("libc.so.6", symbols).symbols;
  return libc;
}

function errno(): number {
  return read.i32(lib().__errno_location()!, 0);
}

const cstr = (s: string): Buffer => Buffer.from(`${s}\0`);

/** `mount --rbind src dst`. */
export function bindMount(src: string, dst: string): void {
  if (lib().mount(cstr(src), cstr(dst), null, MS_BIND | MS_REC, null) !== 0) {
    throw new TsdError(`bind mount ${src} on ${dst}: errno ${errno()}`, 1);
  }
}

/** `umount -l dst`; false when it was no mount point (any more). */
export function detachMount(dst: string): boolean {
  return lib().umount2(cstr(dst), MNT_DETACH) === 0;
}

/** `umount dst`, lazily (`umount -l`) when it is still busy; false when neither worked. */
export function unmount(dst: string): boolean {
  return lib().umount2(cstr(dst), 0) === 0 || detachMount(dst);
}

/** waitpid(pid, WNOHANG): undefined while it runs, else its status as a shell gives it
 *  (the exit code, or 128+N for signal N); undefined too when it is no child of ours. */
export function reapChild(pid: number): number | "gone" | undefined {
  const raw = new Int32Array(1);
  const r = lib().waitpid(pid, raw, WNOHANG);
  if (r === 0) return undefined;
  if (r < 0) return errno() === ECHILD ? "gone" : undefined;
  const s = raw[0]!;
  return (s & 0x7f) === 0 ? (s >> 8) & 0xff : 128 + (s & 0x7f);
}
