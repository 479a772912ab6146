// Synchronous writes to a descriptor that end a command cleanly: a reader that went away
// (EPIPE: `tsd save X | head -c 1000`) ends it at once and quietly, a full device ends it
// with one line. Synchronous so a tar writer can stream straight to stdout without a spool.
import { readFileSync, writeSync } from "node:fs";
import { BrokenPipe, TsdError } from "./errors";

/**
 * The one writer of the command's stdout: every line a command prints goes through here
 * (console.log is routed here by src/main.ts), synchronously, so a reader that went away
 * (`tsd ps | head -1`, `tsd stats | head -3`) ends the command at once with status 141, as
 * docker (a Go program killed by SIGPIPE), instead of Bun's streams dropping the error and
 * running on, or queueing output in memory and dying with a stack trace.
 */
export const stdout = {
  write(text: string | Uint8Array): boolean {
    writeAllSync(1, typeof text === "string" ? Buffer.from(text, "utf8") : text, "stdout");
    return true;
  },
  /** Whether stdout is a terminal (isatty: process.stdout would make Bun switch it to non-blocking). */
  get isTTY(): boolean {
    return isatty(1);
  },
};

/** console.log's formatting, written through `stdout`; node:util only for more than one string. */
export function printLine(...args: unknown[]): void {
  if (args.length === 1 && typeof args[0] === "string") {
    stdout.write(`${args[0]}\n`);
    return;
  }
  const { format } = require("node:util") as typeof import("node:util");
  stdout.write(`${format(...args)}\n`);
}

/**
 * Whether `fd` is a terminal. node:tty is loaded on the first call only: importing it pulls
 * in Bun's stream machinery, ~8 ms of every command's start (bench/README.md, scale).
 */
export function isatty(fd: number): boolean {
  return (require("node:tty") as typeof import("node:tty")).isatty(fd);
}

/** The text of `path`, or "" when it cannot be read (a /proc file of a process gone, a file
 *  that may be missing). */
export function readOr(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

/** Writes all of `bytes` to `fd`; `target` names it in messages ("stdout", a file path). */
export function writeAllSync(fd: number, bytes: Uint8Array, target: string): void {
  let off = 0;
  while (off < bytes.length) {
    try {
      off += writeSync(fd, bytes, off);
    } catch (e) {
      retryOrThrow(e, "writing", target);
    }
  }
}

/** Reads up to `buf.length` bytes from `fd` (0 at the end), waiting out EAGAIN. */
function retryOrThrow(e: unknown, doing: string, target: string): void {
  const code = (e as NodeJS.ErrnoException).code;
  // Bun makes stdout and stdin non-blocking once its own stream objects touch them: a
  // full pipe is waited out (1 ms naps; there is no poll(2) in node:fs).
  if (code === "EAGAIN" || code === "EINTR") {
    if (code === "EAGAIN") Bun.sleepSync(1);
    return;
  }
  if (code === "EPIPE") throw new BrokenPipe();
  if (code === "ENOSPC" || code === "EDQUOT") throw new TsdError(`no space left on device ${doing} ${target}`);
  throw new TsdError(`${doing} ${target} failed: ${(e as Error).message}`);
}

/**
 * Whether descriptor `fd` (0-2) was closed when tsd started (`tsd save >&-`): Bun then
 * opens /dev/null in its place, with close-on-exec, which an inherited standard
 * descriptor never has (exec would have closed it).
 */
export function stdioWasClosed(fd: 0 | 1 | 2): boolean {
  try {
    return fdinfoCloseOnExec(readFileSync(`/proc/self/fdinfo/${fd}`, "utf8"));
  } catch {
    return false;
  }
}

/** The O_CLOEXEC bit of the `flags:` line (octal) of a /proc/PID/fdinfo/FD text. */
export function fdinfoCloseOnExec(fdinfo: string): boolean {
  const m = /^flags:\s*([0-7]+)$/m.exec(fdinfo);
  return m !== null && (parseInt(m[1]!, 8) & 0o2000000) !== 0;
}

/** The argv that runs this tsd again (the compiled binary, or bun + the entry in a dev tree). */
export function selfCommand(): string[] {
  return Bun.main.startsWith("/$bunfs/") ? [process.execPath] : [process.execPath, Bun.main];
}

/** A host tool's path: PATH, then the system directories a user's PATH may lack (sbin). */
export function findTool(name: string): string | undefined {
  return Bun.which(name, { PATH: `${process.env.PATH ?? ""}:/usr/bin:/bin:/usr/sbin:/sbin` }) ?? undefined;
}

/** A counting semaphore: at most `free` of the functions given to `with` run at once (a freed
 *  slot passes straight to the next in line). A build's RUNs, a pull's or a load's layers. */
export class Slots {
  private waiting: (() => void)[] = [];
  constructor(private free: number) {}
  async with<T>(fn: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((go) => this.waiting.push(go));
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    }
  }
}
