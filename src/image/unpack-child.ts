// Unpacking a layer in a child process (`tsd image unpack --plain DIR`, reading plain tar on
// stdin: pull, load and import inflate gzip and zstd themselves, src/image/layer-unpack.ts),
// so a pull unpacks while it downloads: the Zig unpacker is a blocking call, and in the CLI's
// own thread it would stall every download and timer. Layers are independent directories, so
// all of them can unpack at once, each while its bytes arrive.
import type { Subprocess } from "bun";
import { readSync } from "node:fs";
import { TsdError } from "../errors";

/** argv that runs this tsd again: the compiled binary, or bun + the entry script in dev. */
function self(): string[] {
  return /\.[cm]?[jt]s$/.test(Bun.main) ? [process.execPath, Bun.main] : [process.execPath];
}

export class UnpackChild {
  private readonly proc: Subprocess<"pipe", "pipe", "pipe">;
  private pending = 0;

  constructor(root: string, dest: string) {
    this.proc = Bun.spawn([...self(), "--root", root, "image", "unpack", "--plain", dest], { stdin: "pipe", stdout: "pipe", stderr: "pipe" });
  }

  /** Feeds bytes; waits when much is buffered, so a slow unpack slows the download. */
  async write(chunk: Uint8Array): Promise<void> {
    this.proc.stdin.write(chunk);
    this.pending += chunk.length;
    if (this.pending >= 1 << 20) {
      this.pending = 0;
      await this.proc.stdin.flush();
    }
  }

  /** Ends the stream and returns what the unpacker measured. */
  async finish(): Promise<{ size: number; diffId: string }> {
    try {
      await this.proc.stdin.end();
    } catch (e) {
      // The unpacker stopped reading (it refused the stream): its own message says why, below;
      // an EPIPE let through here would end the command as a closed stdout does (141).
      if ((e as NodeJS.ErrnoException).code !== "EPIPE") throw e;
    }
    const [out, err, code] = await Promise.all([new Response(this.proc.stdout).text(), new Response(this.proc.stderr).text(), this.proc.exited]);
    if (code !== 0) throw new TsdError(err.trim().replace(/^tsd: /, "") || `the layer unpacker exited ${code}`);
    const r = JSON.parse(out) as { size: number; diffId: string };
    return r;
  }

  kill(): void {
    try {
      // Bytes still buffered for its stdin would fail to go out once it is dead, and Bun
      // reports that EPIPE as an uncaught error: ending the sink first takes it here.
      const ended = this.proc.stdin.end();
      if (ended instanceof Promise) ended.catch(() => {});
    } catch {
      // Closed already.
    }
    try {
      this.proc.kill("SIGKILL");
    } catch {
      // Gone already.
    }
  }

  get exited(): Promise<number> {
    return this.proc.exited;
  }
}

/**
 * The child's side, when it refused the stream on its stdin: the rest is read and dropped, so
 * that the parent hears of the refusal when it ends the stream (`finish`), never as an EPIPE of
 * a write: Bun's pipe sink can report that as an uncaught error of the parent as well as to the
 * write, and the command would end as on a closed stdout (141) instead of with this message.
 * Bounded by the stream: the parent, not a stranger, writes it, and ends it or kills the child.
 */
export function drainStdin(): void {
  const buf = Buffer.allocUnsafe(1 << 20);
  for (;;) {
    let n: number;
    try {
      n = readSync(0, buf, 0, buf.length, null);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "EAGAIN") Bun.sleepSync(1);
      if (code === "EAGAIN" || code === "EINTR") continue;
      return;
    }
    if (n === 0) return;
  }
}

/**
 * `tsd load`'s unpack of a whole archive (a file, or "-": this process's stdin, handed to the
 * child as it is) into `dest`, in a child so that this process stays free to act on a signal
 * (src/interrupt.ts): `stop()` kills the child at once.
 */
export function unpackArchive(root: string, source: string, dest: string): { done: Promise<{ size: number }>; stop: () => void } {
  const proc = Bun.spawn([...self(), "--root", root, "image", "unpack", "--archive", ...(source === "-" ? [] : ["--from", source]), dest], {
    stdin: source === "-" ? "inherit" : "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const done = (async () => {
    const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    if (code !== 0) throw new TsdError(err.trim().split("\n")[0]?.replace(/^tsd: /, "") || `the archive unpacker exited ${code}`);
    return JSON.parse(out) as { size: number };
  })();
  const stop = () => {
    try {
      proc.kill("SIGKILL");
    } catch {
      // Gone already.
    }
  };
  return { done, stop };
}
