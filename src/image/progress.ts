// Pull/push progress as `docker pull` shows it: on a terminal one line per layer, redrawn in
// place (Waiting, Downloading [==>  ] 1.2MB/3.4MB, Extracting, Pull complete); otherwise one
// plain line per status change; nothing at all with -q.
import { humanSize } from "../format";

export interface Progress {
  /** A line that is not about a layer: "latest: Pulling from library/alpine", "Digest: …". */
  say(line: string): void;
  /** A layer's status; `current`/`total` bytes draw the bar on a terminal. */
  layer(id: string, status: string, current?: number, total?: number): void;
  /** Ends the in-place drawing (before an error message or the final lines). */
  end(): void;
}

export type Out = { write(s: string): unknown; isTTY?: boolean };

export function makeProgress(out: Out, quiet: boolean): Progress {
  if (quiet) return { say() {}, layer() {}, end() {} };
  return out.isTTY ? new TtyProgress(out) : new PlainProgress(out);
}

class PlainProgress implements Progress {
  private readonly last = new Map<string, string>();
  constructor(private readonly out: Out) {}
  say(line: string): void {
    this.out.write(`${line}\n`);
  }
  layer(id: string, status: string): void {
    if (this.last.get(id) === status) return;
    this.last.set(id, status);
    this.out.write(`${id}: ${status}\n`);
  }
  end(): void {}
}

class TtyProgress implements Progress {
  private readonly order: string[] = [];
  private readonly lines = new Map<string, string>();
  private drawn = 0;
  private lastDraw = 0;
  constructor(private readonly out: Out) {}

  say(line: string): void {
    this.flush();
    this.out.write(`${line}\n`);
    this.order.length = 0;
    this.lines.clear();
    this.drawn = 0;
  }

  layer(id: string, status: string, current?: number, total?: number): void {
    if (!this.lines.has(id)) this.order.push(id);
    this.lines.set(id, `${id}: ${status}${current !== undefined ? ` ${bar(current, total)}` : ""}`);
    const now = Date.now();
    // Byte counts redraw at most 10 times a second; status changes at once.
    if (current !== undefined && now - this.lastDraw < 100) return;
    this.lastDraw = now;
    this.flush();
  }

  end(): void {
    this.flush();
    this.order.length = 0;
    this.lines.clear();
    this.drawn = 0;
  }

  private flush(): void {
    if (this.order.length === 0) return;
    let s = this.drawn > 0 ? `\x1b[${this.drawn}A` : "";
    for (const id of this.order) s += `\r\x1b[2K${this.lines.get(id)}\n`;
    this.drawn = this.order.length;
    this.out.write(s);
  }
}

function bar(current: number, total: number | undefined): string {
  if (!total) return humanSize(current);
  const width = 50;
  const filled = Math.min(width, Math.floor((current / total) * width));
  const arrow = filled < width ? ">" : "";
  return `[${"=".repeat(Math.max(0, filled - (arrow ? 1 : 0)))}${arrow}${" ".repeat(width - filled)}]  ${humanSize(current)}/${humanSize(total)}`;
}
