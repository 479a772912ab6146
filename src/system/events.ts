// `tsd events`: the event log (src/store/events.ts) read back as Docker's daemon streams it
// (moby daemon/events/filter.go for --filter; the CLI's prettyPrintEvent for the line).
// Past events between --since and --until, then, without --until (or with one still ahead),
// new ones as they are written, polled every POLL_MS, until a signal or --until.
import type { Database } from "bun:sqlite";
import { lastEventId, readEvents, type EventRecord } from "../store/events";
import { parseFilters, type Filters } from "../format/filters";
import { TsdError } from "../errors";

export const POLL_MS = 100;

/** Docker's events.Message, field order as its JSON. */
export interface EventMessage {
  status?: string;
  id?: string;
  from?: string;
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: "local";
  time: number;
  timeNano: number;
}

export function eventMessage(e: EventRecord): EventMessage {
  const legacy = e.type === "container" || e.type === "image";
  return {
    ...(legacy ? { status: e.action, id: e.actorId } : {}),
    ...(e.type === "container" && e.attributes.image !== undefined ? { from: e.attributes.image } : {}),
    Type: e.type, Action: e.action, Actor: { ID: e.actorId, Attributes: e.attributes }, scope: "local",
    time: Number(e.timeNano / 1000000000n),
    // JSON numbers: ns since the epoch exceed 2^53; as Docker's int64, printed whole below.
    timeNano: Number(e.timeNano),
  };
}

const KEYS = ["container", "event", "image", "label", "network", "type", "volume", "scope", "daemon", "plugin", "node", "service", "secret", "config"];

const exact = (f: Filters, key: string, v: string | undefined): boolean => {
  const want = f.get(key);
  return !want || want.length === 0 || (v !== undefined && want.includes(v));
};
const fuzzy = (f: Filters, key: string, v: string | undefined): boolean => exact(f, key, v) || (v !== undefined && (f.get(key) ?? []).some((p) => v.startsWith(p)));
const stripTag = (s: string): string => s.replace(/:[^/:@]*$/, "");

/** Docker's Filter.Include for one event (pure). */
export function eventFilter(list: string[]): (e: EventRecord) => boolean {
  const f = parseFilters(list, KEYS);
  for (const k of f.keys()) if (!KEYS.includes(k)) throw new TsdError(`Invalid filter '${k}'`, 1);
  const fuzzyEvents = (f.get("event") ?? []).some((v) => ["health_status", "exec_create", "exec_start"].includes(v));
  return (e) => {
    const a = e.attributes;
    const byName = (key: string) => fuzzy(f, key, e.actorId) || fuzzy(f, key, a.name);
    const imageName = a[e.type === "image" ? "name" : "image"];
    const image = !f.get("image") || [e.actorId, imageName, stripTag(e.actorId), imageName && stripTag(imageName)].some((v) => v !== undefined && f.get("image")!.includes(v));
    const labels = (f.get("label") ?? []).every((l) => {
      const eq = l.indexOf("=");
      return eq < 0 ? Object.hasOwn(a, l) : a[l.slice(0, eq)] === l.slice(eq + 1);
    });
    return (fuzzyEvents ? fuzzy(f, "event", e.action) : exact(f, "event", e.action)) && exact(f, "type", e.type) && exact(f, "scope", "local") &&
      byName("container") && byName("volume") && byName("network") && image && labels;
  };
}

/** Docker's rfc3339NanoFixed in the local zone: 2026-12-06T13:45:01.123456789Z (or +01:00). */
export function eventTime(ns: bigint, offsetMin = -new Date(Number(ns / 1000000n)).getTimezoneOffset()): string {
  const local = new Date(Number(ns / 1000000n) + offsetMin * 60000);
  const frac = (ns % 1000000000n).toString().padStart(9, "0");
  const zone = offsetMin === 0 ? "Z" : `${offsetMin < 0 ? "-" : "+"}${String(Math.trunc(Math.abs(offsetMin) / 60)).padStart(2, "0")}:${String(Math.abs(offsetMin) % 60).padStart(2, "0")}`;
  return `${local.toISOString().slice(0, 19)}.${frac}${zone}`;
}

/** The default line (the CLI's prettyPrintEvent). */
export function prettyEvent(e: EventRecord, offsetMin?: number): string {
  const keys = Object.keys(e.attributes).sort();
  const attrs = keys.length ? ` (${keys.map((k) => `${k}=${e.attributes[k]}`).join(", ")})` : "";
  return `${eventTime(e.timeNano, offsetMin)} ${e.type} ${e.action} ${e.actorId}${attrs}`;
}

export interface StreamOptions {
  /** ns since the epoch; undefined: no past events. */
  since?: bigint;
  until?: bigint;
  include: (e: EventRecord) => boolean;
  /** Stops the follow (a signal). */
  stopped: () => boolean;
}

const nowNs = (): bigint => BigInt(Date.now()) * 1000000n;

/** Writes the events in the window through `emit`; follows while --until is ahead. */
export async function streamEvents(db: Database, o: StreamOptions, emit: (e: EventRecord) => void): Promise<void> {
  if (o.since !== undefined && o.until !== undefined && o.until < o.since) return;
  let after = o.since === undefined ? lastEventId(db) : 0;
  const sinceSec = o.since === undefined ? undefined : Number(o.since / 1000000000n);
  for (;;) {
    const batch = readEvents(db, after, { ...(sinceSec !== undefined ? { since: sinceSec } : {}) });
    for (const e of batch) {
      after = e.id;
      if (o.since !== undefined && e.timeNano < o.since) continue;
      // Writers are separate processes: ids follow commit order, times nearly so.
      if (o.until !== undefined && e.timeNano > o.until) continue;
      if (o.include(e)) emit(e);
    }
    if (batch.length > 0) continue;
    if (o.stopped() || (o.until !== undefined && nowNs() > o.until)) return;
    await Bun.sleep(POLL_MS);
  }
}

/** `{{json .}}` of the message, timeNano exact (ns exceed a double's 2^53). */
export function eventJson(e: EventRecord): string {
  return JSON.stringify({ ...eventMessage(e), timeNano: 0 }).replace(/"timeNano":0\}$/, `"timeNano":${e.timeNano}}`);
}
