import { defineCommand } from "./command";
import { eachRef } from "./each";
import { cittyArgs, parseFlags, type FlagSpec } from "./flags";
import { context } from "./context";
import { UsageError } from "./globals";
import { TsdError } from "../errors";
import { humanSize } from "../format";
import { context as formatContext, labelMethod, labelsText, printList, type ListSpec } from "../format/list";
import { boolFilter, matchAny, matchLabels, parseFilters, matchPattern } from "../format/filters";
import { printInspect } from "../format/inspect";
import { type VolumeRow, createVolume, findVolume, listVolumes, pruneVolumes, removeVolume, volumeData, volumeInspect, volumeLabels, volumeUsers } from "../container/volumes";

const createFlags = {
  label: { kind: "list", description: "Set metadata for a volume", valueHint: "KEY=VALUE" },
  driver: { kind: "string", short: "d", description: 'Volume driver name (only "local")', valueHint: "DRIVER" },
} satisfies FlagSpec;

const create = defineCommand({
  meta: { name: "create", description: "Create a volume" },
  args: cittyArgs(createFlags),
  run({ rawArgs }) {
    const { flags: f, positionals } = parseFlags("volume create", createFlags, rawArgs);
    if (positionals.length > 1) throw new UsageError(`"tsd volume create" takes at most 1 argument: [VOLUME]`);
    if (f.driver !== undefined && f.driver !== "local") throw new UsageError(`volume driver "${f.driver}" is not supported: only local`);
    const labels = Object.fromEntries(f.label.map((l) => [l.split("=", 1)[0]!, l.includes("=") ? l.slice(l.indexOf("=") + 1) : ""]));
    const { root, db } = context();
    console.log(createVolume(db, root, positionals[0], { labels }).name);
  },
});

const lsFlags = {
  quiet: { kind: "bool", short: "q", description: "Only display volume names" },
  format: { kind: "string", description: "Pretty-print volumes using a Go template, or json", valueHint: "FORMAT" },
  filter: { kind: "list", short: "f", description: "Provide filter values: name, label, dangling=BOOL, driver", valueHint: "KEY=VALUE" },
} satisfies FlagSpec;

/** Docker's volume ls columns (volumeContext's header map). */
const VOLUME_SPEC: ListSpec = {
  table: "{{.Driver}}\t{{.Name}}",
  headers: { Name: "VOLUME NAME", Driver: "DRIVER", Scope: "SCOPE", Mountpoint: "MOUNTPOINT", Labels: "LABELS", Links: "LINKS", Size: "SIZE" },
};

const labelsOf = volumeLabels;


/** moby's volume filters: name (a regular expression), label, dangling, driver. */
export function volumeFilter(list: string[], inUse: (name: string) => boolean): (v: VolumeRow) => boolean {
  const f = parseFilters(list, ["name", "label", "dangling", "driver"]);
  const dangling = (f.get("dangling") ?? []).map((d) => boolFilter("dangling", d));
  return (v) =>
    matchAny(f, "name", (p) => matchPattern(p, v.name)) &&
    matchAny(f, "driver", (p) => matchPattern(p, "local")) &&
    matchLabels(f, labelsOf(v)) &&
    dangling.every((d) => !inUse(v.name) === d);
}

const ls = defineCommand({
  meta: { name: "ls", description: "List volumes" },
  args: cittyArgs(lsFlags),
  run({ rawArgs }) {
    const { flags: f } = parseFlags("volume ls", lsFlags, rawArgs);
    const { root, db } = context();
    const keep = volumeFilter(f.filter, (name) => volumeUsers(db, name).length > 0);
    const rows = listVolumes(db).filter(keep);
    if (f.quiet) {
      if (rows.length) console.log(rows.map((v) => v.name).join("\n"));
      return;
    }
    const contexts = rows.map((v) =>
      formatContext("*formatter.volumeContext", {
        Driver: "local", Labels: labelsText(labelsOf(v)), Links: "N/A", Mountpoint: volumeData(root, v.name), Name: v.name, Scope: "local", Size: "N/A",
      }, { Label: labelMethod(labelsOf(v)) }),
    );
    printList(f.format, contexts, VOLUME_SPEC);
  },
});

const inspectFlags = {
  format: { kind: "string", short: "f", description: "Format the output using a Go template", valueHint: "TEMPLATE" },
} satisfies FlagSpec;

const inspect = defineCommand({
  meta: { name: "inspect", description: "Display detailed information on one or more volumes" },
  args: cittyArgs(inspectFlags),
  run({ rawArgs }) {
    const { flags: f, positionals } = parseFlags("volume inspect", inspectFlags, rawArgs);
    if (positionals.length === 0) throw new UsageError(`"tsd volume inspect" requires at least 1 argument: VOLUME...`);
    const { root, db } = context();
    const out = [];
    const missing = [];
    for (const n of positionals) {
      const v = findVolume(db, n);
      if (v) out.push(volumeInspect(root, v));
      else missing.push(n);
    }
    const errors = printInspect(f.format, out);
    if (missing.length) errors.push(`no such volume: ${missing.join(", ")}`);
    if (errors.length) throw new TsdError(errors.join("\n"), 1);
  },
});

const rmFlags = {
  force: { kind: "bool", short: "f", description: "Do not fail on a volume that does not exist" },
} satisfies FlagSpec;

const rm = defineCommand({
  meta: { name: "rm", description: "Remove one or more volumes" },
  args: cittyArgs(rmFlags),
  async run({ rawArgs }) {
    const { flags: f, positionals } = parseFlags("volume rm", rmFlags, rawArgs);
    if (positionals.length === 0) throw new UsageError(`"tsd volume rm" requires at least 1 argument: VOLUME...`);
    const { root, db } = context();
    await eachRef(positionals, (n) => removeVolume(db, root, n, f.force));
  },
});

const pruneFlags = {
  all: { kind: "bool", short: "a", description: "Remove all unused volumes, not just anonymous ones" },
  filter: { kind: "list", description: "Provide filter values: label=KEY[=VALUE], label!=KEY[=VALUE]", valueHint: "KEY=VALUE" },
  force: { kind: "bool", short: "f", description: "Do not prompt for confirmation (tsd never prompts)" },
} satisfies FlagSpec;

const prune = defineCommand({
  meta: { name: "prune", description: "Remove unused local volumes" },
  args: cittyArgs(pruneFlags),
  run({ rawArgs }) {
    const { flags: f } = parseFlags("volume prune", pruneFlags, rawArgs);
    const filters = parseFilters(f.filter, ["label", "label!", "all"]);
    const all = f.all || (filters.get("all") ?? []).some((v) => boolFilter("all", v));
    const { root, db } = context();
    const { removed, bytes } = pruneVolumes(db, root, all, (v) => {
      const labels = labelsOf(v);
      return matchLabels(filters, labels) && !((filters.get("label!") ?? []).length > 0 && matchLabels(filters, labels, "label!"));
    });
    if (removed.length) console.log(`Deleted Volumes:\n${removed.join("\n")}\n`);
    console.log(`Total reclaimed space: ${humanSize(bytes)}`);
  },
});

export default defineCommand({
  meta: { name: "volume", description: "Manage volumes" },
  subCommands: { create, ls, list: ls, inspect, rm, remove: rm, prune },
});
