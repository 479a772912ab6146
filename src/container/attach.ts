// `tsd attach`: a client of the monitor's attach socket (zig/monitor/attach.zig). Output
// arrives raw (a terminal) or in Docker's stdcopy frames (stdout and stderr apart); stdin goes
// to the container when it was started with -i; Ctrl-P Ctrl-Q (or --detach-keys) leaves it
// running. When the container ends the monitor closes the socket and we exit with its status.
import type { Database } from "bun:sqlite";
import { containerEvent } from "./events";
import { closeSync, existsSync, openSync, writeSync } from "node:fs";
import { join } from "node:path";
import { TsdError } from "../errors";
import { containerDir } from "../store/paths";
import { signalContainer, signalNumber } from "./lifecycle";
import { mustFind } from "./resolve";
import { waitContainer } from "./wait";
import type { ContainerRow } from "./store";
import type { Socket } from "bun";
import { decide } from "./state";
import { decodeOptions } from "./options";
import { parseDetachKeys } from "./detach-keys";

export { parseDetachKeys } from "./detach-keys";

/** Splits stdcopy frames; returns the unconsumed tail. */
export function deframe(buf: Buffer, out: (stream: number, payload: Buffer) => void): Buffer {
  let off = 0;
  while (buf.length - off >= 8) {
    const len = buf.readUInt32BE(off + 4);
    if (buf.length - off - 8 < len) break;
    out(buf[off]!, buf.subarray(off + 8, off + 8 + len));
    off += 8 + len;
  }
  return buf.subarray(off);
}

/** Finds the detach sequence across chunks; returns the bytes to forward and whether it matched. */
export class DetachMatcher {
  private matched = 0;
  constructor(private readonly keys: number[]) {}
  feed(chunk: Uint8Array): { forward: Uint8Array; detach: boolean } {
    const out: number[] = [];
    for (const b of chunk) {
      if (b === this.keys[this.matched]) {
        this.matched++;
        if (this.matched === this.keys.length) return { forward: Uint8Array.from(out), detach: true };
        continue;
      }
      // A partial match that broke: its bytes were meant for the container after all.
      out.push(...this.keys.slice(0, this.matched));
      this.matched = b === this.keys[0] ? 1 : 0;
      if (this.matched === 0) out.push(b);
    }
    return { forward: Uint8Array.from(out), detach: false };
  }
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) off += writeSync(fd, bytes, off);
}

export async function attachContainer(db: Database, root: string, ref: string, o: { noStdin: boolean; detachKeys: string; sigProxy: boolean }): Promise<number> {
  const row = mustFind(db, root, ref);
  decide("attach", row, ref);
  containerEvent(db, row, "attach");
  const opts = decodeOptions(row.options);
  const keys = parseDetachKeys(o.detachKeys);
  const { socket, closed } = await connectAttach(root, row, Boolean(opts.tty));
  const term = terminal(row, Boolean(opts.tty));
  const relay = relayStdin(socket, keys, !o.noStdin && Boolean(opts.interactive));
  const unproxy = proxySignals(row, o.sigProxy && !opts.tty);
  try {
    await closed;
  } finally {
    unproxy();
    term.restoreResize();
    relay.stop();
    term.restoreMode();
  }
  if (relay.detached()) {
    if (term.raw) process.stderr.write("\r\nread escape sequence\r\n");
    return 0;
  }
  return waitContainer(db, root, row.id);
}

/** The monitor's attach socket: output to our stdout/stderr (raw, or stdcopy frames apart). */
async function connectAttach(root: string, row: ContainerRow, tty: boolean): Promise<{ socket: Socket; closed: Promise<void> }> {
  const bundle = containerDir(root, row.id);
  if (!existsSync(join(bundle, "attach.sock"))) throw new TsdError(`container ${row.name} has no attach socket (started by an older tsd?)`, 1);
  // Through the directory's fd: the socket's full path may be longer than sun_path allows.
  const dirFd = openSync(bundle, "r");
  let pending: Buffer = Buffer.alloc(0);
  const { promise: closed, resolve: onClose } = Promise.withResolvers<void>();
  const socket = await Bun.connect({
    unix: `/proc/self/fd/${dirFd}/attach.sock`,
    socket: {
      data(_s, data) {
        if (tty) writeAll(1, data);
        else pending = deframe(Buffer.concat([pending, data]), (stream, payload) => writeAll(stream === 2 ? 2 : 1, payload));
      },
      close() {
        onClose();
      },
      error() {
        onClose();
      },
    },
  }).catch((e) => {
    throw new TsdError(`cannot attach to ${row.name}: ${(e as Error).message}`, 1);
  }).finally(() => closeSync(dirFd));
  return { socket, closed };
}

/** A tty container: our terminal raw, and its size followed. */
function terminal(row: ContainerRow, tty: boolean): { raw: boolean; restoreResize(): void; restoreMode(): void } {
  const raw = tty && process.stdin.isTTY;
  if (raw) process.stdin.setRawMode(true);
  // The pty belongs to the monitor; its size is set through the init's end of it (its fd 0 is
  // the slave), which also sends SIGWINCH to the container's foreground process group.
  const resize = () => {
    if (!tty || !process.stdout.isTTY) return;
    Bun.spawnSync(["stty", "-F", `/proc/${row.pid}/fd/0`, "rows", String(process.stdout.rows), "cols", String(process.stdout.columns)], { stdio: ["ignore", "ignore", "ignore"] });
  };
  resize();
  process.on("SIGWINCH", resize);
  return {
    raw,
    restoreResize: () => process.off("SIGWINCH", resize),
    restoreMode: () => {
      if (raw) process.stdin.setRawMode(false);
    },
  };
}

/** Our stdin to the container until the detach keys. */
function relayStdin(socket: Socket, keys: number[], wanted: boolean): { detached(): boolean; stop(): void } {
  let detached = false;
  const matcher = new DetachMatcher(keys);
  const onData = (chunk: Buffer) => {
    const { forward, detach } = matcher.feed(chunk);
    if (forward.length) socket.write(forward);
    if (detach) {
      detached = true;
      socket.end();
    }
  };
  if (wanted) process.stdin.on("data", onData);
  return {
    detached: () => detached,
    stop: () => {
      if (!wanted) return;
      process.stdin.off("data", onData);
      process.stdin.pause();
    },
  };
}

/** --sig-proxy: our signals to the container's init; returns the undo. */
function proxySignals(row: ContainerRow, on: boolean): () => void {
  const proxied = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2"] as const;
  const forward = (sig: NodeJS.Signals) => () => {
    try {
      signalContainer(row, signalNumber(sig)!);
    } catch {
      // Gone: the socket closes next.
    }
  };
  const handlers = on ? proxied.map((s) => [s, forward(s)] as const) : [];
  for (const [s, h] of handlers) process.on(s, h);
  return () => {
    for (const [s, h] of handlers) process.off(s, h);
  };
}
