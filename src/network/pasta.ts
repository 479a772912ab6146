// Rootless tsd's network (issue 13): pasta (Debian's passt package), Podman 5's default. Each
// container gets a network namespace of its own, bound at <root>/netns/<id> (made here, in the
// user's namespace, before the monitor starts: the init joins it by path, as a bridge's); pasta
// attaches to it from the host's network namespace and gives it a tap interface with the host's
// addresses and routes (--config-net). Outbound connections leave through pasta's host sockets;
// the gateway's address is the host's loopback (pasta's map-gw); each -p is a -t/-u forward that
// pasta binds on the host. The ports are `ports` rows (claim.ts) as for a bridge.
//
// Lifetime: pasta runs in the background (its own session), recorded in <root>/pasta/<id>.pid.
// A release (the container's cleanup, rm, a failed start, the reconcile of an abandoned one)
// kills it and unbinds the namespace; pasta also quits by itself when the bound namespace file
// is deleted. Nothing of pasta is left when the container has gone.
import type { Database } from "bun:sqlite";
import { accessSync, constants, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TsdError } from "../errors";
import { claimPorts, type Reclaim } from "./claim";
import type { NatPort } from "./nat";
import type { PortSpec } from "./ports";
import { findTool } from "../io";

export interface PastaPaths {
  nsPath: string;
  pidFile: string;
}

export function pastaPaths(root: string, id: string): PastaPaths {
  return { nsPath: join(root, "netns", id), pidFile: join(root, "pasta", `${id}.pid`) };
}

/** One -t/-u SPEC: `[ADDR/]HOSTPORT:CONTAINERPORT` (no address: every one of the host's). */
export function forwardSpec(p: Pick<NatPort, "hostIp" | "hostPort" | "containerPort">): string {
  const at = p.hostIp === "0.0.0.0" ? "" : `${p.hostIp}/`;
  return `${at}${p.hostPort}:${p.containerPort}`;
}

/**
 * pasta's arguments: the namespace by path (it quits when that file is deleted), its pid file,
 * quiet; only the published ports forwarded to the container (pasta's default, "auto", would
 * forward every port the container binds) and none from it to the host's (-T/-U none: the
 * container reaches the host's loopback through the gateway's address only).
 */
export function pastaArgv(paths: PastaPaths, ports: Pick<NatPort, "hostIp" | "hostPort" | "containerPort" | "proto">[]): string[] {
  const fwd = (flag: string, proto: "tcp" | "udp") => {
    const mine = ports.filter((p) => p.proto === proto);
    return mine.length === 0 ? [flag, "none"] : mine.flatMap((p) => [flag, forwardSpec(p)]);
  };
  return ["--config-net", "--netns", paths.nsPath, "--ns-ifname", "eth0", "--pid", paths.pidFile, "--quiet", ...fwd("-t", "tcp"), ...fwd("-u", "udp"), "-T", "none", "-U", "none"];
}

/** The first IPv4 default route's gateway in /proc/net/route's text (little-endian hex). */
export function defaultGateway(routeText: string): string | undefined {
  for (const line of routeText.split("\n").slice(1)) {
    const [, dest, gw, flags] = line.trim().split(/\s+/);
    // RTF_UP | RTF_GATEWAY
    if (dest !== "00000000" || !gw || !/^[0-9A-Fa-f]{8}$/.test(gw) || (Number.parseInt(flags ?? "0", 16) & 3) !== 3) continue;
    const n = Number.parseInt(gw, 16);
    return [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, n >>> 24].join(".");
  }
  return undefined;
}

/** The container's gateway under pasta (the host's, copied by --config-net): the address that
 *  reaches the host's loopback (map-gw), what `--add-host NAME:host-gateway` names. */
export function pastaGateway(): string | undefined {
  try {
    return defaultGateway(readFileSync("/proc/net/route", "utf8"));
  } catch {
    return undefined;
  }
}

/** tsd info's network line for a rootless user. */
export function rootlessNetworkBackend(): string {
  const pasta = findTool("pasta");
  return pasta ? `pasta (${pasta}; the default network, published ports forwarded by it), none, host` : "none, host (pasta not found: install the passt package for the default network)";
}

/** pasta and /dev/net/tun, or one line naming what is missing. */
function requirePasta(): string {
  const pasta = findTool("pasta");
  if (!pasta) throw new TsdError("rootless: the pasta network needs pasta: install the passt package (apt-get install passt), or use --network none|host");
  try {
    accessSync("/dev/net/tun", constants.R_OK | constants.W_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const fix = code === "ENOENT" ? "load the tun module (modprobe tun)" : "as root, chmod 0666 /dev/net/tun (as most distributions' udev rules make it)";
    throw new TsdError(`rootless: the pasta network needs /dev/net/tun, which this user cannot open (${code}): ${fix}, or use --network none|host`);
  }
  return pasta;
}

/** The container's own network namespace, bound at `nsPath` (util-linux unshare --net=FILE). */
function makeNetns(nsPath: string): void {
  mkdirSync(join(nsPath, ".."), { recursive: true, mode: 0o711 });
  writeFileSync(nsPath, "");
  const unshare = findTool("unshare") ?? "unshare";
  const r = Bun.spawnSync([unshare, `--net=${nsPath}`, "true"], { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
  if (r.exitCode !== 0) throw new TsdError(`rootless: cannot make the container's network namespace: ${firstLine(r.stderr.toString())}`);
}

/** pasta's first line that says something (it also reports its failures to reach syslog). */
export function firstLine(text: string): string {
  return text.split("\n").map((l) => l.trim()).find((l) => l !== "" && !/^Failed to send \d+ bytes to syslog/.test(l)) ?? "no message";
}

/** The namespace and pasta with the container's ports; on failure the caller releases. */
export async function connectPasta(db: Database, root: string, id: string, publish: PortSpec[], reclaim?: Reclaim): Promise<void> {
  const pasta = requirePasta();
  const ports = await claimPorts(db, id, publish, "", reclaim);
  const paths = pastaPaths(root, id);
  makeNetns(paths.nsPath);
  mkdirSync(join(paths.pidFile, ".."), { recursive: true, mode: 0o700 });
  // pasta forks into the background once its namespace side and port binds are done; its
  // parent's exit status says whether they were.
  const r = Bun.spawnSync([pasta, ...pastaArgv(paths, ports)], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new TsdError(`rootless: pasta failed: ${firstLine(`${r.stderr}\n${r.stdout}`)}`);
}

/** Whether `pid` is the pasta of the namespace at `nsPath` (a pid may have been reused). */
function isPastaOf(pid: number, nsPath: string): boolean {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    const at = argv.indexOf("--netns");
    return at >= 0 && argv[at + 1] === nsPath;
  } catch {
    return false;
  }
}

function gone(pid: number): boolean {
  try {
    return /^State:\s+[ZX]/m.test(readFileSync(`/proc/${pid}/status`, "utf8"));
  } catch {
    return true;
  }
}

/** Kills the container's pasta and waits (≤ 2 s) until it has exited; idempotent. */
export function stopPasta(root: string, id: string): void {
  const paths = pastaPaths(root, id);
  let pid = Number.NaN;
  try {
    pid = Number(readFileSync(paths.pidFile, "utf8").trim());
  } catch {
    return;
  }
  if (Number.isSafeInteger(pid) && pid > 0 && isPastaOf(pid, paths.nsPath)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Exited in between.
    }
    for (let i = 0; i < 400 && !gone(pid); i++) Bun.sleepSync(5);
  }
  rmSync(paths.pidFile, { force: true });
}

/** Containers with a pasta recorded (the reconcile releases those that can no longer hold one). */
export function pastaHolders(root: string): string[] {
  try {
    return readdirSync(join(root, "pasta")).filter((n) => n.endsWith(".pid")).map((n) => n.slice(0, -4));
  } catch {
    return [];
  }
}
