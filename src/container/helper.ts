// Running tsd-monitor's copy and pack modes (zig/monitor/copy.zig) for cp, export, commit and a
// volume's copy-up: from its sealed memfd (never a file a container could rewrite, embedded.ts),
// with the container's rootfs named by its overlay when it is not running.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { TsdError } from "../errors";
import { monitorExecutable } from "../native/embedded";
import { HelperError, helperFailure } from "../native/helper-status";
import { containerDir } from "../store/paths";

/**
 * A stopped container's rootfs: the overlay its config.json describes, mounted by the helper in
 * a private mount namespace (gone with it). Read-only copies stack the upper dir as the top
 * lower layer, so nothing (not even the overlay's work dir) is written.
 */
export function overlayArgs(root: string, id: string, readOnly: boolean): string[] {
  const spec = JSON.parse(readFileSync(join(containerDir(root, id), "config.json"), "utf8")) as { root: { path: string }; annotations?: Record<string, string> };
  const overlay = spec.annotations?.["io.tsd.rootfs.overlay"];
  const dir = spec.annotations?.["io.tsd.rootfs.dir"] ?? "/";
  if (!overlay) throw new TsdError(`container ${id.slice(0, 12)} has no overlay rootfs: cannot reach its files`, 1);
  const data = readOnly ? readOnlyOverlay(overlay) : overlay;
  return ["--overlay-dir", dir, "--overlay-data", data, "--merged", spec.root.path, ...(readOnly ? ["--read-only"] : [])];
}

/** `lowerdir=L,upperdir=U,workdir=W` → `lowerdir=U:L`: the same view, nothing writable. */
export function readOnlyOverlay(data: string): string {
  const opts = new Map<string, string>();
  for (const part of data.split(",")) {
    const eq = part.indexOf("=");
    if (eq > 0) opts.set(part.slice(0, eq), part.slice(eq + 1));
  }
  const lower = opts.get("lowerdir");
  const upper = opts.get("upperdir");
  if (!lower) throw new TsdError("the container's overlay has no lowerdir", 1);
  return `lowerdir=${upper ? `${upper}:` : ""}${lower}`;
}

/**
 * Runs `tsd-monitor ARGS` (--copy or --pack: zig/monitor/copy.zig) from its sealed memfd (never
 * a file a container could rewrite, embedded.ts) with stdout on `stdout`; a failure throws a
 * HelperError `what: <its one stderr line>` with the class its exit status names.
 */
export async function runMonitor(args: string[], stdout: "ignore" | number, what: string, exitCode?: number, stdin: "ignore" | "inherit" = "ignore"): Promise<void> {
  const exe = monitorExecutable();
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
  const exe = monitorExecutable();
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
