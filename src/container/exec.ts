// `tsd exec`: a new process in a running container. The CLI works out the process (env, cwd,
// user, capabilities) as `run` does and writes it as an OCI config beside the bundle; the
// namespaces are entered by `tsd-monitor --exec` (zig/monitor/exec.zig), an exec'd
// single-threaded program, because setns cannot happen in Bun's multithreaded process.
import type { Database } from "bun:sqlite";
import { containerEvent } from "./events";
import type { Subprocess } from "bun";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TsdError, EXIT_CANNOT_INVOKE, EXIT_ENGINE } from "../errors";
import { monitorExecutable } from "../native/embedded";
import { warmAttachSoon } from "../cgroup";
import { containerDir, rootPaths } from "../store/paths";
import { imageById } from "../image/store";
import { ALL_CAPS } from "./caps";
import { mustFind } from "./resolve";
import { sameProcess } from "./proc";
import { decide } from "./state";
import { LineReader, parseReport } from "./start";
import { readImageFile, resolveUser } from "./user";
import { decodeOptions } from "./options";
import { monitorDonor, type ContainerRow } from "./store";
import { additionalGroups, namespaceArgs } from "../store/rootless";

export interface ExecOptions {
  interactive: boolean;
  tty: boolean;
  detach: boolean;
  env: string[];
  workdir?: string;
  user?: string;
  privileged: boolean;
  command: string[];
}

interface ProcessSpec {
  terminal: boolean;
  user: { uid: number; gid: number; additionalGids?: number[] };
  args: string[];
  env: string[];
  cwd: string;
  capabilities?: Record<string, string[]>;
  noNewPrivileges?: boolean;
  [k: string]: unknown;
}

/** Later entries win by name, as Docker merges the container's env with exec -e. */
export function mergeEnv(base: string[], extra: string[]): string[] {
  const out = new Map<string, string>();
  for (const e of [...base, ...extra]) out.set(e.split("=", 1)[0]!, e);
  return [...out.values()];
}

/** The exec'd process: the container's own, with the exec flags applied. */
export function execProcess(base: ProcessSpec, o: ExecOptions, user: { uid: number; gid: number; additionalGids: number[]; home: string } | undefined): ProcessSpec {
  const p: ProcessSpec = { ...base, terminal: o.tty, args: o.command, env: mergeEnv(base.env, o.env), cwd: o.workdir ?? base.cwd };
  if (user) {
    p.user = { uid: user.uid, gid: user.gid, additionalGids: additionalGroups(user.additionalGids) };
    p.env = mergeEnv(p.env.filter((e) => !e.startsWith("HOME=")), [`HOME=${user.home}`, ...o.env.filter((e) => e.startsWith("HOME="))]);
  }
  const bounding = base.capabilities?.bounding ?? [];
  if (o.privileged) {
    p.capabilities = { bounding: [...ALL_CAPS], effective: [...ALL_CAPS], permitted: [...ALL_CAPS], inheritable: [], ambient: [] };
    p.noNewPrivileges = false;
  } else if (user) {
    // The container's capabilities for root, none for another uid (as run computes them).
    const caps = user.uid === 0 ? bounding : [];
    p.capabilities = { bounding, effective: caps, permitted: caps, inheritable: [], ambient: [] };
  }
  return p;
}

function resolveExecUser(db: Database, root: string, row: ContainerRow, user: string): ReturnType<typeof resolveUser> {
  const image = imageById(db, row.image_id);
  const layers = (image?.layers ?? []).map((d) => join(rootPaths(root).layers, d.replace(/^sha256:/, ""), "diff")).reverse();
  // The container's own changes first: a user added in the container is found.
  const dirs = [join(containerDir(root, row.id), "upper"), ...layers];
  try {
    return resolveUser(user, readImageFile(dirs, "etc/passwd"), readImageFile(dirs, "etc/group"), decodeOptions(row.options).groupAdd);
  } catch (e) {
    // Docker 20.10: an exec whose user cannot be found cannot be invoked (126).
    if (e instanceof TsdError && e.exitCode === EXIT_ENGINE) throw new TsdError(e.message, EXIT_CANNOT_INVOKE);
    throw e;
  }
}

const FORWARDED = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGWINCH"] as const;

export interface PreparedExec {
  /** argv[0] is the helper's sealed memfd, valid until `done()`. */
  argv: string[];
  argv0: string;
  /** Once the helper has reported (or is gone): closes the memfd, removes the config file. */
  done(): void;
}

/** The helper's argv for `o` in the running container `row`; its config file is written. */
export async function prepareExec(db: Database, root: string, row: ContainerRow, o: ExecOptions, ref = row.name): Promise<PreparedExec> {
  decide("exec", row, ref);
  // Not a state question: the helper joins the init by pid + start time, which must still be it.
  if (!row.pid_start || !sameProcess(row.pid, row.pid_start)) {
    throw new TsdError(`container ${row.id.slice(0, 12)} is not running: start it first (tsd start ${row.name})`);
  }
  // The container's own monitor is running: its sealed binary is shared when it is ours
  // (native/embedded.ts), else a copy is written by the thread pool while the config is.
  const exeSoon = monitorExecutable([monitorDonor(row)]);
  let configPath: string;
  try {
    configPath = writeExecConfig(db, root, row, o);
  } catch (e) {
    void exeSoon.then((exe) => exe.close(), () => {});
    throw e;
  }
  let exe;
  try {
    exe = await exeSoon;
  } catch (e) {
    rmSync(configPath, { force: true });
    throw e;
  }
  const flags = [...(o.interactive && !o.detach ? ["--stdin"] : []), ...(o.detach ? ["--detach"] : [])];
  const argv = [exe.path, "--exec", "--pid", String(row.pid), "--pid-start", row.pid_start, "--config", configPath, ...flags, ...namespaceArgs("user")];
  return {
    argv,
    argv0: exe.argv0,
    done() {
      exe.close();
      rmSync(configPath, { force: true });
    },
  };
}

/** The exec's process spec, written next to the container's config (the helper reads it). */
function writeExecConfig(db: Database, root: string, row: ContainerRow, o: ExecOptions): string {
  const bundle = containerDir(root, row.id);
  const config = JSON.parse(readFileSync(join(bundle, "config.json"), "utf8")) as { process: ProcessSpec };
  const user = o.user !== undefined ? resolveExecUser(db, root, row, o.user) : undefined;
  config.process = execProcess(config.process, o, user);
  const configPath = join(bundle, `exec-${crypto.randomUUID()}.json`);
  writeFileSync(configPath, JSON.stringify(config), { mode: 0o600 });
  return configPath;
}

/** Waits for the helper's report line on fd 3: throws the exec's own error (126/127…). */
export async function awaitExecReport(helper: Subprocess): Promise<void> {
  const lines = new LineReader(helper.stdio[3] as number);
  const line = await lines.next();
  lines.close();
  const report = line === undefined ? undefined : parseReport(line);
  if (report?.kind === "error") throw new TsdError(report.message, report.status);
  if (report?.kind !== "started") {
    await helper.exited;
    throw new TsdError(`exec failed: the helper ended before reporting (exit ${helper.exitCode ?? helper.signalCode})`, EXIT_ENGINE);
  }
}

export async function execInContainer(db: Database, root: string, ref: string, o: ExecOptions): Promise<number> {
  if (o.tty && o.interactive && !process.stdin.isTTY) {
    throw new TsdError("the input device is not a TTY: drop -t, or run from a terminal");
  }
  // Rootless fast path: the pause process's user namespace is opened now, before anything
  // changes (none off it); the look-up's reconcile sends a dead or abandoned container inside
  // itself (resolve.ts).
  namespaceArgs("user");
  // The helper's first move into the container's v1 groups waits out a grace period of the
  // kernel's (5-30 ms): started now, it runs while this process prepares the exec.
  warmAttachSoon();
  const row = mustFind(db, root, ref);
  const prepared = await prepareExec(db, root, row, o, ref);
  // Docker's exec events: "exec_create: CMD", "exec_start: CMD", then exec_die with the status.
  const execID = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("hex");
  containerEvent(db, row, `exec_create: ${o.command.join(" ")}`, { execID });
  let helper: Subprocess;
  try {
    // The helper relays these to pipes of its own: the exec'd process never gets one of them.
    helper = Bun.spawn(prepared.argv, {
      argv0: prepared.argv0,
      stdio: o.detach ? ["ignore", "ignore", "ignore", "pipe"] : [o.interactive ? "inherit" : "ignore", "inherit", "inherit", "pipe"],
      env: { PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin" },
    });
  } catch (e) {
    prepared.done();
    throw e;
  }
  const send = (sig: NodeJS.Signals) => () => {
    try {
      helper.kill(sig);
    } catch {
      // Gone: its exit is handled below.
    }
  };
  const handlers = FORWARDED.map((sig) => [sig, send(sig)] as const);
  for (const [sig, h] of handlers) process.on(sig, h);
  try {
    try {
      await awaitExecReport(helper);
    } finally {
      prepared.done();
    }
    containerEvent(db, row, `exec_start: ${o.command.join(" ")}`, { execID });
    if (o.detach) {
      helper.unref();
      return 0;
    }
    const status = await helper.exited;
    containerEvent(db, row, "exec_die", { execID, exitCode: String(status) });
    return status;
  } finally {
    for (const [sig, h] of handlers) process.off(sig, h);
  }
}
