// Host ports claimed for a container's -p/-P: a `ports` row each (what ps, port and inspect
// show, and what a release frees) after a bind test on the host. Shared by the bridge's NAT
// (attach.ts) and rootless pasta's port forwarding (pasta.ts).
import type { Database } from "bun:sqlite";
import { TsdError } from "../errors";
import type { NatPort } from "./nat";
import type { PortSpec } from "./ports";

async function hostPortFree(p: { hostIp: string; hostPort: number; proto: "tcp" | "udp" }): Promise<boolean> {
  try {
    if (p.proto === "tcp") {
      const l = Bun.listen({ hostname: p.hostIp, port: p.hostPort, socket: { data() {} } });
      l.stop(true);
    } else {
      const s = await Bun.udpSocket({ hostname: p.hostIp, port: p.hostPort });
      s.close();
    }
    return true;
  } catch {
    return false;
  }
}

function conflicts(db: Database, p: { hostIp: string; hostPort: number; proto: string }): boolean {
  return !!db
    .query("SELECT 1 FROM ports WHERE host_port = ? AND proto = ? AND (host_ip = ? OR host_ip = '0.0.0.0' OR ? = '0.0.0.0')")
    .get(p.hostPort, p.proto, p.hostIp, p.hostIp);
}

/** Whatever frees the rows and leases of dead holders (the network reconcile), run at most once. */
export type Reclaim = () => void;

/** Claims a host port for each spec (a random free one for port 0); a taken port is an error.
 *  Claimed one by one, a row each, so a failure's release finds them. */
export async function claimPorts(db: Database, id: string, specs: PortSpec[], containerIp: string, reclaim?: Reclaim): Promise<NatPort[]> {
  const claimedPorts: NatPort[] = [];
  const once = { reclaim };
  for (const s of specs) claimedPorts.push(await claimPort(db, id, s, containerIp, once));
  return claimedPorts;
}

/**
 * One host port's row: the asked one, or a random free one for `-p 80`. An asked port another
 * container's row holds is reclaimed once (its holder may be dead) before it is an error.
 */
async function claimPort(db: Database, id: string, s: PortSpec, containerIp: string, once: { reclaim?: Reclaim | undefined }): Promise<NatPort> {
  const pick = s.hostPort === 0;
  let hostPort = s.hostPort;
  for (let attempt = 0; ; attempt++) {
    if (pick) hostPort = 32768 + Math.floor(Math.random() * (60999 - 32768));
    const p: NatPort = { hostIp: s.hostIp, hostPort, proto: s.proto, containerIp, containerPort: s.containerPort };
    const rowFree = !conflicts(db, p);
    const claimed = rowFree && (await hostPortFree(p)) && db.transaction(() => {
      if (conflicts(db, p)) return false;
      db.query("INSERT INTO ports (container_id, host_ip, host_port, proto, container_ip, container_port) VALUES (?, ?, ?, ?, ?, ?)").run(
        id, p.hostIp, p.hostPort, p.proto, p.containerIp, p.containerPort,
      );
      return true;
    }).immediate();
    if (claimed) return p;
    if (!pick && !rowFree && once.reclaim) {
      const reclaim = once.reclaim;
      once.reclaim = undefined;
      reclaim();
      continue;
    }
    if (!pick || attempt >= 50) {
      throw new TsdError(`cannot publish ${s.hostIp}:${hostPort}/${s.proto}: the port is already allocated; choose another host port`);
    }
  }
}
