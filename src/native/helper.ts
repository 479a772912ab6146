// Running tsd-monitor's copy and pack modes (zig/monitor/copy.zig) for cp, export, commit, a
// volume's copy-up and layer packing: from its sealed memfd (never a file a container could
// rewrite, embedded.ts); a failure carries the class its exit status names (helper-status.ts).
import { helperExecutable } from "./embedded";
import { HelperError, helperFailure } from "./helper-status";

/**
 * Runs `tsd-monitor ARGS` (--copy or --pack: zig/monitor/copy.zig) from its sealed memfd (never
 * a file a container could rewrite, embedded.ts) with stdout on `stdout`; a failure throws a
 * HelperError `what: <its one stderr line>` with the class its exit status names.
 */
export async function runMonitor(args: string[], stdout: "ignore" | number, what: string, exitCode?: number, stdin: "ignore" | "inherit" | number = "ignore"): Promise<void> {
  const exe = helperExecutable();
  try {
    const proc = Bun.spawn([exe.path, ...args], { argv0: exe.argv0, stdio: [stdin, stdout, "pipe"], env: { PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin" } });
    const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
    if (code !== 0) throw new HelperError(`${what}: ${firstLine(stderr) || `exit ${code}`}`, helperFailure(code), exitCode);
  } finally {
    exe.close();
  }
}

/** runMonitor for a caller that cannot wait asynchronously (a create's volume copy-up). */
export function runMonitorSync(args: string[], what: string): void {
  const exe = helperExecutable();
  try {
    const r = Bun.spawnSync([exe.path, ...args], { argv0: exe.argv0, stdio: ["ignore", "ignore", "pipe"] });
    if (r.exitCode !== 0) throw new HelperError(`${what}: ${firstLine(r.stderr.toString()) || `exit ${r.exitCode}`}`, helperFailure(r.exitCode));
  } finally {
    exe.close();
  }
}

function firstLine(stderr: string): string {
  return stderr.trim().split("\n")[0]?.replace(/^tsd-monitor: /, "") ?? "";
}
