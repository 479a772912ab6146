// mount(2), umount2(2) and waitpid(2) through libc (node has none): restore's bind of the
// rootfs onto a mount point of its own (CRIU's --root must be one) and its wait for the
// restored init, which CRIU leaves as our child (--restore-sibling) but Bun did not spawn;
// the rootless fuse rootfs's unmount.
import { TsdError } from "../errors";
import { cstr, errno, libc } from "./libc";

const MS_BIND = 0x1000;
const MS_REC = 0x4000;
const MNT_DETACH = 2;
const WNOHANG = 1;
const ECHILD = 10;


/** `mount --rbind src dst`. */
export function bindMount(src: string, dst: string): void {
  if (libc().mount(cstr(src), cstr(dst), null, MS_BIND | MS_REC, null) !== 0) {
    throw new TsdError(`bind mount ${src} on ${dst}: errno ${errno()}`, 1);
  }
}

/** `umount -l dst`; false when it was no mount point (any more). */
export function detachMount(dst: string): boolean {
  return libc().umount2(cstr(dst), MNT_DETACH) === 0;
}

/** `umount dst`, lazily (`umount -l`) when it is still busy; false when neither worked. */
export function unmount(dst: string): boolean {
  return libc().umount2(cstr(dst), 0) === 0 || detachMount(dst);
}

/** waitpid(pid, WNOHANG): undefined while it runs, else its status as a shell gives it
 *  (the exit code, or 128+N for signal N); undefined too when it is no child of ours. */
export function reapChild(pid: number): number | "gone" | undefined {
  const raw = new Int32Array(1);
  const r = libc().waitpid(pid, raw, WNOHANG);
  if (r === 0) return undefined;
  if (r < 0) return errno() === ECHILD ? "gone" : undefined;
  const s = raw[0]!;
  return (s & 0x7f) === 0 ? (s >> 8) & 0xff : 128 + (s & 0x7f);
}
