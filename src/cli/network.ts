import { defineCommand } from "./command";
import { eachRef } from "./each";
import { cittyArgs, parseFlags, type FlagSpec } from "./flags";
import { context } from "./context";
import { UsageError } from "./globals";
import { TsdError } from "../errors";
import { context as formatContext, labelMethod, printList, type ListSpec } from "../format/list";
import { matchAny, matchLabels, parseFilters, matchPattern } from "../format/filters";
import { goTime } from "../format/time";
import { printInspect } from "../format/inspect";
import { createNetwork, findNetwork, listNetworks, networkByName, type NetworkRow } from "../network/networks";
import { inspectNetwork, removeNetwork } from "../network/ops";
import { reconcileNetwork as reconcile } from "../container/network";
import { connectNetwork, disconnectNetwork, pruneNetworks } from "../container/network-commands";

const createFlags = {
  subnet: { kind: "string", description: "Subnet in CIDR format", valueHint: "CIDR" },
  gateway: { kind: "string", description: "IPv4 gateway for the subnet", valueHint: "IP" },
  driver: { kind: "string", short: "d", description: "Driver to manage the network (bridge only)", valueHint: "DRIVER" },
  opt: { kind: "list", short: "o", description: "Driver options: com.docker.network.bridge.name=NAME, com.docker.network.driver.mtu=N", valueHint: "KEY=VALUE" },
} satisfies FlagSpec;

const create = defineCommand({
  meta: { name: "create", description: "Create a network" },
  args: cittyArgs(createFlags),
  run({ rawArgs }) {
    const { flags: f, positionals } = parseFlags("network create", createFlags, rawArgs);
    if (positionals.length !== 1) throw new UsageError(`"tsd network create" requires exactly 1 argument: NAME`);
    if (f.driver !== undefined && f.driver !== "bridge") throw new UsageError(`network driver "${f.driver}" is not supported: use bridge`);
    let bridge: string | undefined;
    let mtu: number | undefined;
    for (const o of f.opt) {
      const [k, v] = [o.slice(0, o.indexOf("=")), o.slice(o.indexOf("=") + 1)];
      if (k === "com.docker.network.bridge.name") bridge = v;
      else if (k === "com.docker.network.driver.mtu" && /^\d+$/.test(v) && Number(v) >= 68) mtu = Number(v);
      else throw new UsageError(`unsupported network option "${o}"`);
    }
    const { db } = context();
    const n = createNetwork(db, { name: positionals[0]!, subnet: f.subnet, gateway: f.gateway, bridge, mtu });
    console.log(n.id);
  },
});

const lsFlags = {
  quiet: { kind: "bool", short: "q", description: "Only display network IDs" },
  "no-trunc": { kind: "bool", description: "Do not truncate the output" },
  filter: { kind: "list", short: "f", description: "Provide filter values: name, id, driver, label, type=custom|builtin, scope", valueHint: "KEY=VALUE" },
  format: { kind: "string", description: "Pretty-print networks using a Go template, or json", valueHint: "FORMAT" },
} satisfies FlagSpec;

/** Docker's network ls columns (networkContext's header map). */
const NETWORK_SPEC: ListSpec = {
  table: "{{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}",
  headers: { ID: "NETWORK ID", Name: "NAME", Driver: "DRIVER", Scope: "SCOPE", IPv6: "IPV6", Internal: "INTERNAL", Labels: "LABELS", CreatedAt: "CREATED" },
};


/** moby's network filters: name and id as regular expressions, driver, label, type, scope. */
export function networkFilter(list: string[]): (n: NetworkRow) => boolean {
  const f = parseFilters(list, ["name", "id", "driver", "label", "type", "scope"]);
  for (const t of f.get("type") ?? []) if (t !== "custom" && t !== "builtin") throw new TsdError(`invalid filter: 'type'='${t}'`, 1);
  return (n) =>
    matchAny(f, "name", (v) => matchPattern(v, n.name)) &&
    matchAny(f, "id", (v) => matchPattern(v, n.id)) &&
    matchAny(f, "driver", (v) => v === "bridge") &&
    matchAny(f, "scope", (v) => v === "local") &&
    matchAny(f, "type", (v) => (v === "builtin") === (n.builtin === 1)) &&
    matchLabels(f, {});
}

const ls = defineCommand({
  meta: { name: "ls", description: "List networks" },
  args: cittyArgs(lsFlags),
  run({ rawArgs }) {
    const { flags: f } = parseFlags("network ls", lsFlags, rawArgs);
    const { root, db } = context();
    reconcile(db, root);
    networkByName(db, root, "bridge");
    const keep = networkFilter(f.filter);
    const rows = listNetworks(db).filter(keep);
    const id = (n: NetworkRow) => (f["no-trunc"] ? n.id : n.id.slice(0, 12));
    if (f.quiet) {
      if (rows.length) console.log(rows.map(id).join("\n"));
      return;
    }
    const contexts = rows.map((n) =>
      formatContext("*formatter.networkContext", {
        ID: id(n), Name: n.name, Driver: "bridge", Scope: "local", IPv6: "false", Internal: "false", Labels: "", CreatedAt: goTime(new Date(n.created_at)),
      }, { Label: labelMethod({}) }),
    );
    printList(f.format, contexts, NETWORK_SPEC);
  },
});

const inspectFlags = {
  format: { kind: "string", short: "f", description: "Format the output using a Go template", valueHint: "TEMPLATE" },
} satisfies FlagSpec;

const inspect = defineCommand({
  meta: { name: "inspect", description: "Display detailed information on one or more networks" },
  args: cittyArgs(inspectFlags),
  run({ rawArgs }) {
    const { flags: f, positionals } = parseFlags("network inspect", inspectFlags, rawArgs);
    if (positionals.length === 0) throw new UsageError(`"tsd network inspect" requires at least 1 argument: NETWORK...`);
    const { root, db } = context();
    reconcile(db, root);
    const out: unknown[] = [];
    const missing: string[] = [];
    for (const ref of positionals) {
      if (ref === "bridge") networkByName(db, root, "bridge");
      const n = findNetwork(db, ref);
      if (n) out.push(inspectNetwork(db, n));
      else missing.push(ref);
    }
    if (missing.length > 0 && out.length === 0 && f.format === undefined) throw new TsdError(`network ${missing[0]} not found`);
    const errors = printInspect(f.format, out);
    for (const m of missing) errors.push(`network ${m} not found`);
    if (errors.length > 0) throw new TsdError(errors.join("\n"), 1);
  },
});

const rm = defineCommand({
  meta: { name: "rm", description: "Remove one or more networks" },
  async run({ rawArgs }) {
    const { positionals } = parseFlags("network rm", {}, rawArgs);
    if (positionals.length === 0) throw new UsageError(`"tsd network rm" requires at least 1 argument: NETWORK...`);
    const { root, db } = context();
    reconcile(db, root);
    await eachRef(positionals, (ref) => {
      const n = findNetwork(db, ref);
      if (!n) throw new TsdError(`network ${ref} not found`);
      removeNetwork(db, root, n);
    });
  },
});

const pruneFlags = { force: { kind: "bool", short: "f", description: "Do not prompt for confirmation" } } satisfies FlagSpec;

const prune = defineCommand({
  meta: { name: "prune", description: "Remove all unused networks (and the default bridge's link and NAT while unused)" },
  args: cittyArgs(pruneFlags),
  run({ rawArgs }) {
    parseFlags("network prune", pruneFlags, rawArgs);
    const { root, db } = context();
    const removed = pruneNetworks(db, root);
    if (removed.length) console.log(`Deleted Networks:\n${removed.join("\n")}`);
  },
});

const connectFlags = {
  alias: { kind: "list", description: "Add network-scoped alias for the container", valueHint: "ALIAS" },
  ip: { kind: "string", description: "IPv4 address", valueHint: "IP" },
} satisfies FlagSpec;

const connect = defineCommand({
  meta: { name: "connect", description: "Connect a running container to a network" },
  args: cittyArgs(connectFlags),
  async run({ rawArgs }) {
    const { flags: f, positionals } = parseFlags("network connect", connectFlags, rawArgs);
    if (positionals.length !== 2) throw new UsageError(`"tsd network connect" requires exactly 2 arguments: NETWORK CONTAINER`);
    const { root, db } = context();
    await connectNetwork(db, root, positionals[0]!, positionals[1]!, { aliases: f.alias, ip: f.ip });
  },
});

const disconnect = defineCommand({
  meta: { name: "disconnect", description: "Disconnect a running container from a network" },
  run({ rawArgs }) {
    const { positionals } = parseFlags("network disconnect", {}, rawArgs);
    if (positionals.length !== 2) throw new UsageError(`"tsd network disconnect" requires exactly 2 arguments: NETWORK CONTAINER`);
    const { root, db } = context();
    disconnectNetwork(db, root, positionals[0]!, positionals[1]!);
  },
});

export default defineCommand({
  meta: { name: "network", description: "Manage networks" },
  subCommands: { create, ls, inspect, rm, prune, connect, disconnect },
});
