// The state database: one bun:sqlite file under the root dir, WAL, with a busy timeout so
// concurrent tsd invocations serialise on writes instead of failing.
import { Database } from "bun:sqlite";
import { existsSync, mkdirSync } from "node:fs";
import { TsdError } from "../errors";
import { join } from "node:path";

/**
 * Named migrations, applied once each in this order and recorded in the `migrations` table.
 * Append new ones (a name per feature: "images-1", "network-1" …); never edit an applied one.
 */
export const MIGRATIONS: readonly { name: string; sql: string }[] = [
  { name: "base-1", sql: `
CREATE TABLE IF NOT EXISTS images (
  id        TEXT PRIMARY KEY,          -- hex sha256 of the image config blob
  config    TEXT NOT NULL,             -- the image config JSON
  layers    TEXT NOT NULL,             -- JSON array of layer diffIDs, bottom first
  size      INTEGER NOT NULL,          -- bytes of the unpacked layers
  created   TEXT,                      -- the config's created timestamp
  loaded_at INTEGER NOT NULL           -- ms since the epoch
);
CREATE TABLE IF NOT EXISTS tags (
  name     TEXT PRIMARY KEY,           -- a normalised reference: docker.io/library/busybox:latest
  image_id TEXT NOT NULL REFERENCES images(id)
);
CREATE TABLE IF NOT EXISTS layers (
  diff_id TEXT PRIMARY KEY,            -- sha256:<hex> of the uncompressed tar
  link    TEXT NOT NULL UNIQUE,        -- short name under layers/l/
  size    INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS containers (
  id          TEXT PRIMARY KEY,
  name        TEXT NOT NULL UNIQUE,
  image_id    TEXT NOT NULL,
  image_ref   TEXT NOT NULL,           -- what the user typed, for ps
  command     TEXT NOT NULL,           -- JSON array: the process args
  created_at  INTEGER NOT NULL,        -- ms since the epoch
  state       TEXT NOT NULL,           -- created | running | exited
  pid         INTEGER NOT NULL DEFAULT 0,
  monitor_pid INTEGER NOT NULL DEFAULT 0,
  exit_code   INTEGER,
  started_at  INTEGER,
  finished_at INTEGER,
  error       TEXT,
  auto_remove INTEGER NOT NULL DEFAULT 0,
  options     TEXT NOT NULL            -- JSON of the run options, for inspect and start
);
` },
  // State.OOMKilled: read from the kernel's OOM counter of the container's cgroup at cleanup.
  { name: "cgroups-1", sql: `ALTER TABLE containers ADD COLUMN oom_killed INTEGER NOT NULL DEFAULT 0;` },
  { name: "images-1", sql: `
CREATE TABLE IF NOT EXISTS layer_blobs (
  diff_id    TEXT NOT NULL,            -- the unpacked layer (layers.diff_id)
  digest     TEXT NOT NULL,            -- a blob under blobs/sha256 that unpacks to it
  media_type TEXT NOT NULL,
  size       INTEGER NOT NULL,
  PRIMARY KEY (diff_id, digest)
);
CREATE TABLE IF NOT EXISTS repo_digests (
  repository TEXT NOT NULL,            -- docker.io/library/alpine
  digest     TEXT NOT NULL,            -- the manifest (or index) digest pulled or pushed
  image_id   TEXT NOT NULL,
  PRIMARY KEY (repository, digest)
);
` },
  { name: "images-2", sql: `
CREATE TABLE IF NOT EXISTS image_manifests (
  image_id   TEXT NOT NULL,            -- an image whose manifest (not index) this is
  digest     TEXT NOT NULL,            -- blobs/sha256: kept for push and save
  PRIMARY KEY (image_id, digest)
);
` },
  // Process identity (pid + start time, src/container/proc.ts) of the init and the monitor;
  // the restart policy the monitor carries out and how often it restarted the container.
  { name: "lifecycle-1", sql: `
ALTER TABLE containers ADD COLUMN pid_start TEXT;
ALTER TABLE containers ADD COLUMN monitor_start TEXT;
ALTER TABLE containers ADD COLUMN restart_count INTEGER NOT NULL DEFAULT 0;
` },
  { name: "network-1", sql: `
CREATE TABLE IF NOT EXISTS networks (
  name       TEXT PRIMARY KEY,
  id         TEXT NOT NULL UNIQUE,
  bridge     TEXT NOT NULL UNIQUE,       -- the Linux bridge
  subnet     TEXT NOT NULL,              -- CIDR
  gateway    TEXT NOT NULL,              -- the bridge's address
  mtu        INTEGER NOT NULL DEFAULT 1500,
  builtin    INTEGER NOT NULL DEFAULT 0, -- 1: the default "bridge" network
  created_at INTEGER NOT NULL
);
-- A container's address on a network while it runs (the IPAM lease).
CREATE TABLE IF NOT EXISTS endpoints (
  container_id TEXT NOT NULL,
  network      TEXT NOT NULL REFERENCES networks(name),
  ip           TEXT NOT NULL,
  mac          TEXT NOT NULL,
  ifname       TEXT NOT NULL,            -- inside: eth0, eth1 …
  host_ifname  TEXT NOT NULL UNIQUE,     -- the host end of the veth
  aliases      TEXT NOT NULL DEFAULT '[]',
  PRIMARY KEY (container_id, network),
  UNIQUE (network, ip)
);
CREATE TABLE IF NOT EXISTS ports (
  container_id   TEXT NOT NULL,
  host_ip        TEXT NOT NULL,          -- 0.0.0.0: every address
  host_port      INTEGER NOT NULL,
  proto          TEXT NOT NULL,          -- tcp | udp
  container_ip   TEXT NOT NULL,
  container_port INTEGER NOT NULL,
  PRIMARY KEY (host_ip, host_port, proto)
);
` },
  // Named volumes (src/container/volumes.ts): <root>/volumes/<name>/_data.
  { name: "lifecycle-2", sql: `
CREATE TABLE IF NOT EXISTS volumes (
  name       TEXT PRIMARY KEY,
  created_at INTEGER NOT NULL,         -- ms since the epoch
  anonymous  INTEGER NOT NULL DEFAULT 0,
  labels     TEXT NOT NULL DEFAULT '{}'
);
` },
  // The CLI that creates or starts a container (pid + start time) until the monitor takes over:
  // when it dies first, the next command's reconcile releases what the start had taken.
  { name: "lifecycle-3", sql: `
ALTER TABLE containers ADD COLUMN owner_pid INTEGER NOT NULL DEFAULT 0;
ALTER TABLE containers ADD COLUMN owner_start TEXT;
` },
  // tsd pause: the container's cgroup is frozen (state.ts "paused"); cleared at its exit.
  { name: "pause-1", sql: `ALTER TABLE containers ADD COLUMN paused INTEGER NOT NULL DEFAULT 0;` },
  // tsd events: the engine's event log, bounded (src/store/events.ts keeps the last EVENTS_KEPT).
  { name: "events-1", sql: `
CREATE TABLE IF NOT EXISTS events (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  time_nano  TEXT NOT NULL,            -- ns since the epoch, as decimal text (beyond 2^53)
  time       INTEGER NOT NULL,         -- seconds since the epoch
  type       TEXT NOT NULL,
  action     TEXT NOT NULL,
  actor_id   TEXT NOT NULL,
  attributes TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS events_time ON events (time);
` },
  // `tsd build`'s cache (src/image/build/cache.ts): a step's key (parent image + instruction +
  // content hash) → the image it made. Rows whose image is gone are dropped by image prune.
  { name: "build-1", sql: `
CREATE TABLE IF NOT EXISTS build_cache (
  key        TEXT PRIMARY KEY,
  image_id   TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  result     INTEGER NOT NULL DEFAULT 0   -- 1: a build ended with this image (shown by images)
);
` },
  // --userns=auto: the host id ranges given to containers (container/userns.ts), one row per
  // container until it is removed; the creating CLI (pid + start time) owns a range until the
  // container's row exists (one killed in between leaves a range the next allocation frees).
  { name: "userns-1", sql: `
CREATE TABLE IF NOT EXISTS userns_ranges (
  container_id TEXT PRIMARY KEY,
  uid_start    INTEGER NOT NULL,
  gid_start    INTEGER NOT NULL,
  size         INTEGER NOT NULL,
  owner_pid    INTEGER NOT NULL DEFAULT 0,
  owner_start  TEXT
);
` },
  // The step's parent image: image prune (without -a) keeps a build's intermediate images while
  // an image built on them is there, as Docker's (it prunes only images without children).
  { name: "build-2", sql: `ALTER TABLE build_cache ADD COLUMN parent_id TEXT NOT NULL DEFAULT '';` },
  // Scale (issue 16): a container's ports and a network's endpoints by index, so no
  // per-container query scans every row.
  { name: "scale-1", sql: `
CREATE INDEX IF NOT EXISTS ports_container ON ports (container_id);
CREATE INDEX IF NOT EXISTS endpoints_network ON endpoints (network);
` },
];

const handles = new Map<string, Database>();
const created = new Set<string>();

/** A database file SQLite cannot read: `tsd system repair` sets it aside and rebuilds. */
export class DatabaseDamaged extends TsdError {}

export function damaged(e: unknown): boolean {
  return /file is not a database|database disk image is malformed|SQLITE_(NOTADB|CORRUPT)/i.test(String((e as Error)?.message ?? e));
}

/** The database of `root`, created with its schema on first use. */
export function openDb(root: string): Database {
  const cached = handles.get(root);
  if (cached) return cached;
  mkdirSync(root, { recursive: true, mode: 0o711 });
  const file = join(root, "tsd.db");
  const existed = existsSync(file);
  const db = new Database(file, { create: true, strict: true });
  try {
    db.exec("PRAGMA busy_timeout = 30000");
    db.exec("PRAGMA foreign_keys = ON");
    settleNewDatabase(db);
  } catch (e) {
    db.close();
    if (damaged(e)) {
      throw new DatabaseDamaged(`the state database ${file} is damaged (${(e as Error).message}): run 'tsd system repair', which keeps it as tsd.db.corrupt-* and rebuilds it from the root dir`);
    }
    throw e;
  }
  if (!existed) created.add(root);
  handles.set(root, db);
  return db;
}

/** Whether this process made `root`'s database file (it was not there). */
export function createdByUs(root: string): boolean {
  return created.has(root);
}

/** Closes and forgets the handle (repair reopens after setting a damaged file aside). */
export function closeDb(root: string): void {
  handles.get(root)?.close();
  handles.delete(root);
}

function migrate(db: Database): void {
  // The common case, every migration applied, costs one query and no write lock.
  const version = (db.query("PRAGMA user_version").get() as { user_version: number }).user_version;
  if (version === migrationsStamp()) return;
  backupBeforeMigrations(db, version);
  db.transaction(() => {
    db.exec("CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)");
    const applied = new Set((db.query("SELECT name FROM migrations").all() as { name: string }[]).map((r) => r.name));
    const known = new Set(MIGRATIONS.map((m) => m.name));
    const unknown = [...applied].filter((n) => !known.has(n));
    if (unknown.length > 0) {
      throw new Error(`the state database has migrations this tsd does not know (${unknown.join(", ")}): upgrade tsd`);
    }
    for (const m of MIGRATIONS) {
      if (applied.has(m.name)) continue;
      db.exec(m.sql);
      db.query("INSERT INTO migrations (name, applied_at) VALUES (?, ?)").run(m.name, Date.now());
    }
    db.exec(`PRAGMA user_version = ${migrationsStamp()}`);
  }).immediate();
}

/**
 * A copy of a database that has state (user_version set by an older tsd) before migrations
 * change it: `tsd.db.bak-<old version>`, consistent (VACUUM INTO), once per old version.
 */
function backupBeforeMigrations(db: Database, version: number): void {
  if (version === 0) return; // new: nothing to lose
  const backup = `${db.filename}.bak-${version}`;
  if (existsSync(backup)) return;
  try {
    db.query("VACUUM INTO ?").run(backup);
  } catch (e) {
    if (existsSync(backup)) return; // a concurrent first open made it
    throw new TsdError(`cannot back up ${db.filename} before upgrading its schema: ${(e as Error).message}: free space under the root dir`);
  }
}

/** A 31-bit hash of the migration names: user_version records which set was applied. */
function migrationsStamp(): number {
  return Number(Bun.hash.crc32(MIGRATIONS.map((m) => m.name).join("\n")) & 0x7fffffff);
}

/**
 * WAL mode and the migrations. On a new root several processes may open the new file at once
 * (two pulls and their unpack helpers): the switch to WAL needs an exclusive lock, and SQLite
 * answers "database is locked" there without waiting on the busy timeout (seen in CI). Such a
 * failure is retried, with jitter, for as long as the busy timeout would have waited.
 */
function settleNewDatabase(db: Database): void {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      db.exec("PRAGMA journal_mode = WAL");
      migrate(db);
      return;
    } catch (e) {
      if (!/database is locked|SQLITE_BUSY/i.test((e as Error).message) || Date.now() > deadline) throw e;
      Bun.sleepSync(5 + Math.random() * 20);
    }
  }
}
