import { defineCommand } from "./command";
import { parseFlags } from "./flags";
import { context } from "./context";
import { UsageError } from "./globals";
import { TsdError } from "../errors";
import { mustFind } from "../container/resolve";
import { portsOf } from "../network/attach";
import { reconcileNetwork } from "../container/network";

export default defineCommand({
  meta: { name: "port", description: "List port mappings or a specific mapping for the container" },
  run({ rawArgs }) {
    const { positionals } = parseFlags("port", {}, rawArgs);
    if (positionals.length < 1 || positionals.length > 2) throw new UsageError(`"tsd port" requires 1 or 2 arguments: CONTAINER [PRIVATE_PORT[/PROTO]]`);
    const { root, db } = context();
    reconcileNetwork(db, root);
    const row = mustFind(db, root, positionals[0]!);
    let ports = portsOf(db, row.id);
    const want = positionals[1];
    if (want !== undefined) {
      const [p, proto = "tcp"] = want.split("/");
      ports = ports.filter((r) => String(r.container_port) === p && r.proto === proto);
      if (ports.length === 0) throw new TsdError(`no public port '${want}' published for ${positionals[0]}`);
      for (const r of ports) console.log(`${r.host_ip}:${r.host_port}`);
      return;
    }
    for (const r of ports) console.log(`${r.container_port}/${r.proto} -> ${r.host_ip}:${r.host_port}`);
  },
});
