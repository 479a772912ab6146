// Names by DNS on user networks (src/network/dns.ts, zig/monitor/dns_server.zig): a
// container's nslookup reaches the network's resolver at the gateway, which answers names,
// aliases and short ids of that network only and relays the rest to an upstream this test
// runs on 127.77.N.1:53 (network.json "dns_upstream": no query ever leaves the machine).
// The resolver lives exactly as long as the network has endpoints, survives garbage, and
// nothing of it is left after rm, network rm or a SIGKILL of everything.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Database } from "bun:sqlite";
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import type { udp } from "bun";
import { TSD, TestRoot } from "../lib/tsd";
import { testImages } from "../lib/fixtures";

const N = process.pid % 250;
const BRIDGE = `td${process.pid}b0`;
const NET1 = `10.237.${N}`; // .0/24
const NET2 = `10.238.${N}`; // .0/24
const UPSTREAM = `127.77.${N}.1`;

setDefaultTimeout(30000);

let t: TestRoot;
let upstream: udp.Socket<"buffer">;
const upstreamSaw: string[] = [];

function sh(cmd: string): { code: number; out: string } {
  const p = Bun.spawnSync(["sh", "-c", cmd], { stdout: "pipe", stderr: "pipe" });
  return { code: p.exitCode ?? 1, out: p.stdout.toString() + p.stderr.toString() };
}

/** The question's name of a DNS query, dotted (no compression in a client's query). */
function qname(pkt: Buffer): { name: string; end: number } {
  const labels: string[] = [];
  let pos = 12;
  while (pos < pkt.length && pkt[pos]! > 0 && pkt[pos]! < 64) {
    labels.push(pkt.subarray(pos + 1, pos + 1 + pkt[pos]!).toString());
    pos += 1 + pkt[pos]!;
  }
  return { name: labels.join("."), end: pos + 5 };
}

/** The test's upstream: upstream.test A 192.0.2.7, everything else NXDOMAIN. */
function answer(pkt: Buffer): Buffer {
  const { name, end } = qname(pkt);
  upstreamSaw.push(name);
  const qtype = pkt.readUInt16BE(end - 4);
  const known = name.toLowerCase() === "upstream.test";
  const header = Buffer.alloc(12);
  pkt.copy(header, 0, 0, 2);
  header.writeUInt16BE(known ? 0x8180 : 0x8183, 2);
  header.writeUInt16BE(1, 4);
  const records = known && qtype === 1 ? Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 30, 0, 4, 192, 0, 2, 7]) : Buffer.alloc(0);
  header.writeUInt16BE(records.length ? 1 : 0, 6);
  return Buffer.concat([header, pkt.subarray(12, end), records]);
}

function networkId(name: string): string {
  const out = Bun.spawnSync([TSD, "--root", t.dir, "network", "inspect", name]).stdout.toString();
  return (JSON.parse(out) as { Id: string }[])[0]!.Id;
}

/** The resolver's pid as recorded, or undefined (no file). */
function resolverPid(netId: string): number | undefined {
  try {
    return Number(readFileSync(`${t.dir}/networks/${netId}/dns.pid`, "utf8").split(" ")[0]);
  } catch {
    return undefined;
  }
}

/** Alive and not a zombie waiting for its reaper. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(")") + 2));
  } catch {
    return false;
  }
}

async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 100 && alive(pid); i++) await Bun.sleep(50);
  return !alive(pid);
}

/** Live processes serving `netId` (by their argv: --dir <root>/networks/<id>). */
function resolversOf(netId: string): number[] {
  return readdirSync("/proc").filter((p) => /^\d+$/.test(p)).filter((p) => {
    try {
      return readFileSync(`/proc/${p}/cmdline`, "utf8").includes(`${t.dir}/networks/${netId}\0`);
    } catch {
      return false;
    }
  }).map(Number).filter(alive);
}

async function lookup(network: string, name: string): Promise<{ code: number; out: string }> {
  const r = await t.tsd(["run", "--rm", "--network", network, "busybox", "nslookup", name]);
  return { code: r.code, out: r.stdout + r.stderr };
}

async function idOf(name: string): Promise<string> {
  return (await t.ok(["inspect", "-f", "{{.Id}}", name])).trim();
}

beforeAll(async () => {
  const images = await testImages();
  t = new TestRoot("dns");
  writeFileSync(`${t.dir}/network.json`, JSON.stringify({ bridge: BRIDGE, subnet: `10.239.${N}.0/24`, dns_upstream: [UPSTREAM] }));
  upstream = await Bun.udpSocket({ hostname: UPSTREAM, port: 53, socket: { data: (s, buf, port, addr) => void s.send(answer(buf), port, addr) } });
  await t.ok(["load", "-i", images.busyboxDocker]);
  await t.ok(["network", "create", "--subnet", `${NET1}.0/24`, "-o", `com.docker.network.bridge.name=td${process.pid}b1`, "dnsnet1"]);
  await t.ok(["network", "create", "--subnet", `${NET2}.0/24`, "-o", `com.docker.network.bridge.name=td${process.pid}b2`, "dnsnet2"]);
});

afterAll(async () => {
  upstream?.close();
  await t.tsd(["rm", "-f", ...(await t.tsd(["ps", "-aq"])).stdout.split("\n").filter(Boolean)]);
  await t.tsd(["network", "prune", "-f"]);
  for (const b of [BRIDGE, `td${process.pid}b1`, `td${process.pid}b2`]) sh(`ip link del ${b} 2>/dev/null`);
  await t.destroy();
});

describe("resolver on a user network", () => {
  test("names, aliases and short ids of the network; other networks' names and departed containers are NXDOMAIN; the rest is forwarded", async () => {
    await t.ok(["run", "-d", "--name", "web", "--network", "dnsnet1", "--network-alias", "front", "--ip", `${NET1}.20`, "busybox", "sleep", "300"]);
    await t.ok(["run", "-d", "--name", "leaver", "--network", "dnsnet1", "--ip", `${NET1}.21`, "busybox", "sleep", "300"]);
    await t.ok(["run", "-d", "--name", "elsewhere", "--network", "dnsnet2", "busybox", "sleep", "300"]);
    const conf = await t.tsd(["run", "--rm", "--network", "dnsnet1", "busybox", "cat", "/etc/resolv.conf"]);
    expect(conf.stdout).toMatch(new RegExp(`^nameserver ${NET1}\\.1$`, "m"));
    expect(conf.stdout).not.toContain(UPSTREAM);
    const webId = (await idOf("web")).slice(0, 12);
    // One container runs every lookup (a start per name would make this slow).
    const r = await t.tsd(["run", "--rm", "--network", "dnsnet1", "busybox", "sh", "-c",
      `for n in web FRONT ${webId} leaver; do nslookup $n; echo "rc=$?"; done`]);
    expect(r.stdout.match(/rc=0/g)?.length).toBe(4);
    for (const n of ["web", "FRONT", webId]) expect(r.stdout).toContain(`Name:\t${n}\nAddress: ${NET1}.20\n`);
    expect(r.stdout).toContain(`Name:\tleaver\nAddress: ${NET1}.21\n`);
    // Only A records: AAAA of a known name is empty, not forwarded.
    expect(upstreamSaw.filter((n) => n === "web" || n === "front")).toEqual([]);
    // Another network's container does not resolve here (forwarded, and the upstream says no).
    const other = await lookup("dnsnet1", "elsewhere");
    expect(other.code).not.toBe(0);
    expect(other.out).toContain("NXDOMAIN");
    expect(upstreamSaw).toContain("elsewhere");
    // …but does on its own network.
    const own = await lookup("dnsnet2", "elsewhere");
    expect(own.out).toMatch(new RegExp(`Address: ${NET2}\\.\\d+`));
    // Forwarding: the upstream's answer, relayed.
    const up = await lookup("dnsnet1", "upstream.test");
    expect(up.code).toBe(0);
    expect(up.out).toContain("Address: 192.0.2.7");
    // A container that left the network (disconnect) no longer resolves.
    await t.ok(["network", "disconnect", "dnsnet1", "leaver"]);
    const left = await lookup("dnsnet1", "leaver");
    expect(left.out).toContain("NXDOMAIN");
    // Reverse lookups of the network's addresses are answered from the table.
    const ptr = await lookup("dnsnet1", `${NET1}.20`);
    expect(ptr.out).toContain("name = web");
    await t.ok(["rm", "-f", "web", "leaver", "elsewhere"]);
  });

  test("lives from the first endpoint to the last; network rm and a SIGKILL of everything leave nothing", async () => {
    const net = networkId("dnsnet1");
    expect(existsSync(`${t.dir}/networks/${net}`)).toBe(false);
    await t.ok(["run", "-d", "--name", "a", "--network", "dnsnet1", "busybox", "sleep", "300"]);
    await t.ok(["run", "-d", "--name", "b", "--network", "dnsnet1", "busybox", "sleep", "300"]);
    const pid = resolverPid(net)!;
    expect(alive(pid)).toBe(true);
    // One per network, bound to the gateway only, running as nobody without capabilities,
    // under its seccomp allowlist.
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    expect(status).toMatch(/^Uid:\t65534\t65534\t65534\t65534$/m);
    expect(status).toMatch(/^CapEff:\t0+$/m);
    expect(status).toMatch(/^NoNewPrivs:\t1$/m);
    expect(status).toMatch(/^Seccomp:\t2$/m);
    expect(sh(`ss -Hlunp 'sport = :53' | grep 'pid=${pid},'`).out).toContain(`${NET1}.1:53`);
    await t.ok(["rm", "-f", "a"]);
    expect(resolverPid(net)).toBe(pid);
    expect(alive(pid)).toBe(true);
    await t.ok(["rm", "-f", "b"]);
    expect(await gone(pid)).toBe(true);
    expect(existsSync(`${t.dir}/networks/${net}`)).toBe(false);

    // A resolver killed under a running container is replaced by the next reconcile of the
    // networks (network ls/inspect/rm, run, system, port, stats).
    await t.ok(["run", "-d", "--name", "c", "--network", "dnsnet1", "busybox", "sleep", "300"]);
    const first = resolverPid(net)!;
    process.kill(first, "SIGKILL");
    expect(await gone(first)).toBe(true);
    await t.ok(["network", "ls"]);
    const second = resolverPid(net)!;
    expect(second).not.toBe(first);
    expect(alive(second)).toBe(true);
    expect((await lookup("dnsnet1", "c")).out).toMatch(new RegExp(`Name:\tc\nAddress: ${NET1}\\.`));

    // The container's monitor and init SIGKILLed: the next command releases it and the resolver.
    const c = JSON.parse(await t.ok(["inspect", "c"]))[0] as { State: { Pid: number } };
    const monitor = Number(sh(`ps -o ppid= -p ${c.State.Pid}`).out.trim());
    process.kill(monitor, "SIGKILL");
    process.kill(c.State.Pid, "SIGKILL");
    expect(await gone(monitor)).toBe(true);
    expect(await gone(c.State.Pid)).toBe(true);
    await t.ok(["ps", "-a"]);
    expect(await gone(second)).toBe(true);
    expect(existsSync(`${t.dir}/networks/${net}`)).toBe(false);
    await t.ok(["rm", "-f", "c"]);

    // SIGKILLed again, then network rm straight away (its reconcile frees the lease): nothing stays.
    await t.ok(["run", "-d", "--name", "d", "--network", "dnsnet1", "busybox", "sleep", "300"]);
    const third = resolverPid(net)!;
    const d = JSON.parse(await t.ok(["inspect", "d"]))[0] as { State: { Pid: number } };
    const dMonitor = Number(sh(`ps -o ppid= -p ${d.State.Pid}`).out.trim());
    process.kill(dMonitor, "SIGKILL");
    process.kill(d.State.Pid, "SIGKILL");
    expect(await gone(dMonitor)).toBe(true);
    expect(await gone(d.State.Pid)).toBe(true);
    await t.ok(["network", "rm", "dnsnet1"]);
    expect(await gone(third)).toBe(true);
    await t.ok(["rm", "-f", "d"]);
    expect(existsSync(`${t.dir}/networks/${net}`)).toBe(false);
    expect(t.leaks()).toEqual([]);
    await t.ok(["network", "create", "--subnet", `${NET1}.0/24`, "-o", `com.docker.network.bridge.name=td${process.pid}b1`, "dnsnet1"]);
  });

  test("garbage from a container does not stop it; nothing is answered outside the subnet", async () => {
    await t.ok(["run", "-d", "--name", "target", "--network", "dnsnet1", "--ip", `${NET1}.30`, "busybox", "sleep", "300"]);
    const pid = resolverPid(networkId("dnsnet1"))!;
    const id = await idOf("target");
    // Crafted payloads sent from the container's own network namespace to the gateway's port 53:
    // empty, short, pointer loops, forward pointers, a label past the end, a response, 2 questions.
    const payloads = [
      "", "ab", "\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\xc0\x0c\x00\x01\x00\x01",
      "\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x01a\xc0\x0c\x00\x01\x00\x01",
      "\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\xc0\x20\x00\x01\x00\x01",
      "\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x3fabc",
      "\x12\x34\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00\x00\x00\x01\x00\x01",
      "\x12\x34\x01\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x01\x00\x00\x01\x00\x01",
      "x".repeat(4000),
    ];
    const script = `import socket,sys\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\nfor p in ${JSON.stringify(payloads)}:\n  s.sendto(p.encode('latin-1'),('${NET1}.1',53))\nfor i in range(2000):\n  s.sendto(bytes([i&255,i>>8])+b'\\x01\\x00\\x00\\x01'+bytes(6)+bytes([i%64])+b'z'*(i%64)+b'\\x00\\x00\\x01\\x00\\x01',('${NET1}.1',53))\n`;
    const send = sh(`nsenter --net=${t.dir}/netns/${id} python3 -c "${script.replaceAll('"', '\\"')}"`);
    expect(send.out).toBe("");
    expect(send.code).toBe(0);
    await Bun.sleep(300);
    expect(alive(pid)).toBe(true);
    const after = await lookup("dnsnet1", "target");
    expect(after.out).toContain(`Name:\ttarget\nAddress: ${NET1}.30\n`);
    // The host (an address outside the subnet: the test's loopback) gets no answer.
    const probe = sh(`python3 -c "
import socket
s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(('127.0.0.1',0)); s.settimeout(0.5)
s.sendto(b'\\x00\\x01\\x01\\x00\\x00\\x01'+bytes(6)+b'\\x06target\\x00\\x00\\x01\\x00\\x01',('${NET1}.1',53))
try:
  s.recv(512); print('answered')
except socket.timeout:
  print('silent')
"`);
    expect(probe.out.trim()).toBe("silent");
    await t.ok(["rm", "-f", "target"]);
    expect(await gone(pid)).toBe(true);
    expect(t.leaks()).toEqual([]);
  });

  test("never two per network, even when containers start together; the backstops end a resolver nobody owns", async () => {
    const net = networkId("dnsnet2");
    const runs = await Promise.all(["p1", "p2", "p3", "p4", "p5"].map((n) => t.tsd(["run", "-d", "--name", n, "--network", "dnsnet2", "busybox", "sleep", "300"])));
    for (const r of runs) expect(r.stderr).toBe("");
    const pid = resolverPid(net)!;
    expect(resolversOf(net)).toEqual([pid]);
    // A CLI killed between freeing the last lease and stopping the resolver: the leases go
    // behind tsd's back, and the next reconcile stops the resolver.
    const db = new Database(`${t.dir}/tsd.db`);
    try {
      const saved = db.query("SELECT * FROM endpoints WHERE network = 'dnsnet2'").all() as Record<string, string>[];
      db.query("DELETE FROM endpoints WHERE network = 'dnsnet2'").run();
      await t.ok(["network", "ls"]);
      expect(await gone(pid)).toBe(true);
      expect(existsSync(`${t.dir}/networks/${net}`)).toBe(false);
      for (const e of saved) {
        db.query("INSERT INTO endpoints (container_id, network, ip, mac, ifname, host_ifname, aliases) VALUES (?, ?, ?, ?, ?, ?, ?)")
          .run(e.container_id!, e.network!, e.ip!, e.mac!, e.ifname!, e.host_ifname!, e.aliases!);
      }
    } finally {
      db.close();
    }
    await t.ok(["network", "ls"]);
    const again = resolverPid(net)!;
    expect(resolversOf(net)).toEqual([again]);
    // Its files removed by anyone: it leaves by itself within about a second.
    rmSync(`${t.dir}/networks/${net}`, { recursive: true });
    for (let i = 0; i < 60 && alive(again); i++) await Bun.sleep(50);
    expect(alive(again)).toBe(false);
    await t.ok(["rm", "-f", "p1", "p2", "p3", "p4", "p5"]);
    expect(resolversOf(net)).toEqual([]);
    expect(t.leaks()).toEqual([]);
  });
});
