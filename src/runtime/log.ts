// The runtime mode's log: runc's (logrus) lines. containerd shows the last
// `{"level":"error","msg":…,"time":…}` line of --log B/log.json when a call fails; conmon and
// podman read stderr. Without --log, the line goes to stderr itself (runc's default log is
// /dev/stderr); with it, stderr gets the bare message and the file the line.
import { appendFileSync } from "node:fs";

export type LogFormat = "text" | "json";
export type LogLevel = "debug" | "info" | "warning" | "error";

/** RFC3339 in UTC to the second, as logrus prints it (`2026-12-06T15:03:20Z`). */
export function logTime(d: Date = new Date()): string {
  return d.toISOString().replace(/\.\d+Z$/, "Z");
}

/** Go's %q of a string (logrus quotes a text value that needs it). */
function quote(s: string): string {
  return JSON.stringify(s);
}

/** One log line, without its newline. */
export function logLine(format: LogFormat, level: LogLevel, msg: string, time: string = logTime()): string {
  if (format === "json") return JSON.stringify({ level, msg, time });
  return `time=${quote(time)} level=${level} msg=${quote(msg)}`;
}

export interface LogTarget {
  file?: string;
  format: LogFormat;
  debug: boolean;
}

/** Appends a line to the --log file; a log that cannot be written must not hide the error. */
function append(file: string, line: string): void {
  try {
    appendFileSync(file, `${line}\n`, { mode: 0o600 });
  } catch {
    // The message still reaches stderr (logError) or nobody needed it (debug).
  }
}

/** An error of a call: one line on stderr, and the log's line when --log names a file. */
export function logError(t: LogTarget, msg: string): void {
  const line = logLine(t.format, "error", msg);
  if (t.file && t.file !== "/dev/stderr") {
    append(t.file, line);
    process.stderr.write(`${msg}\n`);
  } else {
    process.stderr.write(`${line}\n`);
  }
}

/** A --debug line (only with --debug), to the log file or stderr. */
export function logDebug(t: LogTarget, msg: string): void {
  if (!t.debug) return;
  const line = logLine(t.format, "debug", msg);
  if (t.file && t.file !== "/dev/stderr") append(t.file, line);
  else process.stderr.write(`${line}\n`);
}

/** A warning (runc's logrus.Warn): the log's line, to the file or stderr; the call goes on. */
export function logWarning(g: { log?: string; logFormat: LogFormat }, msg: string): void {
  const line = logLine(g.logFormat, "warning", msg);
  if (g.log && g.log !== "/dev/stderr") append(g.log, line);
  else process.stderr.write(`${line}\n`);
}
