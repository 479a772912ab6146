import { defineCommand } from "citty";
import { cittyArgs, parseFlags, type FlagSpec } from "./flags";
import { context } from "./context";
import { UsageError } from "./globals";
import { TsdError } from "../errors";
import { table } from "../format";
import { createNetwork, endpointsOf, endpointsOn, findNetwork, listNetworks, networkByName, type NetworkRow } from "../network/networks";
import { attachEndpoint, detachEndpoint, reconcile, tearDownNetwork } from "../network/attach";
import { findContainer } from "../container/store";
import { reconcile as reconcileContainers } from "../container/state";
import { recordNetworkState } from "../container/record";
import type { Database } from "bun:sqlite";

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

function inspectOne(db: Database, n: NetworkRow) {
  const containers: Record<string, object> = {};
  for (const e of endpointsOn(db, n.name)) {
    const c = db.query("SELECT name FROM containers WHERE id = ?").get(e.container_id) as { name: string } | null;
    containers[e.container_id] = { Name: c?.name ?? "", MacAddress: e.mac, IPv4Address: `${e.ip}/${n.subnet.split("/")[1]}`, Aliases: JSON.parse(e.aliases) };
  }
  return {
    Name: n.name,
    Id: n.id,
    Created: new Date(n.created_at).toISOString(),
    Scope: "local",
    Driver: "bridge",
    IPAM: { Driver: "default", Config: [{ Subnet: n.subnet, Gateway: n.gateway }] },
    Containers: containers,
    Options: { "com.docker.network.bridge.name": n.bridge, "com.docker.network.driver.mtu": String(n.mtu) },
  };
}

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
      return inspectOne(db, n);
    });
    console.log(JSON.stringify(out, null, 4));
  },
});

function removeNetwork(db: Database, root: string, n: NetworkRow): void {
  if (n.builtin) throw new TsdError(`${n.name} is a pre-defined network and cannot be removed`);
  db.transaction(() => {
    const users = endpointsOn(db, n.name);
    if (users.length > 0) throw new TsdError(`error while removing network: network ${n.name} has active endpoints: stop or disconnect them first`);
    tearDownNetwork(root, n);
    db.query("DELETE FROM networks WHERE name = ?").run(n.name);
  }).immediate();
}

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
    // Containers whose monitor died are cleaned up first (their cgroup's processes killed),
    // so their endpoints count as unused.
    reconcileContainers(db, root);
    reconcile(db, root);
    const removed: string[] = [];
    for (const n of listNetworks(db)) {
      if (endpointsOn(db, n.name).length > 0) continue;
      if (n.builtin) {
        // The default network stays; its bridge and NAT go until the next container needs them.
        db.transaction(() => {
          if (endpointsOn(db, n.name).length === 0) tearDownNetwork(root, n);
        }).immediate();
        continue;
      }
      removeNetwork(db, root, n);
      removed.push(n.name);
    }
    if (removed.length) console.log(`Deleted Networks:\n${removed.join("\n")}`);
  },
});

const connectFlags = {
  alias: { kind: "list", description: "Add network-scoped alias for the container", valueHint: "ALIAS" },
  ip: { kind: "string", description: "IPv4 address", valueHint: "IP" },
} satisfies FlagSpec;

function runningContainer(db: Database, ref: string) {
  const row = findContainer(db, ref);
  if (!row) throw new TsdError(`no such container: ${ref}`);
  if (row.state !== "running" || row.pid <= 0) throw new TsdError(`container ${ref} is not running: connect and disconnect apply to running containers`);
  return row;
}

const connect = defineCommand({
  meta: { name: "connect", description: "Connect a running container to a network" },
  args: cittyArgs(connectFlags),
  async run({ rawArgs }) {
    const { flags: f, positionals } = parseFlags("network connect", connectFlags, rawArgs);
    if (positionals.length !== 2) throw new UsageError(`"tsd network connect" requires exactly 2 arguments: NETWORK CONTAINER`);
    const { root, db } = context();
    const n = networkByName(db, root, positionals[0]!);
    const row = runningContainer(db, positionals[1]!);
    const first = endpointsOf(db, row.id).length === 0;
    if (first) throw new TsdError(`container ${positionals[1]} has no bridge network namespace to add to (--network none, host or container:)`);
    await attachEndpoint(db, root, row, n, { aliases: f.alias, ip: f.ip, first: false });
    recordNetworkState(db, root, row.id);
  },
});

const disconnect = defineCommand({
  meta: { name: "disconnect", description: "Disconnect a running container from a network" },
  run({ rawArgs }) {
    const { positionals } = parseFlags("network disconnect", {}, rawArgs);
    if (positionals.length !== 2) throw new UsageError(`"tsd network disconnect" requires exactly 2 arguments: NETWORK CONTAINER`);
    const { root, db } = context();
    const n = findNetwork(db, positionals[0]!);
    if (!n) throw new TsdError(`network ${positionals[0]} not found`);
    const row = runningContainer(db, positionals[1]!);
    detachEndpoint(db, root, row.id, n.name);
  },
});

export default defineCommand({
  meta: { name: "network", description: "Manage networks" },
  subCommands: { create, ls, inspect, rm, prune, connect, disconnect },
});
