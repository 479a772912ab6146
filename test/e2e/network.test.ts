// Networking end to end: the default bridge (own name and subnet via <root>/network.json),
// none/host/container: modes, hosts and resolv.conf, NAT to an "outside" namespace this test
// makes, published TCP/UDP ports through 127.0.0.1 and the host's own address, user networks
// with names and aliases, and that nothing (veth, netns, bridge, nft element, address lease)
// is left after rm, a failed start or a SIGKILLed monitor.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { networkInterfaces } from "node:os";
import type { Subprocess } from "bun";
import { Database } from "bun:sqlite";
import { TSD, TestRoot } from "../lib/tsd";
import { testImages } from "../lib/fixtures";

// Names, subnets and ports derive from the pid: the same file may run at the same time from
// another checkout on this machine, and two runs must not share a bridge, an address or a port.
const N = process.pid % 250;
const BRIDGE = `te${process.pid}b0`;
const SUBNET = `10.231.${N}`; // .0/24
const USERNET = `10.232.${N}`; // .0/24 for the user network
const USERBRIDGE = `te${process.pid}b1`;
const OUTSIDE_NS = `tsdte-out-${process.pid}`;
const OUTSIDE_HOST_IF = `te${process.pid}o0`;
const OUTSIDE = `172.31.${N}`; // only on the veth this test makes
const PORT = 20000 + (process.pid % 2000) * 8; // PORT..PORT+7

// A loaded machine (other suites at the same time) makes container starts slow.
setDefaultTimeout(30000);

let t: TestRoot;
const background: Subprocess[] = [];

function sh(cmd: string): { code: number; out: string } {
  const p = Bun.spawnSync(["sh", "-c", cmd], { stdout: "pipe", stderr: "pipe" });
  return { code: p.exitCode ?? 1, out: p.stdout.toString() + p.stderr.toString() };
}

function links(): string[] {
  return readdirSync("/sys/class/net");
}

function nftTable(): string {
  return sh("nft list table ip tsd 2>/dev/null").out;
}

/** `tsd run` in the background (no -d yet): resolves once the container runs. */
async function startBg(args: string[], name: string): Promise<Subprocess> {
  const p = Bun.spawn([TSD, "--root", t.dir, "run", "--name", name, ...args], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  background.push(p);
  for (let i = 0; i < 200; i++) {
    const ps = await t.tsd(["ps", "--format", "json"]);
    if (ps.stdout.split("\n").some((l) => l.includes(`"Names":"${name}"`))) return p;
    if (p.exitCode !== null) throw new Error(`${name} exited ${p.exitCode}: ${await new Response(p.stderr).text()}`);
    await Bun.sleep(50);
  }
  throw new Error(`${name} did not start`);
}

function inspectIp(network: string, name: string): string {
  const out = Bun.spawnSync([TSD, "--root", t.dir, "network", "inspect", network]).stdout.toString();
  const [n] = JSON.parse(out) as { Containers: Record<string, { Name: string; IPv4Address: string }> }[];
  const c = Object.values(n!.Containers).find((x) => x.Name === name);
  if (!c) throw new Error(`${name} is not on ${network}: ${out}`);
  return c.IPv4Address.split("/")[0]!;
}

function hostAddress(): string {
  for (const [name, addrs] of Object.entries(networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === "IPv4" && !a.internal && !name.startsWith("tsd") && !name.startsWith("br-")) return a.address;
  }
  throw new Error("the host has no non-loopback IPv4 address");
}

/** The full id of a container of this root (for its veth name tv<id12>N and netns file). */
async function idOf(name: string): Promise<string> {
  const out = await t.ok(["ps", "-a", "--no-trunc", "--format", "json"]);
  const row = out.split("\n").filter(Boolean).map((l) => JSON.parse(l) as { ID: string; Names: string }).find((r) => r.Names === name);
  if (!row) throw new Error(`no container ${name}`);
  return row.ID;
}

function vethsOf(id: string): string[] {
  return links().filter((l) => l.startsWith(`tv${id.slice(0, 12)}`));
}

/** The published-port maps of the nft table (networks stay in `nets` while their bridge lives). */
function nftPorts(): string {
  return sh("nft list map ip tsd ports_any 2>/dev/null; nft list map ip tsd ports_ip 2>/dev/null").out;
}

/**
 * Nothing of a container's networking is left: namespace files (a leaked veth keeps its
 * namespace alive, and the namespace is bound under the root), leases, port rules. Other suites
 * may run containers on this machine at the same time, so veths are checked by id elsewhere.
 * The bridges and their masquerade stay while their network exists (as docker0); the last
 * test prunes them and checks they are gone.
 */
function expectNoNetworkLeft(): void {
  expect(t.leaks()).toEqual([]);
  const netnsDir = `${t.dir}/netns`;
  expect(existsSync(netnsDir) ? readdirSync(netnsDir) : []).toEqual([]);
  expect(nftPorts()).not.toContain(SUBNET + ".");
  expect(nftPorts()).not.toContain(USERNET + ".");
  const leases = Bun.spawnSync([TSD, "--root", t.dir, "network", "inspect", "bridge"]).stdout.toString();
  expect(JSON.parse(leases)[0].Containers).toEqual({});
}

const PROBE = `${import.meta.dir}/../lib/localnet-probe.py`;

/**
 * What a host service bound to 127.0.0.1 only receives when the container NAME crafts UDP
 * frames to its bridge's MAC addressed to 127.0.0.1 (CAP_NET_RAW, default set). The frames are
 * sent from the container's own network namespace, out of its eth0, by the test's python3
 * (the busybox image has no packet tool); the container's root could send the same.
 */
async function localnetProbe(root: TestRoot, name: string, bridge: string, port: number): Promise<string[]> {
  const got: string[] = [];
  const listener = await Bun.udpSocket({ hostname: "127.0.0.1", port, socket: { data: (_s, buf) => void got.push(buf.toString()) } });
  try {
    const out = Bun.spawnSync([TSD, "--root", root.dir, "ps", "-q", "--no-trunc", "--filter", `name=${name}`]).stdout.toString().trim();
    const [info] = JSON.parse(Bun.spawnSync([TSD, "--root", root.dir, "inspect", name]).stdout.toString()) as { NetworkSettings: { IPAddress: string } }[];
    const mac = readFileSync(`/sys/class/net/${bridge}/address`, "utf8").trim();
    const send = sh(`nsenter --net=${root.dir}/netns/${out} python3 ${PROBE} eth0 ${mac} ${info!.NetworkSettings.IPAddress} ${port} from-${name}`);
    expect(send.out).toBe("");
    expect(send.code).toBe(0);
    // A positive control: the same listener hears a datagram the host sends it.
    const self = await Bun.udpSocket({});
    self.send("control", port, "127.0.0.1");
    for (let i = 0; i < 40 && !got.includes("control"); i++) await Bun.sleep(25);
    await Bun.sleep(200);
    self.close();
    return got;
  } finally {
    listener.close();
  }
}

beforeAll(async () => {
  const images = await testImages();
  t = new TestRoot("network");
  writeFileSync(`${t.dir}/network.json`, JSON.stringify({ bridge: BRIDGE, subnet: `${SUBNET}.0/24` }));
  await t.ok(["load", "-i", images.busyboxDocker]);
});

afterAll(async () => {
  for (const p of background) p.kill("SIGKILL");
  await Promise.all(background.map((p) => p.exited));
  const ids = (await t.tsd(["ps", "-aq", "--no-trunc"])).stdout.split("\n").filter(Boolean);
  if (ids.length) await t.tsd(["rm", "-f", ...ids]);
  await t.tsd(["network", "prune", "-f"]);
  sh(`ip netns del ${OUTSIDE_NS} 2>/dev/null; ip link del ${OUTSIDE_HOST_IF} 2>/dev/null`);
  for (const l of links()) if (l === BRIDGE || l === USERBRIDGE || l === `te${process.pid}b3`) sh(`ip link del ${l}`);
  await t.destroy();
});

describe("default bridge", () => {
  test("eth0 with an address from the subnet, a default route, hosts and resolv.conf", async () => {
    const r = await t.tsd(["run", "--rm", "--hostname", "box1", "--add-host", "db.example:10.0.0.9", "--add-host", "gw:host-gateway", "--dns", "192.0.2.53", "--dns-search", "corp.example", "--dns-option", "ndots:3",
      "busybox", "sh", "-c", "ip -4 -o addr show eth0; ip route; cat /etc/hosts; cat /etc/resolv.conf"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`inet ${SUBNET.replaceAll(".", "\\.")}\\.\\d+/24`));
    expect(r.stdout).toContain(`default via ${SUBNET}.1 dev eth0`);
    expect(r.stdout).toMatch(new RegExp(`${SUBNET.replaceAll(".", "\\.")}\\.\\d+\\tbox1`));
    expect(r.stdout).toContain("10.0.0.9\tdb.example");
    expect(r.stdout).toContain(`${SUBNET}.1\tgw`);
    expect(r.stdout).toContain("nameserver 192.0.2.53\nsearch corp.example\noptions ndots:3\n");
    expectNoNetworkLeft();
  });

  test("resolv.conf from the host's without loopback resolvers", async () => {
    const r = await t.tsd(["run", "--rm", "busybox", "cat", "/etc/resolv.conf"]);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(/nameserver 127\./);
    expect(r.stdout).toMatch(/^nameserver /m);
  });

  test("container to container by IP; after rm nothing is left", async () => {
    await startBg(["busybox", "sh", "-c", "echo pong > /tmp/index.html; exec httpd -f -p 8080 -h /tmp"], "srv");
    const ip = inspectIp("bridge", "srv");
    const r = await t.tsd(["run", "--rm", "busybox", "wget", "-q", "-O", "-", `http://${ip}:8080/index.html`]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("pong\n");
    await t.ok(["rm", "-f", "srv"]);
    expectNoNetworkLeft();
  });

  test("50 parallel runs hold 50 different addresses at once", async () => {
    const sync = `${t.dir}/sync`;
    Bun.spawnSync(["mkdir", "-p", sync]);
    const runs = Array.from({ length: 50 }, () =>
      t.tsd(["run", "--rm", "-v", `${sync}:/sync`, "busybox", "sh", "-c",
        "ip -4 -o addr show eth0 > /sync/$(hostname); i=0; while [ ! -e /sync/go ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done"], { timeoutMs: 110000 }),
    );
    // Every container reports while all of them still hold their lease; a run that ends early
    // failed (they all wait for "go"), so stop waiting and show why.
    let ended = 0;
    for (const r of runs) r.then(() => ended++);
    for (let i = 0; i < 900 && readdirSync(sync).length < 50 && ended === 0; i++) await Bun.sleep(100);
    const files = readdirSync(sync);
    writeFileSync(`${sync}/go`, "");
    const results = await Promise.all(runs);
    for (const r of results) expect(`${r.code} ${r.stderr}`).toBe("0 ");
    expect(files.length).toBe(50);
    const ips = files.map((f) => /inet (\S+)\//.exec(readFileSync(`${sync}/${f}`, "utf8"))?.[1]);
    expect(ips.every((ip) => ip?.startsWith(`${SUBNET}.`))).toBe(true);
    expect(new Set(ips).size).toBe(50);
    expectNoNetworkLeft();
  }, 120000);

  test("a failed start leaves no veth, namespace or lease", async () => {
    const r = await t.tsd(["run", "--rm", "busybox", "/no/such/binary"]);
    expect(r.code).toBe(127);
    expectNoNetworkLeft();
    const r2 = await t.tsd(["run", "busybox", "/no/such/binary"]);
    expect(r2.code).toBe(127);
    expectNoNetworkLeft();
  });

  test("a SIGKILLed CLI, monitor and init: the next command releases the network", async () => {
    const cli = await startBg(["busybox", "sleep", "100"], "victim");
    const id = await idOf("victim");
    const monitorPid = sh(`pgrep -f '^tsd-monitor --bundle ${t.dir}/containers/${id}'`).out.trim().split("\n")[0]!;
    expect(monitorPid).toMatch(/^\d+$/);
    const initPid = readFileSync(`/proc/${monitorPid}/task/${monitorPid}/children`, "utf8").trim().split(" ")[0]!;
    cli.kill("SIGKILL");
    process.kill(Number(monitorPid), "SIGKILL");
    process.kill(Number(initPid), "SIGKILL");
    await cli.exited;
    await Bun.sleep(100);
    expect(vethsOf(id)).toEqual([`tv${id.slice(0, 12)}0`]);
    await t.ok(["network", "ls"]);
    // Released veths go with their namespace, which the kernel destroys asynchronously.
    for (let i = 0; i < 100 && vethsOf(id).length > 0; i++) await Bun.sleep(30);
    expect(vethsOf(id)).toEqual([]);
    expectNoNetworkLeft();
    await t.ok(["rm", "-f", "victim"]);
  });
});

describe("a SIGKILLed monitor alone", () => {
  test("run -d, kill -9 of its monitor: the next ps releases the address, veth, namespace and ports", async () => {
    const id = (await t.ok(["run", "-d", "--name", "lone", "-p", `${PORT + 6}:80`, "busybox", "sleep", "100"])).trim();
    expect(vethsOf(id)).toEqual([`tv${id.slice(0, 12)}0`]);
    const monitorPid = sh(`pgrep -f '^tsd-monitor --bundle ${t.dir}/containers/${id}'`).out.trim().split("\n")[0]!;
    expect(monitorPid).toMatch(/^\d+$/);
    process.kill(Number(monitorPid), "SIGKILL");
    for (let i = 0; i < 100 && existsSync(`/proc/${monitorPid}/status`) && !readFileSync(`/proc/${monitorPid}/status`, "utf8").includes("zombie"); i++) await Bun.sleep(20);
    await t.ok(["ps", "-a"]);
    for (let i = 0; i < 100 && vethsOf(id).length > 0; i++) await Bun.sleep(30);
    expect(vethsOf(id)).toEqual([]);
    expect(nftPorts()).not.toContain(`${PORT + 6}`);
    expectNoNetworkLeft();
    await t.ok(["rm", "-f", "lone"]);
  });
});

/** kill -9 of a detached container's monitor and init, as a crash would; waits until both are gone. */
async function killMonitorAndInit(id: string): Promise<void> {
  const monitorPid = sh(`pgrep -f '^tsd-monitor --bundle ${t.dir}/containers/${id}'`).out.trim().split("\n")[0]!;
  expect(monitorPid).toMatch(/^\d+$/);
  const initPid = readFileSync(`/proc/${monitorPid}/task/${monitorPid}/children`, "utf8").trim().split(" ")[0]!;
  expect(initPid).toMatch(/^\d+$/);
  // The monitor first: killed second, it could see its init die and run the cleanup this
  // test needs left undone (a dead container still holding its lease).
  process.kill(Number(monitorPid), "SIGKILL");
  process.kill(Number(initPid), "SIGKILL");
  const gone = (pid: string) => !existsSync(`/proc/${pid}/status`) || readFileSync(`/proc/${pid}/status`, "utf8").includes("zombie");
  for (let i = 0; i < 200 && !(gone(monitorPid) && gone(initPid)); i++) await Bun.sleep(20);
  expect(gone(monitorPid) && gone(initPid)).toBe(true);
}

/** The endpoint rows of a container, read from the root's database without any tsd command (which could reconcile). */
function leasesOf(id: string): string[] {
  const db = new Database(`${t.dir}/tsd.db`, { readonly: true });
  try {
    return (db.query("SELECT network, ip FROM endpoints WHERE container_id = ?").all(id) as { network: string; ip: string }[]).map((e) => `${e.network} ${e.ip}`);
  } finally {
    db.close();
  }
}

// run does not reconcile every lease before it starts (one /proc read per holder: O(N) per run);
// it reclaims dead holders' leases and ports only when what it needs is taken, then tries once more.
describe("stale leases", () => {
  test("a full network: the only address, held by a dead container, goes to the next run", async () => {
    const tiny = `10.240.${N}`;
    await t.ok(["network", "create", "--subnet", `${tiny}.0/30`, "-o", `com.docker.network.bridge.name=te${process.pid}b5`, "tiny"]);
    try {
      const id = (await t.ok(["run", "-d", "--network", "tiny", "--name", "holder", "busybox", "sleep", "100"])).trim();
      const full = await t.tsd(["run", "--rm", "--network", "tiny", "busybox", "true"]);
      expect(`${full.code} ${full.stderr}`).toBe(`125 tsd: no free address left on network tiny (${tiny}.0/30)\n`);
      await killMonitorAndInit(id);
      expect(leasesOf(id)).toEqual([`tiny ${tiny}.2`]); // nothing released it yet
      const r = await t.tsd(["run", "--rm", "--network", "tiny", "busybox", "ip", "-4", "-o", "addr", "show", "eth0"]);
      expect(r.stderr).toBe("");
      expect(r.stdout).toContain(`inet ${tiny}.2/30`);
      expect(leasesOf(id)).toEqual([]);
      for (let i = 0; i < 100 && vethsOf(id).length > 0; i++) await Bun.sleep(30);
      expect(vethsOf(id)).toEqual([]);
    } finally {
      await t.tsd(["rm", "-f", "holder"]);
      await t.tsd(["network", "rm", "tiny"]);
    }
    expect(links()).not.toContain(`te${process.pid}b5`);
    expectNoNetworkLeft();
  });

  test("a host port held by a dead container goes to the next run that asks for it", async () => {
    const id = (await t.ok(["run", "-d", "--name", "porter", "-p", `127.0.0.1:${PORT + 6}:80`, "busybox", "sleep", "100"])).trim();
    const taken = await t.tsd(["run", "--rm", "-p", `127.0.0.1:${PORT + 6}:80`, "busybox", "true"]);
    expect(taken.code).toBe(125);
    expect(taken.stderr).toContain("the port is already allocated");
    await killMonitorAndInit(id);
    expect(leasesOf(id).length).toBe(1); // nothing released it yet
    const r = await t.tsd(["run", "-d", "--name", "newporter", "-p", `127.0.0.1:${PORT + 6}:80`, "busybox", "sh", "-c", "echo reclaimed > /tmp/index.html; exec httpd -f -p 80 -h /tmp"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(leasesOf(id)).toEqual([]);
    let body = "";
    for (let i = 0; i < 50 && body !== "reclaimed\n"; i++) {
      body = await fetch(`http://127.0.0.1:${PORT + 6}/index.html`).then((x) => x.text(), () => "");
      if (body !== "reclaimed\n") await Bun.sleep(100);
    }
    expect(body).toBe("reclaimed\n");
    await t.ok(["rm", "-f", "porter", "newporter"]);
    expectNoNetworkLeft();
  });
});

describe("modes", () => {
  test("--network none has only lo", async () => {
    const r = await t.tsd(["run", "--rm", "--network", "none", "busybox", "ls", "/sys/class/net"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe("lo");
  });

  test("--network host sees the host's links", async () => {
    const r = await t.tsd(["run", "--rm", "--network", "host", "busybox", "ls", "/sys/class/net"]);
    expect(r.code).toBe(0);
    const seen = r.stdout.split(/\s+/).filter(Boolean);
    const main = Object.entries(networkInterfaces()).find(([, a]) => a?.some((x) => x.address === hostAddress()))![0];
    expect(seen).toContain(main);
    expect(seen).toContain("lo");
  });

  test("--network container:NAME shares the namespace", async () => {
    await startBg(["busybox", "sleep", "100"], "owner");
    const ip = inspectIp("bridge", "owner");
    const r = await t.tsd(["run", "--rm", "--network", "container:owner", "busybox", "ip", "-4", "-o", "addr", "show", "eth0"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`inet ${ip}/24`);
    await t.ok(["rm", "-f", "owner"]);
    expectNoNetworkLeft();
  });

  test("bad network flags are one-line errors with 125", async () => {
    for (const args of [["--network", "nosuchnet"], ["-p", "99999:80"], ["--network", "none", "-p", "80"], ["--ip", "10.231.7.9"], ["--mac-address", "zz"]]) {
      const r = await t.tsd(["run", "--rm", ...args, "busybox", "true"]);
      expect(r.code).toBe(125);
      expect(r.stderr).toMatch(/^tsd: .+\n$/);
    }
    expectNoNetworkLeft();
  });
});

describe("NAT and ports", () => {
  test("a container reaches an outside namespace through MASQUERADE", async () => {
    expect(sh(`ip netns add ${OUTSIDE_NS} && ip link add ${OUTSIDE_HOST_IF} type veth peer name eth0 netns ${OUTSIDE_NS} && ip addr add ${OUTSIDE}.1/24 dev ${OUTSIDE_HOST_IF} && ip link set ${OUTSIDE_HOST_IF} up && ip -n ${OUTSIDE_NS} addr add ${OUTSIDE}.2/24 dev eth0 && ip -n ${OUTSIDE_NS} link set eth0 up && ip -n ${OUTSIDE_NS} link set lo up`).code).toBe(0);
    // The outside has no route to the container subnet: only a masqueraded source gets answers.
    const server = Bun.spawn(["ip", "netns", "exec", OUTSIDE_NS, "busybox", "sh", "-c", `echo outside > /tmp/tsdte-out.html; exec busybox httpd -f -p ${OUTSIDE}.2:8000 -h /tmp`], { stdout: "ignore", stderr: "ignore" });
    background.push(server);
    await Bun.sleep(200);
    const r = await t.tsd(["run", "--rm", "busybox", "wget", "-q", "-O", "-", `http://${OUTSIDE}.2:8000/tsdte-out.html`]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("outside\n");
    expect(readFileSync("/proc/sys/net/ipv4/ip_forward", "utf8").trim()).toBe("1");
    // The other way: the outside host reaches a published port through the host's address on
    // its link (PREROUTING DNAT), and a port bound to 127.0.0.1 only is not reachable from it.
    await startBg(["-p", `${PORT + 4}:80`, "-p", `127.0.0.1:${PORT + 5}:80`, "busybox", "sh", "-c", "echo inbound > /tmp/index.html; exec httpd -f -p 80 -h /tmp"], "inbound");
    const inbound = sh(`ip netns exec ${OUTSIDE_NS} busybox wget -q -O - http://${OUTSIDE}.1:${PORT + 4}/index.html`);
    expect(inbound.out).toBe("inbound\n");
    const local = sh(`ip netns exec ${OUTSIDE_NS} busybox wget -q -O - http://${OUTSIDE}.1:${PORT + 5}/index.html`);
    expect(local.code).not.toBe(0);
    await t.ok(["rm", "-f", "inbound"]);
    server.kill("SIGKILL");
    sh(`ip netns del ${OUTSIDE_NS}; ip link del ${OUTSIDE_HOST_IF} 2>/dev/null`);
    expectNoNetworkLeft();
  });

  test("a frame a container crafts to 127.0.0.1 through the bridge never reaches the host's loopback", async () => {
    await startBg(["busybox", "sleep", "60"], "rawer");
    expect(readFileSync(`/proc/sys/net/ipv4/conf/${BRIDGE}/route_localnet`, "utf8").trim()).toBe("1");
    expect(await localnetProbe(t, "rawer", BRIDGE, PORT + 6)).toEqual(["control"]);
    expect(nftTable()).toContain("ip daddr 127.0.0.0/8 drop");
    await t.ok(["rm", "-f", "rawer"]);
  });

  test("-p through 127.0.0.1 and the host's address, UDP, tsd port, a taken port refused", async () => {
    await startBg(["-p", `127.0.0.1:${PORT}:8080`, "-p", `${PORT + 1}:8080`, "-p", `${PORT + 2}:9000/udp`, "-p", "8080",
      "busybox", "sh", "-c", "echo web > /tmp/index.html; exec httpd -f -p 8080 -h /tmp"], "pub");
    const port = (await t.ok(["port", "pub"])).trim().split("\n");
    expect(port).toContain(`8080/tcp -> 127.0.0.1:${PORT}`);
    expect(port).toContain(`8080/tcp -> 0.0.0.0:${PORT + 1}`);
    expect(port).toContain(`9000/udp -> 0.0.0.0:${PORT + 2}`);
    const ps = await t.ok(["ps", "--filter", "name=pub"]);
    expect(ps).toContain(`127.0.0.1:${PORT}->8080/tcp`);
    expect(ps).toContain(`0.0.0.0:${PORT + 2}->9000/udp`);
    // ps --filter publish= matches the host port, expose= the container's (moby's list.go).
    const names = async (f: string) => (await t.ok(["ps", "--filter", f, "--format", "{{.Names}}"])).trim();
    expect(await names(`publish=${PORT + 2}/udp`)).toBe("pub");
    expect(await names(`publish=${PORT}-${PORT + 1}`)).toBe("pub");
    expect(await names("expose=9000/udp")).toBe("pub");
    expect(await names("expose=9000")).toBe("");
    expect(await names("publish=8080")).toBe("");
    const [info] = JSON.parse(await t.ok(["inspect", "pub"])) as { NetworkSettings: { IPAddress: string; Gateway: string; IPPrefixLen: number } }[];
    expect(info!.NetworkSettings.IPAddress).toBe(inspectIp("bridge", "pub"));
    expect(info!.NetworkSettings.Gateway).toBe(`${SUBNET}.1`);
    expect(info!.NetworkSettings.IPPrefixLen).toBe(24);
    const random = port.find((l) => new RegExp(`^8080/tcp -> 0\\.0\\.0\\.0:(?!${PORT + 1}$)`).test(l));
    expect(random).toBeDefined();
    const randomPort = Number(random!.split(":")[1]);
    expect(await (await fetch(`http://127.0.0.1:${PORT}/index.html`)).text()).toBe("web\n");
    expect(await (await fetch(`http://127.0.0.1:${PORT + 1}/index.html`)).text()).toBe("web\n");
    expect(await (await fetch(`http://${hostAddress()}:${PORT + 1}/index.html`)).text()).toBe("web\n");
    expect(await (await fetch(`http://127.0.0.1:${randomPort}/index.html`)).text()).toBe("web\n");
    // Hairpin: the container reaches its own published port through the host's address, and
    // another container on the bridge reaches it the same way.
    expect(await t.ok(["exec", "pub", "wget", "-q", "-O", "-", `http://${hostAddress()}:${PORT + 1}/index.html`])).toBe("web\n");
    expect(await t.ok(["run", "--rm", "busybox", "wget", "-q", "-O", "-", `http://${hostAddress()}:${PORT + 1}/index.html`])).toBe("web\n");
    // UDP: busybox has no UDP server, so a Bun echo server runs in the container's network
    // namespace (its bound file) and answers the DNAT'd datagram.
    const id = await idOf("pub");
    const echo = `${t.dir}/udp-echo.ts`;
    writeFileSync(echo, `await Bun.udpSocket({ port: 9000, socket: { data(s, buf, port, addr) { s.send(buf, port, addr); } } }); console.log("ready");`);
    const server = Bun.spawn(["nsenter", `--net=${t.dir}/netns/${id}`, process.execPath, echo], { stdout: "pipe", stderr: "inherit" });
    background.push(server);
    const reader = server.stdout.getReader();
    await reader.read(); // "ready"
    const got = await new Promise<string>(async (resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no UDP answer")), 5000);
      const s = await Bun.udpSocket({
        socket: {
          data(_s, buf) {
            clearTimeout(timer);
            s.close();
            resolve(Buffer.from(buf).toString());
          },
        },
      });
      s.send("ping-udp", PORT + 2, "127.0.0.1");
    });
    expect(got).toBe("ping-udp");
    server.kill("SIGKILL");
    await server.exited;
    // Taken: by this container's binding, and by a host socket.
    const taken = await t.tsd(["run", "--rm", "-p", `${PORT + 1}:80`, "busybox", "true"]);
    expect(taken.code).toBe(125);
    expect(taken.stderr).toContain("already allocated");
    const holder = Bun.listen({ hostname: "127.0.0.1", port: PORT + 3, socket: { data() {} } });
    const taken2 = await t.tsd(["run", "--rm", "-p", `127.0.0.1:${PORT + 3}:80`, "busybox", "true"]);
    holder.stop(true);
    expect(taken2.code).toBe(125);
    await t.ok(["rm", "-f", "pub"]);
    expect(nftPorts()).not.toContain(`${PORT + 1}`);
    expectNoNetworkLeft();
  }, 30000);
});

describe("user networks", () => {
  test("create, resolve by name and alias, --ip, --mac-address, connect, disconnect, rm", async () => {
    await t.ok(["network", "create", "--subnet", `${USERNET}.0/24`, "-o", `com.docker.network.bridge.name=${USERBRIDGE}`, "appnet"]);
    const dup = await t.tsd(["network", "create", "--subnet", `${USERNET}.0/25`, "other"]);
    expect(dup.code).toBe(1); // an engine error outside run: 1, as docker's CLI
    expect(dup.stderr).toContain("overlaps");
    await startBg(["--network", "appnet", "--network-alias", "api", "--ip", `${USERNET}.50`, "--mac-address", "02:42:aa:bb:cc:dd",
      "busybox", "sh", "-c", "echo by-name > /tmp/index.html; exec httpd -f -p 80 -h /tmp"], "named");
    expect(inspectIp("appnet", "named")).toBe(`${USERNET}.50`);
    // As Docker: the top-level address is the default bridge's, empty on a user network alone.
    const [named] = JSON.parse(await t.ok(["inspect", "named"])) as { NetworkSettings: { IPAddress: string; Gateway: string } }[];
    expect([named!.NetworkSettings.IPAddress, named!.NetworkSettings.Gateway]).toEqual(["", ""]);
    const r = await t.tsd(["run", "--rm", "--network", "appnet", "busybox", "sh", "-c",
      "wget -q -O - http://named/index.html && wget -q -O - http://api/index.html"]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("by-name\nby-name\n");
    // Another user network cannot reach it (networks are isolated, as Docker's).
    await t.ok(["network", "create", "--subnet", `10.234.${N}.0/24`, "-o", `com.docker.network.bridge.name=te${process.pid}b3`, "othernet"]);
    const cross = await t.tsd(["run", "--rm", "--network", "othernet", "busybox", "ping", "-c", "1", "-W", "1", `${USERNET}.50`]);
    expect(cross.code).not.toBe(0);
    const same = await t.tsd(["run", "--rm", "--network", "appnet", "busybox", "ping", "-c", "1", "-W", "1", `${USERNET}.50`]);
    expect(same.code).toBe(0);
    await t.ok(["network", "rm", "othernet"]);
    const mac = await t.tsd(["run", "--rm", "--network", "container:named", "busybox", "cat", "/sys/class/net/eth0/address"]);
    expect(mac.stdout.trim()).toBe("02:42:aa:bb:cc:dd");
    // A container on the default bridge joins appnet and gets eth1 there, and sees the name.
    await startBg(["busybox", "sleep", "100"], "joiner");
    await t.ok(["network", "connect", "appnet", "joiner"]);
    const seen = await t.tsd(["run", "--rm", "--network", "container:joiner", "busybox", "sh", "-c", "ip -4 -o addr show eth1; wget -q -O - http://named/index.html"]);
    expect(seen.stdout).toContain(`inet ${USERNET}.`);
    expect(seen.stdout).toContain("by-name");
    const joiner = await idOf("joiner");
    expect(vethsOf(joiner).sort()).toEqual([`tv${joiner.slice(0, 12)}0`, `tv${joiner.slice(0, 12)}1`]);
    await t.ok(["network", "disconnect", "appnet", "joiner"]);
    expect(vethsOf(joiner)).toEqual([`tv${joiner.slice(0, 12)}0`]);
    const busy = await t.tsd(["network", "rm", "appnet"]);
    expect(busy.code).not.toBe(0);
    expect(busy.stderr).toContain("active endpoints");
    await t.ok(["rm", "-f", "named", "joiner"]);
    await t.ok(["network", "rm", "appnet"]);
    expect((await t.ok(["network", "ls"]))).not.toContain("appnet");
    expect(links()).not.toContain(USERBRIDGE);
    expect(nftTable()).not.toContain(`${USERNET}.`);
    expectNoNetworkLeft();
  });
});

describe("prune", () => {
  test("network prune takes the unused default bridge and its masquerade down; the next run makes them again", async () => {
    expect(links()).toContain(BRIDGE);
    expect(nftTable()).toContain(`${SUBNET}.0/24`);
    await t.ok(["network", "prune", "-f"]);
    expect(links()).not.toContain(BRIDGE);
    expect(nftTable()).not.toContain(`${SUBNET}.`);
    expect(nftTable()).not.toContain(BRIDGE);
    const r = await t.tsd(["run", "--rm", "busybox", "ip", "route"]);
    expect(r.stdout).toContain(`default via ${SUBNET}.1`);
    expect(links()).toContain(BRIDGE);
    await t.ok(["network", "prune", "-f"]);
    expect(links()).not.toContain(BRIDGE);
    expectNoNetworkLeft();
  });
});

describe("NAT turned off", () => {
  test('"nat": "none": the bridge works without NAT; -p is a clear error and leaves nothing', async () => {
    const r3 = new TestRoot("network-nonat");
    try {
      writeFileSync(`${r3.dir}/network.json`, JSON.stringify({ bridge: `te${process.pid}b4`, subnet: `10.235.${N}.0/24`, nat: "none" }));
      await r3.ok(["load", "-i", (await testImages()).busyboxDocker]);
      const ok = await r3.tsd(["run", "--rm", "busybox", "ip", "route"]);
      expect(ok.stdout).toContain(`default via 10.235.${N}.1`);
      expect(nftTable()).not.toContain(`10.235.${N}.`);
      const r = await r3.tsd(["run", "--rm", "-p", "80", "busybox", "true"]);
      expect(r.code).toBe(125);
      expect(r.stderr).toBe('tsd: publishing ports (-p/-P) needs NAT, which this root turns off ("nat": "none" in network.json): set "nftables" or "iptables" there\n');
      expect(await r3.ok(["ps", "-aq"])).toBe("");
      expect(existsSync(`${r3.dir}/netns`) ? readdirSync(`${r3.dir}/netns`) : []).toEqual([]);
    } finally {
      await r3.destroy();
    }
    expect(links()).not.toContain(`te${process.pid}b4`);
  });
});

describe("iptables and -P", () => {
  // A second root pinned to iptables (network.json "nat"), with its own bridge and subnet.
  const IPT_BRIDGE = `te${process.pid}b2`;
  const IPT_SUBNET = `10.233.${N}`;
  let r2: TestRoot;
  const iptRules = () => sh("iptables -w -t nat -S").out.split("\n").filter((l) => l.includes(`${IPT_SUBNET}.`) || l.includes(IPT_BRIDGE));

  beforeAll(async () => {
    r2 = new TestRoot("network-ipt");
    writeFileSync(`${r2.dir}/network.json`, JSON.stringify({ bridge: IPT_BRIDGE, subnet: `${IPT_SUBNET}.0/24`, nat: "iptables" }));
    await r2.ok(["load", "-i", (await testImages()).busyboxDocker]);
  });

  afterAll(async () => {
    const ids = (await r2.tsd(["ps", "-aq", "--no-trunc"])).stdout.split("\n").filter(Boolean);
    if (ids.length) await r2.tsd(["rm", "-f", ...ids]);
    await r2.tsd(["network", "prune", "-f"]);
    for (const rule of iptRules()) sh(`iptables -w -t nat ${rule.replace(/^-A /, "-D ")}`);
    sh(`iptables -w -t raw -D PREROUTING -d 127.0.0.0/8 -i ${IPT_BRIDGE} -j DROP 2>/dev/null`);
    if (links().includes(IPT_BRIDGE)) sh(`ip link del ${IPT_BRIDGE}`);
    await r2.destroy();
  });

  test("-P publishes the image's EXPOSE through iptables DNAT; rm removes the rules", async () => {
    // An image with EXPOSE 8080/tcp, made by commit --change.
    await r2.ok(["run", "--name", "base", "--network", "none", "busybox", "true"]);
    await r2.ok(["commit", "--change", "EXPOSE 8080/tcp", "base", "web:exposed"]);
    await r2.ok(["rm", "base"]);
    const id = (await r2.ok(["run", "-d", "-P", "--name", "exp", "web:exposed", "sh", "-c", "echo ipt > /tmp/index.html; exec httpd -f -p 8080 -h /tmp"])).trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    const line = (await r2.ok(["port", "exp", "8080"])).trim();
    expect(line).toMatch(/^0\.0\.0\.0:\d+$/);
    const port = Number(line.split(":")[1]);
    expect(iptRules().some((l) => l.includes(`--dport ${port} -j DNAT --to-destination ${IPT_SUBNET}.`))).toBe(true);
    expect(iptRules().some((l) => l.includes(`-s ${IPT_SUBNET}.0/24 ! -o ${IPT_BRIDGE} -j MASQUERADE`))).toBe(true);
    let body = "";
    for (let i = 0; i < 50 && body === ""; i++) {
      body = await fetch(`http://127.0.0.1:${port}/index.html`).then((r) => r.text()).catch(() => "");
      if (body === "") await Bun.sleep(50);
    }
    expect(body).toBe("ipt\n");
    expect(nftTable()).not.toContain(`${IPT_SUBNET}.`);
    await r2.ok(["rm", "-f", "exp"]);
    expect(iptRules().filter((l) => l.includes("-j DNAT"))).toEqual([]);
    await r2.ok(["network", "prune", "-f"]);
    expect(iptRules()).toEqual([]);
    expect(links()).not.toContain(IPT_BRIDGE);
    expect(r2.leaks()).toEqual([]);
  });

  test("the loopback guard holds with iptables too", async () => {
    await r2.ok(["run", "-d", "--name", "rawer", "busybox", "sleep", "60"]);
    expect(sh("iptables -w -t raw -S PREROUTING").out).toContain(`-A PREROUTING -d 127.0.0.0/8 -i ${IPT_BRIDGE} -j DROP`);
    expect(await localnetProbe(r2, "rawer", IPT_BRIDGE, PORT + 7)).toEqual(["control"]);
    await r2.ok(["rm", "-f", "rawer"]);
    await r2.ok(["network", "prune", "-f"]);
    expect(sh("iptables -w -t raw -S PREROUTING").out).not.toContain(IPT_BRIDGE);
  });
});

