import { defineCommand } from "citty";
import { cittyArgs, parseFlags, type FlagSpec } from "./flags";
import { context } from "./context";
import { UsageError } from "./globals";
import { TsdError } from "../errors";
import { humanSize, table } from "../format";
import { renderTemplate } from "../image/inspect";
import { createVolume, dirSize, findVolume, listVolumes, removeVolume, volumeData, volumeInspect, volumeUsers } from "../container/volumes";

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
  format: { kind: "string", description: "Format output: 'json' or 'table'", valueHint: "FORMAT" },
} satisfies FlagSpec;

const ls = defineCommand({
  meta: { name: "ls", description: "List volumes" },
  args: cittyArgs(lsFlags),
  run({ rawArgs }) {
    const { flags: f } = parseFlags("volume ls", lsFlags, rawArgs);
    const { root, db } = context();
    const rows = listVolumes(db);
    if (f.quiet) {
      if (rows.length) console.log(rows.map((v) => v.name).join("\n"));
    } else if (f.format === "json") {
      for (const v of rows) console.log(JSON.stringify({ Driver: "local", Labels: "", Mountpoint: volumeData(root, v.name), Name: v.name, Scope: "local" }));
    } else console.log(table(["DRIVER", "VOLUME NAME"], rows.map((v) => ["local", v.name])));
  },
});

const inspectFlags = {
  format: { kind: "string", short: "f", description: "Format the output using a Go-style template", valueHint: "TEMPLATE" },
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
    if (f.format !== undefined) for (const o of out) console.log(renderTemplate(f.format, o));
    else console.log(JSON.stringify(out, null, 4));
    if (missing.length) throw new TsdError(`no such volume: ${missing.join(", ")}`, 1);
  },
});

const rmFlags = {
  force: { kind: "bool", short: "f", description: "Do not fail on a volume that does not exist" },
} satisfies FlagSpec;

const rm = defineCommand({
  meta: { name: "rm", description: "Remove one or more volumes" },
  args: cittyArgs(rmFlags),
  run({ rawArgs }) {
    const { flags: f, positionals } = parseFlags("volume rm", rmFlags, rawArgs);
    if (positionals.length === 0) throw new UsageError(`"tsd volume rm" requires at least 1 argument: VOLUME...`);
    const { root, db } = context();
    let failed = 0;
    for (const n of positionals) {
      try {
        removeVolume(db, root, n, f.force);
        console.log(n);
      } catch (e) {
        failed++;
        process.stderr.write(`tsd: ${(e as Error).message}\n`);
      }
    }
    if (failed) process.exitCode = 1;
  },
});

const pruneFlags = {
  all: { kind: "bool", short: "a", description: "Remove all unused volumes, not just anonymous ones" },
  force: { kind: "bool", short: "f", description: "Do not prompt for confirmation (tsd never prompts)" },
} satisfies FlagSpec;

const prune = defineCommand({
  meta: { name: "prune", description: "Remove unused local volumes" },
  args: cittyArgs(pruneFlags),
  run({ rawArgs }) {
    const { flags: f } = parseFlags("volume prune", pruneFlags, rawArgs);
    const { root, db } = context();
    const removed: string[] = [];
    let bytes = 0;
    for (const v of listVolumes(db)) {
      if ((!f.all && !v.anonymous) || volumeUsers(db, v.name).length > 0) continue;
      try {
        bytes += dirSize(volumeData(root, v.name));
      } catch {
        // Gone already.
      }
      removeVolume(db, root, v.name, true);
      removed.push(v.name);
    }
    if (removed.length) console.log(`Deleted Volumes:\n${removed.join("\n")}\n`);
    console.log(`Total reclaimed space: ${humanSize(bytes)}`);
  },
});

export default defineCommand({
  meta: { name: "volume", description: "Manage volumes" },
  subCommands: { create, ls, list: ls, inspect, rm, remove: rm, prune },
});
