// The event log of `tsd events`: one row per event in the state database, written where Docker's
// daemon emits them (container create/start/die/stop/kill/pause/…, image pull/tag/delete/…,
// network and volume events). The database rather than a file: every command has it open
// already, an event is one INSERT (inside the command's own transaction where it has one),
// writers need no lock of their own, and --since/--until/--filter are a query. Bounded: the
// oldest go once EVENTS_KEPT are kept (Docker's daemon keeps only its last 256, in memory).
// Writing one never fails the command: a full disk or a locked database drops the event with a
// note on stderr.
import type { Database } from "bun:sqlite";

export const EVENTS_KEPT = 10000;
/** Pruned once every PRUNE_EVERY inserts (by id), so an insert stays one statement. */
const PRUNE_EVERY = 256;

export type EventType = "container" | "image" | "network" | "volume";

export interface EventRecord {
  id: number;
  timeNano: bigint;
  type: EventType;
  action: string;
  actorId: string;
  attributes: Record<string, string>;
}

interface EventRow {
  id: number;
  time_nano: string;
  type: EventType;
  action: string;
  actor_id: string;
  attributes: string;
}

let lastNano = 0n;

/** Now in ns since the epoch, strictly increasing within this process. */
export function nowNano(): bigint {
  const ns = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000)) * 1000n;
  lastNano = ns > lastNano ? ns : lastNano + 1n;
  return lastNano;
}

export function recordEvent(db: Database, type: EventType, action: string, actorId: string, attributes: Record<string, string> = {}): void {
  try {
    const t = nowNano();
    const r = db
      .query("INSERT INTO events (time_nano, time, type, action, actor_id, attributes) VALUES (?, ?, ?, ?, ?, ?)")
      .run(t.toString(), Number(t / 1000000000n), type, action, actorId, JSON.stringify(attributes));
    const id = Number(r.lastInsertRowid);
    if (id % PRUNE_EVERY === 0) db.query("DELETE FROM events WHERE id <= ?").run(id - EVENTS_KEPT);
  } catch (e) {
    process.stderr.write(`tsd: the ${type} ${action} event was not recorded: ${(e as Error).message}\n`);
  }
}

const fromRow = (r: EventRow): EventRecord => ({
  id: r.id, timeNano: BigInt(r.time_nano), type: r.type, action: r.action, actorId: r.actor_id, attributes: JSON.parse(r.attributes) as Record<string, string>,
});

/** Events after id `afterId`, oldest first, with `time` (seconds) in [since, until] when given. */
export function readEvents(db: Database, afterId: number, o: { since?: number; until?: number; limit?: number } = {}): EventRecord[] {
  const rows = db
    .query("SELECT * FROM events WHERE id > ? AND time >= ? AND time <= ? ORDER BY id LIMIT ?")
    .all(afterId, o.since ?? 0, o.until ?? Number.MAX_SAFE_INTEGER, o.limit ?? EVENTS_KEPT) as EventRow[];
  return rows.map(fromRow);
}

/** The newest event's id (0 when none): where a follow without --since starts. */
export function lastEventId(db: Database): number {
  return (db.query("SELECT COALESCE(MAX(id), 0) AS n FROM events").get() as { n: number }).n;
}
