// Starting a created container: exec tsd-monitor (never a fork of Bun), which runs the bundle
// and reports on fd 3 whether the init reached execve (zig/CONTRACT.md).
import type { Subprocess } from "bun";
import { join } from "node:path";
import { materialize } from "../native/embedded";
import { TsdError, EXIT_ENGINE } from "../errors";

export interface Started {
  monitor: Subprocess;
  pid: number;
}

export interface StartOptions {
  root: string;
  id: string;
  bundle: string;
  stdin: boolean;
}

/** The argv that runs this tsd again (the compiled binary, or bun + the entry in a dev tree). */
export function selfCommand(): string[] {
  return Bun.main.startsWith("/$bunfs/") ? [process.execPath] : [process.execPath, Bun.main];
}

export function monitorArgv(monitorPath: string, o: StartOptions): string[] {
  return [
    monitorPath,
    "--bundle", o.bundle,
    "--id", o.id,
    ...(o.stdin ? ["--stdin"] : []),
    "--exit-file", join(o.bundle, "exit.json"),
    "--", ...selfCommand(), "--root", o.root, "container", "cleanup", o.id,
  ];
}

export type Report = { kind: "started"; pid: number } | { kind: "error"; status: number; message: string };

export function parseReport(line: string): Report | undefined {
  const started = /^started (\d+)$/.exec(line);
  if (started) return { kind: "started", pid: Number(started[1]) };
  const error = /^error (\d+) (.*)$/.exec(line);
  if (error) return { kind: "error", status: Number(error[1]), message: error[2]! };
  return undefined;
}

/** Starts the monitor; resolves once the container has exec'd or has failed to. */
export async function startMonitor(o: StartOptions): Promise<{ monitor: Subprocess; report: Report }> {
  const monitor = Bun.spawn(monitorArgv(materialize("tsd-monitor", o.root), o), {
    stdio: ["inherit", "inherit", "inherit", "pipe"],
    env: { PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin", ...(process.env.TSD_DEBUG ? { TSD_DEBUG: process.env.TSD_DEBUG } : {}) },
  });
  const line = await readLine(monitor.stdio[3] as number);
  const report = parseReport(line);
  if (!report) {
    await monitor.exited;
    throw new TsdError(`the container monitor ended before reporting (${line ? `said "${line}"` : `exit ${monitor.exitCode ?? monitor.signalCode}`})`, EXIT_ENGINE);
  }
  return { monitor, report };
}

async function readLine(fd: number): Promise<string> {
  const reader = Bun.file(fd).stream().getReader();
  let text = "";
  const decoder = new TextDecoder();
  try {
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
      if (text.length > 65536) break;
    }
  } finally {
    reader.cancel().catch(() => {});
  }
  return text.split("\n", 1)[0]!;
}
