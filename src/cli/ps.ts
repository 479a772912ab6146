import { defineCommand } from "./command";
import { cittyArgs, parseFlags, type FlagSpec } from "./flags";
import { context } from "./context";
import { UsageError } from "./globals";
import { TsdError } from "../errors";
import { listContainers, type ContainerRow } from "../container/store";
import { shown, shownState, snapshotFacts, stateOf, type KernelFacts, type ShownState } from "../container/state";
import { lookup, reconcile } from "../container/resolve";
import { decodeOptions, type RunOptions } from "../container/options";
import { dirSize } from "../container/volumes";
import { humanDuration, humanSize } from "../format";
import { context as formatContext, labelMethod, labelsText, printList, type ListSpec } from "../format/list";
import { tabwrite } from "../format/tabwriter";
import { stdout } from "../io";
import { matchAny, matchLabels, parseFilters, type Filters, matchPattern } from "../format/filters";
import { goTime } from "../format/time";
import { findImage } from "../image/store";
import { listingTexts, portsOf } from "../network/attach";
import { join } from "node:path";
import type { Database } from "bun:sqlite";
import { containerDir } from "../store/paths";
import { needNamespace } from "../store/rootless";
import { healthFilterValue, healthSuffix, readHealth, type HealthState } from "../container/health";

const flags = {
  all: { kind: "bool", short: "a", description: "Show all containers (default shows just running)" },
  quiet: { kind: "bool", short: "q", description: "Only display container IDs" },
  "no-trunc": { kind: "bool", description: "Don't truncate output" },
  filter: {
    kind: "list",
    short: "f",
    description: "Filter output: id, name, label, exited, status, ancestor, before, since, volume, network, health",
    valueHint: "KEY=VALUE",
  },
  format: { kind: "string", description: "Pretty-print containers using a Go template ('table {{.ID}}\\t{{.Names}}'), or json", valueHint: "FORMAT" },
  last: { kind: "string", short: "n", description: "Show n last created containers (includes all states)", valueHint: "N" },
  latest: { kind: "bool", short: "l", description: "Show the latest created container (includes all states)" },
  size: { kind: "bool", short: "s", description: "Display total file sizes" },
} satisfies FlagSpec;

export function statusText(row: ContainerRow, now: number, root?: string, state: ShownState = shownState(row, root), opts?: RunOptions): string {
  if (state === "running") return `Up ${humanDuration(now - (row.started_at ?? row.created_at))}${root ? healthSuffix(rowHealth(row, root, true, opts)) : ""}`;
  if (state === "paused") return `Up ${humanDuration(now - (row.started_at ?? row.created_at))} (Paused)`;
  if (state === "created") return "Created";
  const word = state === "restarting" ? "Restarting" : "Exited";
  return `${word} (${row.exit_code ?? -1}) ${humanDuration(now - (row.finished_at ?? now))} ago`;
}

/** The container's health (health.json), for STATUS and --filter health=. */
function rowHealth(row: ContainerRow, root: string, running: boolean, opts?: RunOptions): HealthState | undefined {
  return readHealth(containerDir(root, row.id), (opts ?? decodeOptions(row.options)).healthcheck, running);
}

const FILTER_KEYS = ["id", "name", "label", "exited", "status", "ancestor", "before", "since", "volume", "network", "health", "publish", "expose"] as const;
const STATES = ["created", "restarting", "running", "removing", "paused", "exited", "dead"];

/** Docker's --filter for ps (moby daemon/list.go): values of one key OR, keys AND. */
export function psFilters(list: string[]): Filters {
  const filters = parseFilters(list, FILTER_KEYS);
  for (const v of filters.get("status") ?? []) if (!STATES.includes(v)) throw new TsdError(`Invalid filter 'status=${v}'`, 1);
  for (const v of filters.get("exited") ?? []) if (!/^-?\d+$/.test(v)) throw new TsdError(`strconv.Atoi: parsing "${v}": invalid syntax`, 1);
  for (const key of ["publish", "expose"] as const) for (const v of filters.get(key) ?? []) portFilter(key, v);
  for (const v of filters.get("health") ?? []) {
    if (!["starting", "healthy", "unhealthy", "none"].includes(v)) throw new TsdError(`Unrecognised filter value for health: ${v}`, 1);
  }
  return filters;
}


interface Ctx {
  db: Database;
  root: string;
  filters: Filters;
  before?: ContainerRow;
  since?: ContainerRow;
  /** /proc and the bundles read once per container for the whole listing. */
  facts: KernelFacts;
  /** Every container's networks and ports, read in two queries. */
  networks: Map<string, string>;
  ports: Map<string, string>;
}

/** A row with what the listing derives from it, each once: its state, and its options when a
 *  column or filter asks (undefined: damaged, shown with no mounts, labels or network mode). */
interface Entry {
  row: ContainerRow;
  /** Derived (state.ts), as ps and inspect show it. */
  shown: ShownState;
  readonly opts: RunOptions | undefined;
}

function entryOf(c: Ctx, row: ContainerRow): Entry {
  let decoded: RunOptions | undefined | null = null;
  return {
    row,
    shown: shown(stateOf(row, c.root, c.facts), row.state),
    get opts() {
      if (decoded === null) {
        try {
          decoded = decodeOptions(row.options);
        } catch {
          decoded = undefined;
        }
      }
      return decoded;
    },
  };
}

function refRow(db: Database, root: string, ref: string | undefined): ContainerRow | undefined {
  if (ref === undefined) return undefined;
  const row = lookup(db, root, ref);
  if (!row) throw new TsdError(`No such container: ${ref}`, 1);
  return row;
}

function mountsOf(e: Entry) {
  return e.opts?.volumes ?? [];
}

/** --network none|host|container:X holds no address: docker's Networks column names the mode. */
function modeNetwork(e: Entry): string {
  const n = e.opts?.network ?? "";
  return n === "none" || n === "host" ? n : "";
}

function labelsOf(e: Entry): Record<string, string> {
  return ((e.opts as { labels?: Record<string, string> } | undefined)?.labels ?? {}) as Record<string, string>;
}

/** A publish= or expose= value (moby's portOp): PORT[/PROTO] or FIRST-LAST[/PROTO] → "80/tcp" … */
export function portFilter(key: string, value: string): string[] {
  if (value.includes(":")) throw new TsdError(`filter for '${key}' should not contain ':': ${value}`, 1);
  const [range = "", proto = "tcp"] = value.split("/");
  const m = /^(\d+)(?:-(\d+))?$/.exec(range);
  const first = Number(m?.[1]);
  const last = m?.[2] === undefined ? first : Number(m[2]);
  if (!m || first > 65535 || last > 65535 || last < first) throw new TsdError(`error while looking up for ${key} ${range}: invalid port range`, 1);
  if (last - first >= 65536) throw new TsdError(`error while looking up for ${key} ${range}: invalid port range`, 1);
  return Array.from({ length: last - first + 1 }, (_, i) => `${first + i}/${proto.toLowerCase()}`);
}

/** The container's ports as the daemon lists them: published (host port → container port) and
 *  exposed ones without a host port. */
function portKeys(db: Database, row: ContainerRow, opts: RunOptions | undefined): { published: Set<string>; exposed: Set<string> } {
  const published = new Set<string>();
  const exposed = new Set<string>();
  for (const p of portsOf(db, row.id)) {
    published.add(`${p.host_port}/${p.proto}`);
    exposed.add(`${p.container_port}/${p.proto}`);
  }
  const image = findImage(db, row.image_id);
  for (const k of [...Object.keys(image?.config.config?.ExposedPorts ?? {}), ...(opts?.expose ?? [])]) exposed.add(k.includes("/") ? k : `${k}/tcp`);
  return { published, exposed };
}

function matchesPorts(c: Ctx, e: Entry): boolean {
  const publish = (c.filters.get("publish") ?? []).flatMap((v) => portFilter("publish", v));
  const expose = (c.filters.get("expose") ?? []).flatMap((v) => portFilter("expose", v));
  if (publish.length === 0 && expose.length === 0) return true;
  // Only a running container has ports (the daemon's list reads its live network settings).
  if (e.shown !== "running" && e.shown !== "paused") return false;
  const ports = portKeys(c.db, e.row, e.opts);
  return publish.some((p) => ports.published.has(p)) || expose.some((p) => ports.exposed.has(p));
}

function matches(c: Ctx, e: Entry): boolean {
  const { db, root, filters } = c;
  const { row, shown: state } = e;
  if (filters.size === 0 && !c.before && !c.since) return true;
  if (c.before && row.created_at >= c.before.created_at) return false;
  if (c.since && row.created_at <= c.since.created_at) return false;
  return (
    matchAny(filters, "status", (v) => state === v) &&
    matchAny(filters, "name", (v) => matchPattern(v, `/${row.name}`)) &&
    matchAny(filters, "id", (v) => matchPattern(v, row.id)) &&
    matchLabels(filters, labelsOf(e)) &&
    matchAny(filters, "exited", (v) => state === "exited" && row.started_at !== null && (row.exit_code ?? -1) === Number(v)) &&
    matchAny(filters, "ancestor", (v) => {
      const image = findImage(db, v);
      return row.image_ref === v || (image !== undefined && image.id === row.image_id);
    }) &&
    matchAny(filters, "volume", (v) => mountsOf(e).some((m) => m.volume === v || m.destination === v || m.source === v)) &&
    matchAny(filters, "network", (v) => (c.networks.get(row.id) ?? "").split(",").includes(v)) &&
    matchAny(filters, "health", (v) => healthFilterValue(rowHealth(row, root, state === "running", e.opts)) === v) &&
    matchesPorts(c, e)
  );
}

/** Docker's ps columns (ContainerContext's header map). */
export const PS_SPEC: ListSpec = {
  table: "{{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}",
  headers: {
    ID: "CONTAINER ID", Names: "NAMES", Image: "IMAGE", Command: "COMMAND", CreatedAt: "CREATED AT", RunningFor: "CREATED", Ports: "PORTS",
    State: "STATE", Status: "STATUS", Size: "SIZE", Labels: "LABELS", Mounts: "MOUNTS", LocalVolumes: "LOCAL VOLUMES", Networks: "NETWORKS",
  },
};

export const ellipsis = (s: string, n: number): string => ([...s].length <= n ? s : `${[...s].slice(0, n - 1).join("")}…`);

function sizeText(root: string, r: ContainerRow, db: Database): string {
  let rw = 0;
  try {
    rw = dirSize(join(root, "containers", r.id, "upper"));
  } catch {
    // Not mounted or gone: 0 B.
  }
  const image = findImage(db, r.image_id);
  return `${humanSize(rw)} (virtual ${humanSize(rw + (image?.size ?? 0))})`;
}

/** The daemon's Command of a container (moby daemon/list.go): the path, then each argument,
 *  one holding a space wrapped in single quotes. */
export function commandText(argv: string[]): string {
  const [path = "", ...args] = argv;
  return [path, ...args.map((a) => (a.includes(" ") ? `'${a}'` : a))].join(" ");
}

/** The default table's cells of one row, in PS_SPEC.table's order, as psContext has them. */
function defaultCells(c: Ctx, e: Entry, now: number, trunc: boolean): string[] {
  const r = e.row;
  const command = commandText(JSON.parse(r.command) as string[]);
  return [
    trunc ? r.id.slice(0, 12) : r.id, r.image_ref, JSON.stringify(trunc ? ellipsis(command, 20) : command), `${humanDuration(now - r.created_at)} ago`,
    statusText(r, now, c.root, e.shown, e.opts), c.ports.get(r.id) ?? "", r.name,
  ];
}

const DEFAULT_HEADER = ["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"];

/** `ps`'s default output from the rows' cells: what formatList prints for `table PS_SPEC.table`. */
export function defaultTable(rows: string[][]): string {
  return tabwrite([DEFAULT_HEADER, ...rows].map((cells) => cells.join("\t")).join("\n") + "\n");
}

function psContext(c: Ctx, e: Entry, now: number, o: { trunc: boolean; size: boolean }) {
  const r = e.row;
  const command = commandText(JSON.parse(r.command) as string[]);
  const mounts = mountsOf(e);
  const labels = labelsOf(e);
  return formatContext("*formatter.ContainerContext", {
    ID: o.trunc ? r.id.slice(0, 12) : r.id,
    Names: r.name,
    Image: r.image_ref,
    Command: JSON.stringify(o.trunc ? ellipsis(command, 20) : command),
    CreatedAt: goTime(new Date(r.created_at)),
    RunningFor: `${humanDuration(now - r.created_at)} ago`,
    Ports: c.ports.get(r.id) ?? "",
    State: e.shown,
    Status: statusText(r, now, c.root, e.shown, e.opts),
    Size: o.size ? sizeText(c.root, r, c.db) : "",
    Labels: labelsText(labels),
    Mounts: mounts.map((m) => (o.trunc ? ellipsis(m.volume ?? m.source, 15) : (m.volume ?? m.source))).join(","),
    LocalVolumes: String(mounts.filter((m) => m.volume !== undefined).length),
    Networks: c.networks.get(r.id) || modeNetwork(e),
  }, { Label: labelMethod(labels) });
}

export default defineCommand({
  meta: { name: "ps", description: "List containers" },
  args: cittyArgs(flags),
  run({ rawArgs }) {
    const { flags: f } = parseFlags("ps", flags, rawArgs);
    const filters = psFilters(f.filter);
    if (f.last !== undefined && !/^-?\d+$/.test(f.last)) throw new UsageError(`invalid argument "${f.last}" for "-n, --last" flag: strconv.ParseInt: parsing "${f.last}": invalid syntax`);
    const last = f.latest ? 1 : f.last !== undefined ? Number(f.last) : -1;
    // The rootless fast path: the sizes are of upper dirs with files of other ids.
    if (f.size || (f.format ?? "").includes(".Size")) needNamespace("ps --size reads files of other ids");
    const { root, db } = context();
    // One read of each container's /proc/PID/stat for the reconcile and the listing both.
    const facts = snapshotFacts(root);
    let listed = listContainers(db);
    if (reconcile(db, root, listed, facts)) listed = listContainers(db);
    const now = Date.now();
    const c: Ctx = {
      db, root, filters, before: refRow(db, root, filters.get("before")?.[0]), since: refRow(db, root, filters.get("since")?.[0]),
      facts, ...listingTexts(db),
    };
    // status= shows stopped containers without -a; exited= does not (docker 20.10 does the same).
    const showAll = f.all || filters.has("status") || last > 0;
    let rows = listed.map((r) => entryOf(c, r)).filter((e) => (showAll || e.shown === "running" || e.shown === "paused") && matches(c, e));
    if (last > 0) rows = rows.slice(0, last);
    const trunc = !f["no-trunc"];
    if (f.quiet) {
      if (rows.length) console.log(rows.map((e) => (trunc ? e.row.id.slice(0, 12) : e.row.id)).join("\n"));
      return;
    }
    const size = f.size || (f.format ?? "").includes(".Size");
    const format = f.format === undefined || f.format === "table" ? `table ${PS_SPEC.table}${f.size ? "\\t{{.Size}}" : ""}` : f.format;
    if (format === `table ${PS_SPEC.table}`) {
      // The default columns: the same text the template gives, without a template per row.
      stdout.write(defaultTable(rows.map((e) => defaultCells(c, e, now, trunc))));
      return;
    }
    printList(format, rows.map((r) => psContext(c, r, now, { trunc, size })), PS_SPEC);
  },
});
