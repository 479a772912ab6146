// Rootless tsd's user namespace (issue 13), Podman's design: one long-lived "pause" process per
// user holds a user namespace (container 0 → the user, 1..N → its /etc/subuid and /etc/subgid
// ranges, written by newuidmap/newgidmap) and a mount namespace owned by it; every tsd command
// of that user re-execs itself into both (nsenter), where it is root: it unpacks layers with
// their owners, mounts overlays and starts monitors as rootful tsd does. One namespace for all
// commands, so `exec` can join a container `run -d` started, and mounts are seen by every
// command. The pause process is recorded in RUN/pause.pid ("PID STARTTIME"), made under
// RUN/pause.lock (two first commands at once make one).
//
// The fast path (stayOnHost): the hot commands (`run`, `exec`, and ps, logs, inspect, images,
// port, stop, kill, wait, start, rm, info, version: ON_HOST) are not re-exec'd. Bun, being
// multithreaded, cannot join a user namespace, but needs none for what they do as the user on
// the host (the store is the user's files there); the single-threaded monitor and exec helper
// join the pause process's namespaces themselves (zig/monitor/userns.zig). One Bun start and an
// nsenter fewer per command. What does need root there (a pull, a volume, a container to
// reconcile, a network other than none/host) throws NeedsNamespace before it changes anything,
// and main.ts re-execs as below. TSD_ROOTLESS_REEXEC=1 turns the fast path off.
import { closeSync, existsSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync, renameSync } from "node:fs";
import { join } from "node:path";
import { TsdError } from "../errors";
import { procStartTime, sameProcess } from "../container/proc";
import { flockExclusive } from "../native/libc";
import { execve } from "../native/execve";
import { joinPauseArgs, rootlessPaths, subordinateRange, useHostMode, type RootlessPaths } from "../store/rootless";
import { findTool, readOr, selfCommand } from "../io";

interface User {
  uid: number;
  gid: number;
  name: string;
}

interface Tools {
  /** Absent: no uidmap package, the single-id fallback. */
  newuidmap?: string;
  newgidmap?: string;
  unshare: string;
  nsenter: string;
  setsid: string;
}

/** Replaces this (non-root) process with tsd run as root in the user's namespaces. */
export function enterRootless(args: string[]): never {
  const user: User = { uid: process.getuid!(), gid: process.getgid!(), name: userName(process.getuid!()) };
  const paths = rootlessPaths(process.env, user.uid);
  const tools = findTools();
  // The common case reads pause.pid only (written by rename: whole or absent), in a run dir
  // checked to be the user's; the lock is for starting one.
  ensureRunDir(paths, user);
  const pid = livePause(paths, user) ?? withLock(paths, () => livePause(paths, user) ?? rejoinPause(paths, user, tools) ?? startPause(paths, user, tools));
  const env = { ...(process.env as Record<string, string>), TSD_ROOTLESS: "1" };
  const errno = execve(tools.nsenter, ["nsenter", ...joinPauseArgs(pid), `--wd=${process.cwd()}`, "--", ...selfCommand(), ...args], env);
  throw new TsdError(`rootless: cannot run ${tools.nsenter}: errno ${errno}`);
}

/** The commands that may run on the host (they throw NeedsNamespace for what they cannot:
 *  container/host-gate.ts). Not top: the host's ps would name the container's users by their
 *  host ids. */
const ON_HOST = new Set(["run", "exec", "ps", "logs", "inspect", "images", "port", "stop", "kill", "wait", "start", "rm", "info", "version"]);

/** The fast path: true when `command` runs here, on the host, as the user, because the user's
 *  pause process is alive and the store exists; else the caller re-execs (enterRootless), which
 *  also starts the pause process or makes the store the first time. */
export function stayOnHost(command: string, root: string, env: Record<string, string | undefined> = process.env, args: string[] = []): boolean {
  if (!ON_HOST.has(command) || env.TSD_ROOTLESS_REEXEC === "1" || !existsSync(join(root, "tsd.db"))) return false;
  if ((command === "run" && !mayRunOnHost(args)) || (command === "ps" && !mayListOnHost(args))) return false;
  const uid = process.getuid!();
  const user: User = { uid, gid: process.getgid!(), name: "" };
  const paths = rootlessPaths(env, uid);
  if (!runDirOk(paths, user)) return false;
  const pid = livePause(paths, user);
  const start = pid === undefined ? undefined : procStartTime(pid);
  if (pid === undefined || start === undefined) return false;
  useHostMode({ pid, alive: () => sameProcess(pid, start) }, uid, user.gid, env);
  return true;
}

/** A first look at `run`'s arguments, before they are parsed: the default network (pasta) or a
 *  volume go inside at once, not after a CLI start on the host. Rough but safe: a word after the
 *  image that looks like these only costs the fast path (the parsed options decide: NeedsNamespace). */
export function mayRunOnHost(args: string[]): boolean {
  let network = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (/^(--volume|--mount|--volumes-from|--restart)(=|$)/.test(a) || /^-[a-zA-Z]*v/.test(a)) return false;
    const m = /^--(?:network|net)(?:=(.*))?$/.exec(a);
    if (m) network = /^(none|host)$/.test(m[1] ?? args[i + 1] ?? "");
  }
  return network;
}

/** `ps --size` (or a format naming .Size) sums upper dirs of files of other ids: inside at once. */
export function mayListOnHost(args: string[]): boolean {
  return !args.some((a) => a === "--size" || /^-[a-zA-Z]*s[a-zA-Z]*$/.test(a) || a.includes(".Size"));
}

/** The run dir as it must be: a directory of the user's, closed to others. */
function runDirOk(paths: RootlessPaths, user: Pick<User, "uid">): boolean {
  try {
    const st = lstatSync(paths.run);
    return st.isDirectory() && st.uid === user.uid && (st.mode & 0o077) === 0;
  } catch {
    return false;
  }
}

/** The user's name from /etc/passwd (os.userInfo trusts $USER, which setpriv and su may leave unset). */
export function userName(uid: number, passwd = readOr("/etc/passwd")): string {
  for (const line of passwd.split("\n")) {
    const f = line.split(":");
    if (f.length >= 3 && f[2] === String(uid)) return f[0]!;
  }
  return String(uid);
}

/** newuidmap/newgidmap (Debian's uidmap package) and util-linux's unshare, nsenter, setsid. */
function findTools(): Tools {
  const need = (name: string, pkg: string) => {
    const path = findTool(name);
    if (!path) throw new TsdError(`rootless: ${name} not found: install ${pkg} (rootless tsd needs it to make its user namespace)`);
    return path;
  };
  return {
    newuidmap: findTool("newuidmap"),
    newgidmap: findTool("newgidmap"),
    unshare: need("unshare", "util-linux"),
    nsenter: need("nsenter", "util-linux"),
    setsid: need("setsid", "util-linux"),
  };
}

/** The runtime dir: made 0700 if missing; refused unless a directory of the user's, closed to others. */
function ensureRunDir(paths: RootlessPaths, user: User): void {
  try {
    mkdirSync(paths.run, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new TsdError(`rootless: cannot make ${paths.run} (${(e as NodeJS.ErrnoException).code}): set XDG_RUNTIME_DIR to a directory of yours (a login session's /run/user/UID), or unset it`);
  }
  if (!runDirOk(paths, user)) {
    throw new TsdError(`rootless: ${paths.run} must be a directory of user ${user.name} with mode 0700: fix or remove it (or set XDG_RUNTIME_DIR)`);
  }
}

/** Under RUN/pause.lock (the run dir checked by the caller: ensureRunDir). */
function withLock<T>(paths: RootlessPaths, fn: () => T): T {
  const fd = openSync(join(paths.run, "pause.lock"), "a", 0o600);
  try {
    flockExclusive(fd);
    return fn();
  } finally {
    closeSync(fd);
  }
}

function nsLink(pid: number | "self", ns = "user"): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/${ns}`);
  } catch {
    return undefined;
  }
}

/** The recorded pause process when it is still the same, the user's, in a namespace of its own. */
function livePause(paths: RootlessPaths, user: User): number | undefined {
  const file = join(paths.run, "pause.pid");
  if (!existsSync(file)) return undefined;
  const [pidText, start] = readFileSync(file, "utf8").trim().split(" ");
  const pid = Number(pidText);
  if (!Number.isSafeInteger(pid) || !sameProcess(pid, start)) return undefined;
  try {
    if (statSync(`/proc/${pid}`).uid !== user.uid) return undefined;
  } catch {
    return undefined;
  }
  const ns = nsLink(pid);
  return ns !== undefined && ns !== nsLink("self") ? pid : undefined;
}

interface Ranges {
  uid: { start: number; size: number };
  gid: { start: number; size: number };
}

/** The user's subordinate ranges and the tools that map them; or, when something is missing,
 *  the one warning line of the single-id fallback (Podman's: container 0 → the user only). */
export function subordinateRanges(user: User, read: (p: string) => string, tools: Pick<Tools, "newuidmap" | "newgidmap">): Ranges | { warning: string } {
  const single = "running with a single id (container root → you, no other ids: images with files of other owners get them as root, USER other than root fails)";
  if (!tools.newuidmap || !tools.newgidmap) {
    return { warning: `WARNING: rootless: newuidmap/newgidmap not found, ${single}: install the uidmap package (apt-get install uidmap) for a full mapping` };
  }
  const uid = subordinateRange(read("/etc/subuid"), user.name, user.uid);
  const gid = subordinateRange(read("/etc/subgid"), user.name, user.uid);
  const missing = [uid ? "" : "/etc/subuid", gid ? "" : "/etc/subgid"].filter(Boolean).join(" and ");
  if (!uid || !gid) {
    return { warning: `WARNING: rootless: no ${missing} entry for user ${user.name}, ${single}: add one as root for a full mapping, e.g. usermod --add-subuids 100000-165535 --add-subgids 100000-165535 ${user.name}` };
  }
  return { uid, gid };
}

/** Starts the pause process in a new user and mount namespace and maps its ids. */
function startPause(paths: RootlessPaths, user: User, tools: Tools): number {
  const ranges = subordinateRanges(user, readOr, tools);
  // Single id: unshare maps 0 → the user itself (setgroups deny), which needs no privilege.
  if ("warning" in ranges) console.error(ranges.warning);
  const single = "warning" in ranges ? ["--map-root-user"] : [];
  // setsid: out of the terminal's session; unshare execs sleep in the new namespaces (same pid).
  const proc = Bun.spawn([tools.setsid, tools.unshare, "--user", "--mount", ...single, "--propagation", "private", "sleep", "infinity"], { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
  proc.unref();
  const pid = proc.pid;
  try {
    waitForUnshare(pid, single.length > 0);
    if (!("warning" in ranges)) {
      mapIds(tools.newuidmap!, pid, user.uid, ranges.uid);
      mapIds(tools.newgidmap!, pid, user.gid, ranges.gid);
    }
    recordPause(paths, pid);
    return pid;
  } catch (e) {
    proc.kill("SIGKILL");
    throw e;
  }
}

/** RUN/pause.pid: "PID STARTTIME USERNS MNTNS" (the namespaces, to find them again: rejoinPause). */
function recordPause(paths: RootlessPaths, pid: number): void {
  const start = procStartTime(pid);
  const user = nsLink(pid);
  const mnt = nsLink(pid, "mnt");
  if (start === undefined || user === undefined || mnt === undefined) throw new TsdError("rootless: the pause process exited at start");
  const file = join(paths.run, "pause.pid");
  writeFileSync(`${file}.tmp`, `${pid} ${start} ${user} ${mnt}\n`, { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
}

/** A process of the user still in the recorded namespaces (a container's monitor), after the
 *  pause process was killed; nothing when none is left or nothing was recorded. */
export function survivor(record: string, uid: number, pids: string[], look: (pid: string) => { uid: number; user?: string; mnt?: string } | undefined): number | undefined {
  const [, , user, mnt] = record.trim().split(" ");
  if (!user || !mnt) return undefined;
  for (const pid of pids) {
    const p = look(pid);
    if (p && p.uid === uid && p.user === user && p.mnt === mnt) return Number(pid);
  }
  return undefined;
}

/** The pause process was killed while containers run: their monitors still hold its user and
 *  mount namespaces, so a new pause process is started inside them (Podman joins a conmon's the
 *  same way), and every container stays reachable; none left: undefined (a new namespace). */
function rejoinPause(paths: RootlessPaths, user: User, tools: Tools): number | undefined {
  const look = (pid: string) => {
    try {
      return { uid: statSync(`/proc/${pid}`).uid, user: nsLink(Number(pid)), mnt: nsLink(Number(pid), "mnt") };
    } catch {
      return undefined;
    }
  };
  const pids = readdirSync("/proc").filter((n) => /^\d+$/.test(n));
  const target = survivor(readOr(join(paths.run, "pause.pid")), user.uid, pids, look);
  if (target === undefined) return undefined;
  const proc = Bun.spawn([tools.setsid, tools.nsenter, ...joinPauseArgs(target), "--", "sleep", "infinity"], { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
  proc.unref();
  try {
    waitForUnshare(proc.pid, false);
    recordPause(paths, proc.pid);
    return proc.pid;
  } catch (e) {
    proc.kill("SIGKILL");
    throw e;
  }
}

/** Until the pause process is in its namespace (`mapped`: and unshare wrote its own map). */
function waitForUnshare(pid: number, mapped: boolean): void {
  const own = nsLink("self");
  for (let i = 0; i < 400; i++) {
    const ns = nsLink(pid);
    if (ns === undefined) throw new TsdError(`rootless: unshare --user --mount failed (are unprivileged user namespaces enabled? sysctl kernel.unprivileged_userns_clone)`);
    if (ns !== own && (!mapped || readOr(`/proc/${pid}/gid_map`).trim() !== "")) return;
    Bun.sleepSync(5);
  }
  throw new TsdError("rootless: the pause process did not enter its user namespace within 2 s");
}

/** `newuidmap PID 0 ID 1 1 START SIZE`: 0 → the user, 1..SIZE → the subordinate range. */
function mapIds(tool: string, pid: number, id: number, range: { start: number; size: number }): void {
  const argv = [tool, String(pid), "0", String(id), "1", "1", String(range.start), String(range.size)];
  const r = Bun.spawnSync(argv, { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) {
    const said = r.stderr.toString().trim().split("\n")[0] ?? "";
    throw new TsdError(`rootless: ${argv.join(" ")} failed: ${said} (is ${tool} setuid root, or has it its file capability?)`);
  }
}
