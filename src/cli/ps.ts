import { defineCommand } from "citty";
import { cittyArgs, parseFlags, type FlagSpec } from "./flags";
import { context } from "./context";
import { UsageError } from "./globals";
import { TsdError } from "../errors";
import { listContainers, type ContainerRow } from "../container/store";
import { isRunning, shownState } from "../container/state";
import { lookup, reconcile } from "../container/resolve";
import { decodeOptions } from "../container/options";
import { dirSize } from "../container/volumes";
import { humanDuration, humanSize } from "../format";
import { context as formatContext, labelMethod, labelsText, printList, type ListSpec } from "../format/list";
import { matchAny, matchLabels, parseFilters, type Filters, matchPattern } from "../format/filters";
import { goTime } from "../format/time";
import { findImage } from "../image/store";
import { networksText, portsText } from "../network/attach";
import { join } from "node:path";
import type { Database } from "bun:sqlite";
import { containerDir } from "../store/paths";
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

export function statusText(row: ContainerRow, now: number, root?: string): string {
  const state = shownState(row, root);
  if (state === "running") return `Up ${humanDuration(now - (row.started_at ?? row.created_at))}${root ? healthSuffix(rowHealth(row, root, true)) : ""}`;
  if (state === "paused") return `Up ${humanDuration(now - (row.started_at ?? row.created_at))} (Paused)`;
  if (state === "created") return "Created";
  const word = state === "restarting" ? "Restarting" : "Exited";
  return `${word} (${row.exit_code ?? -1}) ${humanDuration(now - (row.finished_at ?? now))} ago`;
}

/** The container's health (health.json), for STATUS and --filter health=. */
function rowHealth(row: ContainerRow, root: string, running: boolean): HealthState | undefined {
  return readHealth(containerDir(root, row.id), decodeOptions(row.options).healthcheck, running);
}

const FILTER_KEYS = ["id", "name", "label", "exited", "status", "ancestor", "before", "since", "volume", "network", "health"] as const;
const STATES = ["created", "restarting", "running", "removing", "paused", "exited", "dead"];

/** Docker's --filter for ps (moby daemon/list.go): values of one key OR, keys AND. */
export function psFilters(list: string[]): Filters {
  const filters = parseFilters(list, FILTER_KEYS);
  for (const v of filters.get("status") ?? []) if (!STATES.includes(v)) throw new TsdError(`Invalid filter 'status=${v}'`, 1);
  for (const v of filters.get("exited") ?? []) if (!/^-?\d+$/.test(v)) throw new TsdError(`strconv.Atoi: parsing "${v}": invalid syntax`, 1);
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
}

function refRow(db: Database, root: string, ref: string | undefined): ContainerRow | undefined {
  if (ref === undefined) return undefined;
  const row = lookup(db, root, ref);
  if (!row) throw new TsdError(`No such container: ${ref}`, 1);
  return row;
}

function mountsOf(r: ContainerRow) {
  try {
    return decodeOptions(r.options).volumes;
  } catch {
    return [];
  }
}

/** --network none|host|container:X holds no address: docker's Networks column names the mode. */
function modeNetwork(r: ContainerRow): string {
  try {
    const n = decodeOptions(r.options).network ?? "";
    return n === "none" || n === "host" ? n : "";
  } catch {
    return "";
  }
}

function labelsOf(r: ContainerRow): Record<string, string> {
  try {
    return ((decodeOptions(r.options) as { labels?: Record<string, string> }).labels ?? {}) as Record<string, string>;
  } catch {
    return {};
  }
}

function matches(c: Ctx, row: ContainerRow): boolean {
  const { db, root, filters } = c;
  const state = shownState(row, root);
  if (c.before && row.created_at >= c.before.created_at) return false;
  if (c.since && row.created_at <= c.since.created_at) return false;
  return (
    matchAny(filters, "status", (v) => state === v) &&
    matchAny(filters, "name", (v) => matchPattern(v, `/${row.name}`)) &&
    matchAny(filters, "id", (v) => matchPattern(v, row.id)) &&
    matchLabels(filters, labelsOf(row)) &&
    matchAny(filters, "exited", (v) => state === "exited" && row.started_at !== null && (row.exit_code ?? -1) === Number(v)) &&
    matchAny(filters, "ancestor", (v) => {
      const image = findImage(db, v);
      return row.image_ref === v || (image !== undefined && image.id === row.image_id);
    }) &&
    matchAny(filters, "volume", (v) => mountsOf(row).some((m) => m.volume === v || m.destination === v || m.source === v)) &&
    matchAny(filters, "network", (v) => networksText(db, row.id).split(",").includes(v)) &&
    matchAny(filters, "health", (v) => healthFilterValue(rowHealth(row, root, state === "running")) === v)
  );
}

/** Docker's ps columns (ContainerContext's header map). */
const PS_SPEC: ListSpec = {
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

function psContext(c: Ctx, r: ContainerRow, now: number, o: { trunc: boolean; size: boolean }) {
  const command = commandText(JSON.parse(r.command) as string[]);
  const mounts = mountsOf(r);
  const labels = labelsOf(r);
  return formatContext("*formatter.ContainerContext", {
    ID: o.trunc ? r.id.slice(0, 12) : r.id,
    Names: r.name,
    Image: r.image_ref,
    Command: JSON.stringify(o.trunc ? ellipsis(command, 20) : command),
    CreatedAt: goTime(new Date(r.created_at)),
    RunningFor: `${humanDuration(now - r.created_at)} ago`,
    Ports: portsText(c.db, r.id),
    State: shownState(r, c.root),
    Status: statusText(r, now, c.root),
    Size: o.size ? sizeText(c.root, r, c.db) : "",
    Labels: labelsText(labels),
    Mounts: mounts.map((m) => (o.trunc ? ellipsis(m.volume ?? m.source, 15) : (m.volume ?? m.source))).join(","),
    LocalVolumes: String(mounts.filter((m) => m.volume !== undefined).length),
    Networks: networksText(c.db, r.id) || modeNetwork(r),
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
    const { root, db } = context();
    reconcile(db, root);
    const now = Date.now();
    const c: Ctx = { db, root, filters, before: refRow(db, root, filters.get("before")?.[0]), since: refRow(db, root, filters.get("since")?.[0]) };
    // status= shows stopped containers without -a; exited= does not (docker 20.10 does the same).
    const showAll = f.all || filters.has("status") || last > 0;
    let rows = listContainers(db).filter((r) => (showAll || isRunning(r)) && matches(c, r));
    if (last > 0) rows = rows.slice(0, last);
    const trunc = !f["no-trunc"];
    if (f.quiet) {
      if (rows.length) console.log(rows.map((r) => (trunc ? r.id.slice(0, 12) : r.id)).join("\n"));
      return;
    }
    const size = f.size || (f.format ?? "").includes(".Size");
    const format = f.format === undefined || f.format === "table" ? `table ${PS_SPEC.table}${f.size ? "\\t{{.Size}}" : ""}` : f.format;
    printList(format, rows.map((r) => psContext(c, r, now, { trunc, size })), PS_SPEC);
  },
});
