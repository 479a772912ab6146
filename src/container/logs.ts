// Reading the json-file log the monitor writes (zig/monitor/log.zig): `tsd logs`, with
// --tail, --since/--until, -t and -f (which follows rotations and ends with the container).
import { closeSync, existsSync, fstatSync, openSync, readSync, statSync } from "node:fs";
import { join } from "node:path";
import { containerDir } from "../store/paths";
import { UsageError } from "../errors";
import { writeAllSync } from "../io";

export interface LogRecord {
  log: string;
  stream: "stdout" | "stderr";
  time: string;
}

export function logPath(root: string, id: string): string {
  return join(containerDir(root, id), `${id}-json.log`);
}

/** The rotated files oldest first, then the live one; only those that exist. */
export function logFiles(path: string, maxFile = 64): string[] {
  const out: string[] = [];
  for (let i = maxFile - 1; i >= 1; i--) if (existsSync(`${path}.${i}`)) out.push(`${path}.${i}`);
  if (existsSync(path)) out.push(path);
  return out;
}

/**
 * --since/--until: an RFC 3339 time, Unix seconds (with a fraction), or a duration back
 * from now ("10m", "1h30m", "45s"), as Docker accepts. Returns ms since the epoch.
 */
export function parseTimeArg(flag: string, text: string, now: number): number {
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const dur = /^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?!s))?(?:(\d+(?:\.\d+)?)s)?(?:(\d+)ms)?$/.exec(text);
  if (dur && text !== "") {
    const [, h = "0", m = "0", s = "0", ms = "0"] = dur;
    return now - (Number(h) * 3600e3 + Number(m) * 60e3 + Number(s) * 1e3 + Number(ms));
  }
  const t = Date.parse(text);
  if (Number.isNaN(t)) throw new UsageError(`invalid value for --${flag} "${text}": use a time like 2026-11-23T18:00:00Z, Unix seconds, or a duration like 10m`);
  return t;
}

export interface LogFilter {
  since?: number;
  until?: number;
  timestamps: boolean;
}

/** Parses complete lines; a trailing partial line (mid-write) is returned as `rest`. */
export function parseLogText(text: string): { records: LogRecord[]; rest: string } {
  const records: LogRecord[] = [];
  let start = 0;
  for (;;) {
    const nl = text.indexOf("\n", start);
    if (nl < 0) break;
    const line = text.slice(start, nl);
    start = nl + 1;
    if (line === "") continue;
    try {
      records.push(JSON.parse(line) as LogRecord);
    } catch {
      // A torn record (disk full mid-write) is skipped, not fatal.
    }
  }
  return { records, rest: text.slice(start) };
}

export function keep(r: LogRecord, f: LogFilter): boolean {
  if (f.since === undefined && f.until === undefined) return true;
  const t = Date.parse(r.time);
  return (f.since === undefined || t >= f.since) && (f.until === undefined || t <= f.until);
}

export function emit(r: LogRecord, f: LogFilter): void {
  const text = f.timestamps ? `${r.time} ${r.log}` : r.log;
  const fd = r.stream === "stderr" ? 2 : 1;
  writeAllSync(fd, Buffer.from(text, "utf8"), fd === 1 ? "stdout" : "stderr");
}

/** Reads a whole file from `offset`; returns the text and the new offset. */
function readFrom(path: string, offset: number): { text: string; end: number; ino: number } {
  const fd = openSync(path, "r");
  try {
    const st = fstatSync(fd);
    const len = Math.max(0, st.size - offset);
    const buf = Buffer.alloc(len);
    let got = 0;
    while (got < len) {
      const n = readSync(fd, buf, got, len - got, offset + got);
      if (n === 0) break;
      got += n;
    }
    return { text: buf.subarray(0, got).toString("utf8"), end: offset + got, ino: st.ino };
  } finally {
    closeSync(fd);
  }
}

/**
 * Prints the log; with `follow` keeps printing new records until `running()` says the
 * container is gone (then reads what is left and returns).
 */
export async function showLogs(path: string, opts: LogFilter & { tail?: number; follow: boolean; running: () => boolean }): Promise<void> {
  const files = logFiles(path);
  let records: LogRecord[] = [];
  let ino = -1;
  let offset = 0;
  let rest = "";
  for (const file of files) {
    const r = readFrom(file, 0);
    const parsed = parseLogText(r.text);
    records.push(...parsed.records);
    if (file === path) {
      ino = r.ino;
      // A partial last line is read again once complete.
      offset = r.end - Buffer.byteLength(parsed.rest, "utf8");
    }
  }
  records = records.filter((r) => keep(r, opts));
  if (opts.tail !== undefined) records = opts.tail === 0 ? [] : records.slice(-opts.tail);
  for (const r of records) emit(r, opts);
  if (!opts.follow) return;
  for (let done = false; !done; ) {
    done = !opts.running();
    if (!done) await Bun.sleep(100);
    let st;
    try {
      st = statSync(path);
    } catch {
      return; // Removed (rm -f, --rm): nothing more to follow.
    }
    if (st.ino !== ino) {
      // Rotated: finish the old file (now .1) if it is the one we were reading.
      try {
        if (ino >= 0 && statSync(`${path}.1`).ino === ino) {
          const r = readFrom(`${path}.1`, offset);
          for (const rec of parseLogText(rest + r.text).records) if (keep(rec, opts)) emit(rec, opts);
        }
      } catch {
        // Rotated twice meanwhile: those records are gone.
      }
      ino = st.ino;
      offset = 0;
      rest = "";
    }
    if (st.size > offset) {
      const r = readFrom(path, offset);
      const parsed = parseLogText(rest + r.text);
      rest = parsed.rest;
      offset = r.end;
      for (const rec of parsed.records) if (keep(rec, opts)) emit(rec, opts);
    } else if (st.size < offset) {
      offset = 0; // Truncated in place (max-file 1).
      rest = "";
    }
  }
}
