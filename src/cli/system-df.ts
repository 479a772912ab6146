// `tsd system df [-v] [--format]`: Docker 20.10's summary (TYPE TOTAL ACTIVE SIZE RECLAIMABLE)
// or, with -v, its four tables (cli/command/formatter/disk_usage.go).
import { defineCommand } from "./command";
import { cittyArgs, parseFlags, type FlagSpec } from "./flags";
import { context } from "./context";
import { UsageError } from "./globals";
import { ellipsis, statusText } from "./ps";
import { humanDuration, humanSize } from "../format";
import { context as formatContext, formatList, type ListSpec } from "../format/list";
import { diskUsage, summarise, type DiskUsage, type UsageSummary } from "../system/df";
import { familiarRepository, parseReference } from "../image/reference";
import { TsdError } from "../errors";

const flags = {
  verbose: { kind: "bool", short: "v", description: "Show detailed information on space usage" },
  format: { kind: "string", description: "Pretty-print images using a Go template", valueHint: "FORMAT" },
} satisfies FlagSpec;

const SUMMARY: ListSpec = {
  table: "{{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}",
  headers: { Type: "TYPE", TotalCount: "TOTAL", Active: "ACTIVE", Size: "SIZE", Reclaimable: "RECLAIMABLE" },
};
const IMAGES: ListSpec = {
  table: "{{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}",
  headers: { Repository: "REPOSITORY", Tag: "TAG", ID: "IMAGE ID", CreatedSince: "CREATED", Size: "SIZE", SharedSize: "SHARED SIZE", UniqueSize: "UNIQUE SIZE", Containers: "CONTAINERS" },
};
const CONTAINERS: ListSpec = {
  table: "{{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.RunningFor}}\t{{.Status}}\t{{.Names}}",
  headers: { ID: "CONTAINER ID", Image: "IMAGE", Command: "COMMAND", LocalVolumes: "LOCAL VOLUMES", Size: "SIZE", RunningFor: "CREATED", Status: "STATUS", Names: "NAMES" },
};
const VOLUMES: ListSpec = { table: "{{.Name}}\t{{.Links}}\t{{.Size}}", headers: { Name: "VOLUME NAME", Links: "LINKS", Size: "SIZE" } };
const CACHE: ListSpec = {
  table: "{{.ID}}\t{{.CacheType}}\t{{.Size}}\t{{.CreatedSince}}\t{{.LastUsedSince}}\t{{.UsageCount}}\t{{.Shared}}",
  headers: { ID: "CACHE ID", CacheType: "CACHE TYPE", Size: "SIZE", CreatedSince: "CREATED", LastUsedSince: "LAST USED", UsageCount: "USAGE", Shared: "SHARED" },
};

/** "1.2MB (50%)" as Docker's Reclaimable(); the percentage only over a non-zero total. */
export function reclaimableText(s: UsageSummary): string {
  return s.percent ? `${humanSize(s.reclaimable)} (${Math.trunc((s.reclaimable * 100) / s.size)}%)` : humanSize(s.reclaimable);
}

function summaryRows(u: DiskUsage) {
  return summarise(u).map((s) => formatContext("*formatter.diskUsageContext", {
    Type: s.type, TotalCount: String(s.total), Active: String(s.active), Size: humanSize(s.size), Reclaimable: reclaimableText(s),
  }));
}

function imageRows(u: DiskUsage, now: number) {
  return u.images.flatMap((i) => {
    const base = {
      ID: i.image.id.slice(0, 12), CreatedSince: i.image.created ? `${humanDuration(now - Date.parse(i.image.created))} ago` : "N/A",
      Size: humanSize(i.size), SharedSize: humanSize(i.sharedSize), UniqueSize: humanSize(i.size - i.sharedSize), Containers: String(i.containers),
    };
    const names = i.tags.length ? i.tags.map((t) => parseReference(t)).map((r) => ({ Repository: familiarRepository(r), Tag: r.tag ?? "<none>" })) : [{ Repository: "<none>", Tag: "<none>" }];
    return names.map((n) => formatContext("*formatter.imageContext", { ...base, ...n }));
  });
}

function verbose(u: DiskUsage, root: string): string {
  const now = Date.now();
  const containers = u.containers.map((c) => formatContext("*formatter.ContainerContext", {
    ID: c.row.id.slice(0, 12), Image: c.row.image_ref, Command: JSON.stringify(ellipsis((JSON.parse(c.row.command) as string[]).join(" "), 20)),
    LocalVolumes: String(c.localVolumes), Size: humanSize(c.sizeRw), RunningFor: `${humanDuration(now - c.row.created_at)} ago`,
    Status: statusText(c.row, now, root), Names: c.row.name,
  }));
  const volumes = u.volumes.map((v) => formatContext("*formatter.volumeContext", { Name: v.name, Links: String(v.links), Size: humanSize(v.size) }));
  return [
    "Images space usage:\n\n", formatList(undefined, imageRows(u, now), IMAGES),
    "\nContainers space usage:\n\n", formatList(undefined, containers, CONTAINERS),
    "\nLocal Volumes space usage:\n\n", formatList(undefined, volumes, VOLUMES),
    "\nBuild cache usage: 0B\n\n", formatList(undefined, [], CACHE),
  ].join("");
}

export default defineCommand({
  meta: { name: "df", description: "Show docker disk usage" },
  args: cittyArgs(flags),
  run({ rawArgs }) {
    const { flags: f, positionals } = parseFlags("system df", flags, rawArgs);
    if (positionals.length > 0) throw new UsageError(`"tsd system df" accepts no arguments`);
    if (f.verbose && f.format !== undefined) throw new TsdError("--format and --verbose cannot be used together", 1);
    const { root, db } = context();
    const u = diskUsage(db, root);
    process.stdout.write(f.verbose ? verbose(u, root) : formatList(f.format, summaryRows(u), SUMMARY));
  },
});
