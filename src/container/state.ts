// A container's state, derived once: the row records what the commands last wrote
// (created / running / exited, monitor_pid, owner_pid); the kernel says whether the processes
// it names are still the ones recorded (pid + start time, proc.ts), and the bundle's
// `restarting` marker says a restart policy is waiting out its back-off. `deriveState` turns
// those into one ContainerState (youki's container/state.rs, crun's status.c), and TRANSITIONS
// says what each command may do in each state, with Docker's words for a refusal. Commands ask
// `decide(verb, row)` instead of testing fields; the table is unit-tested without root
// (test/unit/state.test.ts).
import type { Database } from "bun:sqlite";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { TsdError } from "../errors";
import { containerDir } from "../store/paths";
import { procStartTime, sameProcess } from "./proc";
import type { ContainerRow } from "./store";

/**
 * - created: made (tsd create, or a start whose CLI died before its monitor was spawned was
 *   released back to it); nothing runs, nothing is held but the bundle.
 * - starting: a start has claimed it: its CLI (monitor_pid -1, the owner alive) or its
 *   monitor (spawned, not yet reported).
 * - running: the monitor (pid + start time) is alive and the row says running.
 * - paused: running, with its cgroup frozen by `tsd pause` (the row's `paused`, cleared at
 *   the exit); Docker's Paused, which is also Running.
 * - restarting: exited, and its restart policy waits out the back-off (Docker's Restarting).
 * - exited: ran and ended (or a start failed); the exit is recorded.
 * - dead: the row says running or starting but its monitor is gone; the next reconcile records
 *   the exit (-1) and releases what it held.
 * - abandoned: a start whose CLI died before any monitor took over; the next reconcile
 *   releases it (created again, or removed when it was --rm or half made).
 */
export type ContainerState = "created" | "starting" | "running" | "paused" | "restarting" | "exited" | "dead" | "abandoned";

export const CONTAINER_STATES: readonly ContainerState[] = ["created", "starting", "running", "paused", "restarting", "exited", "dead", "abandoned"];

/** What the kernel and the bundle say; real ones read /proc and the bundle, tests pass fakes. */
export interface KernelFacts {
  /** Whether `pid` is still the process that started at `start` (proc.ts sameProcess). */
  alive(pid: number, start: string | null | undefined): boolean;
  /** Whether `<bundle>/restarting` exists (restart.ts maybeRestart writes it). */
  restartMarker(id: string): boolean;
}

export type StateRow = Pick<ContainerRow, "id" | "state" | "monitor_pid" | "monitor_start" | "owner_pid" | "owner_start" | "paused">;

/** The one place that turns a row and the kernel's facts into a state. Facts are read lazily. */
export function deriveState(row: StateRow, facts: KernelFacts): ContainerState {
  const monitorAlive = () => facts.alive(row.monitor_pid, row.monitor_start);
  switch (row.state) {
    case "running":
      if (!monitorAlive()) return "dead";
      return row.paused ? "paused" : "running";
    case "exited":
      return facts.restartMarker(row.id) && monitorAlive() ? "restarting" : "exited";
    case "created":
      if (row.monitor_pid === 0) return "created";
      if (row.monitor_pid === -1) return (row.owner_pid ?? 0) > 0 && facts.alive(row.owner_pid!, row.owner_start) ? "starting" : "abandoned";
      return monitorAlive() ? "starting" : "dead";
  }
}

/** The host's facts; without `root` the restart marker is not looked for (shows exited). */
export function hostFacts(root?: string): KernelFacts {
  return {
    alive: sameProcess,
    restartMarker: (id) => root !== undefined && existsSync(join(containerDir(root, id), "restarting")),
  };
}

/**
 * The host's facts read once per pid and bundle for the life of the returned object: what a
 * command listing many containers (ps, the reconcile before it) derives every row with, so a
 * row costs one read of /proc/PID/stat however many columns show its state. Only for a
 * snapshot: a command that waits for a state to change asks hostFacts again.
 */
export function snapshotFacts(root?: string): KernelFacts {
  const host = hostFacts(root);
  const starts = new Map<number, string | undefined>();
  const markers = new Map<string, boolean>();
  return {
    alive(pid, start) {
      if (!(pid > 0)) return false;
      if (!starts.has(pid)) starts.set(pid, procStartTime(pid));
      const now = starts.get(pid);
      return now !== undefined && (!start || now === start);
    },
    restartMarker(id) {
      if (!markers.has(id)) markers.set(id, host.restartMarker(id));
      return markers.get(id)!;
    },
  };
}

export function stateOf(row: StateRow, root?: string, facts: KernelFacts = hostFacts(root)): ContainerState {
  return deriveState(row, facts);
}

/** Docker's IsRunning: running or paused (ps without -a, stats, logs -f). */
export function isRunning(row: StateRow): boolean {
  const s = stateOf(row);
  return s === "running" || s === "paused";
}

/** What ps (STATUS) and inspect (State.Status) show, in Docker's words. */
export type ShownState = "created" | "running" | "paused" | "restarting" | "exited";

export function shown(state: ContainerState, recorded: ContainerRow["state"]): ShownState {
  switch (state) {
    case "created":
    case "starting":
    case "abandoned":
      return "created";
    case "dead":
      return recorded === "created" ? "created" : "exited";
    default:
      return state;
  }
}

export function shownState(row: StateRow, root?: string): ShownState {
  return shown(stateOf(row, root), row.state);
}

/**
 * What a command may do. "live": act on its running processes; "go": act on its files and row
 * (nothing runs); "noop": nothing to do, not an error; "wait": a start is under way, settle
 * and ask again; a Refusal: one line for the user (Docker's words) and the exit code.
 */
export type Verdict = "live" | "go" | "noop" | "wait" | Refusal;

export interface Refusal {
  refuse: (c: Named) => string;
  /** Docker's exit code for it: 1 where Docker's CLI exits 1, else the engine's 125. */
  code?: number;
}

/** The container as the user named it (`ref`) and as it is. */
export interface Named {
  id: string;
  name: string;
  ref: string;
}

export type Verb =
  | "start" // tsd start (a request: a running one is left as is)
  | "start-attached" // tsd start -a
  | "claim-start" // start, restart, restart policy: under the lock, the row becomes starting
  | "restart" // tsd restart: stop if running, then start
  | "policy-restart" // the restart policy after an exit
  | "stop"
  | "kill"
  | "remove" // tsd rm
  | "remove-force" // tsd rm -f
  | "claim-removal" // rm, under the lock, after any kill
  | "prune" // container prune: which ones go
  | "copy" // tsd cp, into or out of (also under the lock)
  | "exec"
  | "attach"
  | "top"
  | "stats"
  | "update" // tsd update: live into the cgroup, or stored for the next start
  | "freeze" // the freeze around a commit
  | "pause" // tsd pause
  | "unpause" // tsd unpause
  | "connect-network" // tsd network connect / disconnect
  | "join-network" // run --network container:REF, the target
  | "wait"; // tsd wait: "go" once the exit is recorded

export const VERBS: readonly Verb[] = [
  "start", "start-attached", "claim-start", "restart", "policy-restart", "stop", "kill", "remove", "remove-force", "claim-removal",
  "prune", "copy", "exec", "attach", "top", "stats", "update", "freeze", "pause", "unpause", "connect-network", "join-network", "wait",
];

const r = (refuse: (c: Named) => string, code?: number): Refusal => (code === undefined ? { refuse } : { refuse, code });
const short = (id: string) => id.slice(0, 12);

const BEING_STARTED = r((c) => `container ${c.name} is being started by another command`);
const STARTED_AGAIN = r((c) => `container ${c.name} was started again meanwhile: retry the removal`);
const PAUSED_START = r(() => "cannot start a paused container, try unpause instead", 1);
const NOT_RUNNING_1 = r((c) => `Container ${c.id} is not running`, 1);
const COPY_WHILE_STARTING = r((c) => `container ${c.name} is being started: retry the copy`, 1);

/** One row per verb; a state missing from a row takes its `other`. */
type Row = Partial<Record<ContainerState, Verdict>> & { other: Verdict };

const TRANSITIONS: Record<Verb, Row> = {
  start: { running: "noop", paused: PAUSED_START, starting: BEING_STARTED, dead: BEING_STARTED, abandoned: BEING_STARTED, other: "go" },
  "start-attached": {
    running: r((c) => `container ${c.name} is already running: use tsd attach or tsd logs -f`), paused: PAUSED_START,
    starting: BEING_STARTED, dead: BEING_STARTED, abandoned: BEING_STARTED, other: "go",
  },
  "claim-start": { created: "go", exited: "go", restarting: "go", other: BEING_STARTED },
  restart: { running: "live", paused: "live", starting: BEING_STARTED, dead: BEING_STARTED, abandoned: BEING_STARTED, other: "go" },
  "policy-restart": { exited: "go", restarting: "go", other: "noop" },
  stop: { running: "live", paused: "live", other: "noop" },
  kill: { running: "live", paused: "live", other: r((c) => `container ${c.name} is not running`) },
  remove: {
    running: r((c) => `cannot remove running container ${short(c.id)}: stop it first or use rm -f`),
    paused: r((c) => `You cannot remove a paused container ${c.id}. Unpause and then stop the container before attempting removal or force remove`, 1),
    starting: "wait", other: "go",
  },
  "remove-force": { running: "live", paused: "live", starting: "wait", other: "go" },
  "claim-removal": { running: STARTED_AGAIN, paused: STARTED_AGAIN, starting: STARTED_AGAIN, other: "go" },
  prune: { created: "go", exited: "go", restarting: "go", other: "noop" },
  // The copy helper joins the container's cgroup, which would freeze it too.
  copy: { running: "live", paused: r((c) => `container ${c.ref} is paused: unpause it before copying (tsd unpause ${c.ref})`, 1), starting: COPY_WHILE_STARTING, abandoned: COPY_WHILE_STARTING, other: "go" },
  exec: { running: "live", paused: r((c) => `Container ${c.ref} is paused, unpause the container before exec`, 1), other: r((c) => `container ${short(c.id)} is not running: start it first (tsd start ${c.name})`) },
  attach: { running: "live", paused: r(() => "You cannot attach to a paused container, unpause it first", 1), other: r((c) => `you cannot attach to a stopped container, start it first (tsd start ${c.name})`, 1) },
  top: { running: "live", paused: "live", other: r((c) => `container ${short(c.id)} is not running`) },
  stats: { running: "live", paused: "live", other: "noop" },
  update: { running: "live", paused: "live", other: "go" },
  // A paused container is frozen already: commit reads it as it is and leaves it paused.
  freeze: { running: "live", other: "go" },
  pause: {
    running: "live", paused: r((c) => `Container ${c.id} is already paused`, 1), other: NOT_RUNNING_1,
  },
  unpause: { paused: "live", other: r((c) => `Container ${c.id} is not paused`, 1) },
  "connect-network": { running: "live", paused: "live", other: r((c) => `container ${c.ref} is not running: connect and disconnect apply to running containers`) },
  "join-network": { running: "live", paused: "live", other: r((c) => `cannot join the network of container ${c.ref}: it is not running; start it first`) },
  wait: { exited: "go", restarting: "go", other: "wait" },
};

/** The table's answer for one pair (pure). */
export function verdict(verb: Verb, state: ContainerState): Verdict {
  const row = TRANSITIONS[verb];
  return row[state] ?? row.other;
}

export type Action = Exclude<Verdict, Refusal>;

/** The refusal as the error the CLI prints. */
export function refusalError(v: Refusal, c: Named): TsdError {
  return new TsdError(v.refuse(c), v.code);
}

/**
 * Whether `verb` may act on `row` now: the action, or the refusal thrown. Without `root` a
 * restarting container derives as exited, which every verb treats alike (state.test.ts).
 */
export function decide(verb: Verb, row: ContainerRow, ref: string = row.name, root?: string): Action {
  const v = verdict(verb, stateOf(row, root));
  if (typeof v === "object") throw refusalError(v, { id: row.id, name: row.name, ref });
  return v;
}

/**
 * Whether a container may still hold network leases and ports (the network reconcile frees
 * the others'): starting or running; dead ones are left to the container reconcile
 * (cleanup.ts), which kills their cgroup first, unless a dead running one's init is gone too.
 */
export function mayHoldNetwork(row: StateRow & Pick<ContainerRow, "pid" | "pid_start"> | undefined, facts: KernelFacts = hostFacts()): boolean {
  if (!row) return false;
  const s = deriveState(row, facts);
  if (s === "dead") return row.state === "created" || facts.alive(row.pid, row.pid_start);
  return s === "starting" || s === "running" || s === "paused";
}
