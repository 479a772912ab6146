// Container rows in the database.
import type { Database } from "bun:sqlite";
import { TsdError } from "../errors";
import { procStartTime } from "./proc";
import type { Donor } from "../native/embedded";
import { containerEvent, volumeMountEvents } from "./events";

/** What the commands last wrote; the state itself is state.ts deriveState (row + kernel). */
export type RecordedState = "created" | "running" | "exited";

export interface ContainerRow {
  id: string;
  name: string;
  image_id: string;
  image_ref: string;
  command: string;
  created_at: number;
  state: RecordedState;
  pid: number;
  monitor_pid: number;
  exit_code: number | null;
  started_at: number | null;
  finished_at: number | null;
  error: string | null;
  auto_remove: number;
  options: string;
  oom_killed?: number; // migration cgroups-1
  pid_start?: string | null; // migration lifecycle-1
  monitor_start?: string | null;
  restart_count?: number;
  owner_pid?: number; // migration lifecycle-3
  owner_start?: string | null;
  paused?: number; // migration pause-1: frozen by tsd pause (state.ts "paused")
}

/** A change and its event in one transaction: one commit (one fsync) for both. */
function withEvent(db: Database, fn: () => void): void {
  db.transaction(fn).immediate();
}

/**
 * A new row is owned by this CLI (monitor_pid -1: being made, then started) until the monitor
 * takes over (markStarting) or the create is done (markIdle); a reconcile releases it when
 * this process dies first (state.ts "abandoned", cleanup.ts releaseAbandonedStart).
 */
export function insertContainer(db: Database, row: Pick<ContainerRow, "id" | "name" | "image_id" | "image_ref" | "command" | "created_at" | "auto_remove" | "options">): void {
  try {
    withEvent(db, () => {
      db.query(
        "INSERT INTO containers (id, name, image_id, image_ref, command, created_at, state, auto_remove, options, monitor_pid, owner_pid, owner_start) VALUES (?, ?, ?, ?, ?, ?, 'created', ?, ?, -1, ?, ?)",
      ).run(row.id, row.name, row.image_id, row.image_ref, row.command, row.created_at, row.auto_remove, row.options, process.pid, procStartTime(process.pid) ?? null);
      containerEvent(db, row, "create");
    });
  } catch (e) {
    if (String(e).includes("UNIQUE constraint failed: containers.name")) {
      throw new TsdError(`the container name "/${row.name}" is already in use: remove that container or choose another name`);
    }
    throw e;
  }
}

/** A container by its full id only: what a command that already resolved a reference looks up
 *  again under the container's lock (a name or prefix could mean another container by then). */
export function containerById(db: Database, id: string): ContainerRow | undefined {
  return (db.query("SELECT * FROM containers WHERE id = ?").get(id) as ContainerRow | null) ?? undefined;
}

/** A container by full id, unique id prefix or name. */
export function findContainer(db: Database, ref: string): ContainerRow | undefined {
  const byName = db.query("SELECT * FROM containers WHERE name = ? OR id = ?").get(ref.replace(/^\//, ""), ref) as ContainerRow | null;
  if (byName) return byName;
  if (!/^[a-f0-9]+$/.test(ref)) return undefined;
  // A range on the primary key (ids are lowercase hex, 'g' sorts after them): an index seek.
  const rows = db.query("SELECT * FROM containers WHERE id >= ?1 AND id < ?1 || 'g' LIMIT 2").all(ref) as ContainerRow[];
  if (rows.length > 1) throw new TsdError(`multiple containers match the id prefix "${ref}": give more digits`);
  return rows[0];
}

/** The rows of the containers that hold an address or a port, by id (the network reconcile). */
export function containersHoldingNetwork(db: Database): Map<string, ContainerRow> {
  const rows = db.query("SELECT * FROM containers WHERE id IN (SELECT container_id FROM endpoints UNION SELECT container_id FROM ports)").all() as ContainerRow[];
  return new Map(rows.map((r) => [r.id, r]));
}

export function listContainers(db: Database): ContainerRow[] {
  return db.query("SELECT * FROM containers ORDER BY created_at DESC").all() as ContainerRow[];
}

/** `startedAt`: when the init was reported started (a start recorded late, with its exit). */
export function markRunning(db: Database, id: string, pid: number, monitorPid: number, startedAt = Date.now()): void {
  // The monitor is the init's parent and has not reaped it yet: neither pid can be recycled.
  const pidStart = procStartTime(pid) ?? null;
  const monitorStart = procStartTime(monitorPid) ?? null;
  withEvent(db, () => {
    const r = db.query(
      "UPDATE containers SET state = 'running', pid = ?, monitor_pid = ?, pid_start = ?, monitor_start = ?, started_at = ?, paused = 0, exit_code = NULL, finished_at = NULL, error = NULL WHERE id = ? AND state = 'created'",
    ).run(pid, monitorPid, pidStart, monitorStart, startedAt, id);
    if (r.changes > 0) {
      volumeMountEvents(db, id);
      containerEvent(db, id, "start");
    }
  });
}

/** The monitor exists (pid + start time) but has not reported yet: a CLI killed now leaves a
 *  row that the next command can still follow (its init.pid, or its death). */
export function markStarting(db: Database, id: string, monitorPid: number): void {
  db.query("UPDATE containers SET monitor_pid = ?, monitor_start = ?, owner_pid = 0, owner_start = NULL WHERE id = ? AND state = 'created'").run(monitorPid, procStartTime(monitorPid) ?? null, id);
}

/** Back to `created` before a start of an exited container (start, restart); monitor_pid -1
 *  says a start is under way (a second concurrent start refuses), owned by this CLI. */
export function markCreated(db: Database, id: string): void {
  db.query("UPDATE containers SET state = 'created', pid = 0, monitor_pid = -1, oom_killed = 0, owner_pid = ?, owner_start = ? WHERE id = ?").run(process.pid, procStartTime(process.pid) ?? null, id);
}

/** Created and idle: made by `tsd create`, or a start whose CLI died before its monitor ran. */
export function markIdle(db: Database, id: string): void {
  db.query("UPDATE containers SET monitor_pid = 0, owner_pid = 0, owner_start = NULL WHERE id = ? AND state = 'created'").run(id);
}

export function renameContainer(db: Database, id: string, name: string): void {
  try {
    withEvent(db, () => {
      const before = containerById(db, id);
      db.query("UPDATE containers SET name = ? WHERE id = ?").run(name, id);
      if (before) containerEvent(db, id, "rename", { oldName: `/${before.name}` });
    });
  } catch (e) {
    if (String(e).includes("UNIQUE constraint failed: containers.name")) {
      throw new TsdError(`the container name "/${name}" is already in use: remove that container or choose another name`);
    }
    throw e;
  }
}

export function markExited(db: Database, id: string, exitCode: number, finishedAt: number, error: string | null): void {
  withEvent(db, () => {
    // Once per exit: the CLI's cleanup and the monitor's may both record it.
    const first = (db.query("SELECT state != 'exited' AS first FROM containers WHERE id = ?").get(id) as { first: number } | null)?.first === 1;
    db.query("UPDATE containers SET state = 'exited', exit_code = ?, finished_at = ?, error = ?, pid = 0, paused = 0 WHERE id = ?").run(exitCode, finishedAt, error, id);
    if (first) containerEvent(db, id, "die", { exitCode: String(exitCode) });
  });
}

/** The start failed before execve: back to created (no monitor), with the status and error. */
export function markStartFailed(db: Database, id: string, exitCode: number, error: string): void {
  db.query("UPDATE containers SET state = 'created', exit_code = ?, error = ?, pid = 0, monitor_pid = 0, owner_pid = 0, owner_start = NULL WHERE id = ?").run(exitCode, error, id);
}

export function deleteContainer(db: Database, id: string): void {
  withEvent(db, () => {
    containerEvent(db, id, "destroy");
    db.query("DELETE FROM containers WHERE id = ?").run(id);
    // Its --userns=auto range is free again (container/userns.ts).
    db.query("DELETE FROM userns_ranges WHERE container_id = ?").run(id);
  });
}

export function markOomKilled(db: Database, id: string, oomKilled: boolean): void {
  db.query("UPDATE containers SET oom_killed = ? WHERE id = ?").run(oomKilled ? 1 : 0, id);
}

/** The stored run options (JSON), e.g. after `tsd update` changed the limits. */
export function updateOptions(db: Database, id: string, options: string): void {
  db.query("UPDATE containers SET options = ? WHERE id = ?").run(options, id);
}

export function bumpRestartCount(db: Database, id: string): void {
  db.query("UPDATE containers SET restart_count = restart_count + 1 WHERE id = ?").run(id);
}

export function resetRestartCount(db: Database, id: string): void {
  db.query("UPDATE containers SET restart_count = 0 WHERE id = ?").run(id);
}

/** The newest running containers' monitors, each with its recorded start time to check
 *  (native/embedded.ts shares the executable of one of them). */
export function runningMonitors(db: Database, limit = 4): Donor[] {
  const rows = db.query("SELECT monitor_pid, monitor_start FROM containers WHERE state = 'running' AND monitor_pid > 0 AND monitor_start IS NOT NULL ORDER BY started_at DESC LIMIT ?").all(limit) as { monitor_pid: number; monitor_start: string }[];
  return rows.map(monitorDonor);
}

/** A container's monitor as a donor of its executable: still it only with its start time. */
export function monitorDonor(row: Pick<ContainerRow, "monitor_pid" | "monitor_start">): Donor {
  return { pid: row.monitor_pid, stillSame: () => !!row.monitor_start && procStartTime(row.monitor_pid) === row.monitor_start };
}

/** Records tsd pause / unpause (the cgroup is frozen or thawed first). */
export function markPaused(db: Database, id: string, paused: boolean): void {
  withEvent(db, () => {
    const r = db.query("UPDATE containers SET paused = ? WHERE id = ? AND state = 'running' AND paused != ?").run(paused ? 1 : 0, id, paused ? 1 : 0);
    if (r.changes > 0) containerEvent(db, id, paused ? "pause" : "unpause");
  });
}
