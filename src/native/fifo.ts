// mkfifo(3) through libc (node:fs has none): the OCI-runtime mode's exec fifo, the rendezvous
// between `create` (the init blocks reading it) and `start` (which writes one byte).
import { TsdError } from "../errors";
import { cstr, errno, libc } from "./libc";

const EEXIST = 17;

/** Makes the fifo `path` with `mode` (the umask applies, as for any mkfifo). */
export function mkfifo(path: string, mode: number): void {
  if (libc().mkfifo(cstr(path), mode) === 0) return;
  const e = errno();
  throw new TsdError(e === EEXIST ? `mkfifo ${path}: file exists` : `mkfifo ${path}: errno ${e}`, 1);
}
