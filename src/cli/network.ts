import { defineCommand } from "citty";
import { cittyArgs, parseFlags, type FlagSpec } from "./flags";
import { context } from "./context";
import { UsageError } from "./globals";
import { TsdError } from "../errors";
import { table } from "../format";
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
} satisfies FlagSpec;

const ls = defineCommand({
  meta: { name: "ls", description: "List networks" },
  args: cittyArgs(lsFlags),
  run({ rawArgs }) {
    const { flags: f } = parseFlags("network ls", lsFlags, rawArgs);
    const { root, db } = context();
    reconcile(db, root);
    networkByName(db, root, "bridge");
    const rows = listNetworks(db);
    const id = (n: NetworkRow) => (f["no-trunc"] ? n.id : n.id.slice(0, 12));
    if (f.quiet) {
      if (rows.length) console.log(rows.map(id).join("\n"));
      return;
    }
    console.log(table(["NETWORK ID", "NAME", "DRIVER", "SCOPE"], rows.map((n) => [id(n), n.name, "bridge", "local"])));
  },
});

const inspect = defineCommand({
  meta: { name: "inspect", description: "Display detailed information on one or more networks" },
  run({ rawArgs }) {
    const { positionals } = parseFlags("network inspect", {}, rawArgs);
    if (positionals.length === 0) throw new UsageError(`"tsd network inspect" requires at least 1 argument: NETWORK...`);
    const { root, db } = context();
    reconcile(db, root);
    const out = positionals.map((ref) => {
      if (ref === "bridge") networkByName(db, root, "bridge");
      const n = findNetwork(db, ref);
      if (!n) throw new TsdError(`network ${ref} not found`);
      return inspectNetwork(db, n);
    });
    console.log(JSON.stringify(out, null, 4));
  },
});

const rm = defineCommand({
  meta: { name: "rm", description: "Remove one or more networks" },
  run({ rawArgs }) {
    const { positionals } = parseFlags("network rm", {}, rawArgs);
    if (positionals.length === 0) throw new UsageError(`"tsd network rm" requires at least 1 argument: NETWORK...`);
    const { root, db } = context();
    reconcile(db, root);
    let failed = 0;
    for (const ref of positionals) {
      try {
        const n = findNetwork(db, ref);
        if (!n) throw new TsdError(`network ${ref} not found`);
        removeNetwork(db, root, n);
        console.log(ref);
      } catch (e) {
        failed++;
        process.stderr.write(`tsd: ${(e as Error).message}\n`);
      }
    }
    if (failed) process.exitCode = 1;
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
