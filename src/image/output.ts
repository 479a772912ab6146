// Where save and export write: a file given with -o (written beside it and renamed, so a
// failure leaves no half archive) or stdout, streamed as it is made (a reader that closes
// early ends the command at once: src/io.ts).
import { closeSync, openSync, renameSync, rmSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { BrokenPipe, TsdError } from "../errors";
import { stdioWasClosed, writeAllSync } from "../io";
import { HelperError } from "../native/helper-status";
import { TarWriter } from "./tar";
import { onInterrupt } from "../interrupt";

/** Checks the destination before any work: a missing directory is named, never created. */
export function checkTarOutput(output: string | undefined): void {
  if (output === undefined) {
    if (stdioWasClosed(1)) throw new TsdError("stdout is closed: redirect it to a file or use -o FILE");
    return;
  }
  try {
    if (statSync(output).isDirectory()) throw new TsdError(`cannot write "${output}": it is a directory: name a file in it`);
  } catch (e) {
    if (e instanceof TsdError) throw e;
  }
  const dir = dirname(resolve(output));
  let st;
  try {
    st = statSync(dir);
  } catch {
    throw new TsdError(`cannot write "${output}": no such directory "${dir}"`);
  }
  if (!st.isDirectory()) throw new TsdError(`cannot write "${output}": "${dir}" is not a directory`);
}

export function writeTarOutput(output: string | undefined, produce: (tw: TarWriter) => void): void {
  checkTarOutput(output);
  if (output === undefined) {
    produce(new TarWriter((c) => writeAllSync(1, c, "stdout")));
    return;
  }
  const file = besideOutput(output);
  try {
    produce(new TarWriter((c) => writeAllSync(file.fd, c, output)));
    file.commit();
  } finally {
    file.abandon();
  }
}

/**
 * The same destinations for a producer that writes to a descriptor itself (tsd-monitor
 * --pack): stdout is handed over as it is, so nothing is spooled; a reader that closes early
 * ends the helper with EPIPE, and the command quietly (141) as writeAllSync does.
 */
export async function writeOutput(output: string | undefined, produce: (fd: number) => Promise<void>): Promise<void> {
  checkTarOutput(output);
  const target = output ?? "stdout";
  const file = output === undefined ? undefined : besideOutput(output);
  try {
    await produce(file?.fd ?? 1).catch((e) => {
      throw helperWriteError(e, target);
    });
    file?.commit();
  } finally {
    file?.abandon();
  }
}

/** `-o FILE`: written as FILE.tmp-PID beside it and renamed once whole; abandon() (a no-op
 *  after commit) closes and removes a half-written one, as a signal ending the command does. */
function besideOutput(output: string): { fd: number; commit: () => void; abandon: () => void } {
  const out = resolve(output);
  const tmp = `${out}.tmp-${process.pid}`;
  let fd: number;
  try {
    fd = openSync(tmp, "w", 0o644);
  } catch (e) {
    throw new TsdError(`cannot write "${output}": ${(e as Error).message}`);
  }
  let open = true;
  let done = false;
  const close = () => {
    if (open) closeSync(fd);
    open = false;
  };
  const remove = () => {
    close();
    if (!done) rmSync(tmp, { force: true });
  };
  // Also when SIGINT/SIGTERM/SIGHUP end the command (src/interrupt.ts).
  const forget = onInterrupt(remove);
  return {
    fd,
    commit: () => {
      close();
      renameSync(tmp, out);
      done = true;
      forget();
    },
    abandon: () => {
      remove();
      forget();
    },
  };
}

/** A helper's write failure as writeAllSync reports its own: a reader gone, a full device
 *  (by the class its exit status names: zig/CONTRACT.md). */
export function helperWriteError(e: unknown, target: string): unknown {
  if (!(e instanceof HelperError)) return e;
  if (e.failure === "broken-pipe") return new BrokenPipe();
  if (e.failure === "no-space") return new TsdError(`no space left on device writing ${target}`);
  return e;
}
