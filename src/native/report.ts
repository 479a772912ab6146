// The monitor's report lines on fd 3 (zig/monitor/report.zig, zig/CONTRACT.md "Report pipe"),
// parsed once for every reader: tsd run/start, tsd exec, and the OCI-runtime mode's create and
// exec (which must not load the engine's container code, hence this small module).

export type Report =
  | { kind: "started"; pid: number }
  | { kind: "error"; status: number; message: string }
  | { kind: "exited"; status: number }
  | { kind: "detached" }
  | { kind: "output-closed"; stream: "stdout" | "stderr" };

/** The monitor's last line to a foreground CLI. */
export type LastReport = Extract<Report, { kind: "exited" | "detached" | "output-closed" }>;

export function parseReport(line: string): Report | undefined {
  const started = /^started (\d+)$/.exec(line);
  if (started) return { kind: "started", pid: Number(started[1]) };
  const error = /^error (\d+) (.*)$/.exec(line);
  if (error) return { kind: "error", status: Number(error[1]), message: error[2]! };
  const exited = /^exited (\d+)$/.exec(line);
  if (exited) return { kind: "exited", status: Number(exited[1]) };
  if (line === "detached") return { kind: "detached" };
  const closed = /^output-closed (stdout|stderr)$/.exec(line);
  if (closed) return { kind: "output-closed", stream: closed[1] as "stdout" | "stderr" };
  return undefined;
}

