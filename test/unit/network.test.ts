import { describe, expect, test } from "bun:test";
import { broadcast, firstFree, formatIp, macForIp, overlaps, parseIp, parseMac, parseSubnet } from "../../src/network/ipv4";
import { hostsFile, parseAddHost, resolvConf } from "../../src/network/files";
import { exposedPorts, parseNetworkMode, parsePublish } from "../../src/network/ports";
import { portElement } from "../../src/network/nat";
import { hostRoutes } from "../../src/network/networks";
import { encodeOptions, networkOptionsFromFlags } from "../../src/container/options";
import { endpointRequest } from "../../src/container/network";
import { networkPlan } from "../../src/network/setup";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { UsageError } from "../../src/cli/globals";

describe("ipv4", () => {
  test("parse and format", () => {
    expect(formatIp(parseIp("10.89.1.254")!)).toBe("10.89.1.254");
    expect(parseIp("256.1.1.1")).toBeUndefined();
    expect(parseIp("1.2.3")).toBeUndefined();
    expect(parseSubnet("10.89.3.7/16")).toEqual({ network: parseIp("10.89.0.0")!, prefix: 16 });
    expect(parseSubnet("10.0.0.0/31")).toBeUndefined();
    expect(formatIp(broadcast(parseSubnet("10.1.2.0/24")!))).toBe("10.1.2.255");
  });
  test("firstFree skips network, used and broadcast", () => {
    const s = parseSubnet("10.1.2.0/30")!; // .1 .2 usable
    expect(formatIp(firstFree(s, new Set([parseIp("10.1.2.1")!]))!)).toBe("10.1.2.2");
    expect(firstFree(s, new Set([parseIp("10.1.2.1")!, parseIp("10.1.2.2")!]))).toBeUndefined();
  });
  test("overlaps", () => {
    expect(overlaps(parseSubnet("10.1.0.0/16")!, parseSubnet("10.1.5.0/24")!)).toBe(true);
    expect(overlaps(parseSubnet("10.1.0.0/24")!, parseSubnet("10.1.1.0/24")!)).toBe(false);
  });
  test("MACs", () => {
    expect(macForIp(parseIp("10.89.0.2")!)).toBe("02:42:0a:59:00:02");
    expect(parseMac("02:42:aa:bb:cc:dd")).toEqual([2, 0x42, 0xaa, 0xbb, 0xcc, 0xdd]);
    expect(parseMac("01:00:5e:00:00:01")).toBeUndefined(); // multicast
    expect(parseMac("zz")).toBeUndefined();
  });
  test("host routes from /proc/net/route", () => {
    const text = "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\n" +
      "eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\n" +
      "eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\n";
    expect(hostRoutes(text)).toEqual([{ network: parseIp("192.0.2.0")!, prefix: 24 }]);
  });
});

describe("resolv.conf and hosts", () => {
  const host = "# generated\nnameserver 127.0.0.53\nnameserver 192.0.2.1\nsearch a.example b.example\noptions edns0\n";
  const none = { dns: [], dnsSearch: [], dnsOptions: [] };
  test("loopback resolvers are dropped, the rest kept", () => {
    expect(resolvConf(host, none)).toBe("nameserver 192.0.2.1\nsearch a.example b.example\noptions edns0\n");
  });
  test("only loopback resolvers: Docker's fallback", () => {
    expect(resolvConf("nameserver 127.0.0.53\n", none)).toBe("nameserver 8.8.8.8\nnameserver 8.8.4.4\n");
  });
  test("host network keeps them", () => {
    expect(resolvConf("nameserver 127.0.0.53\n", none, true)).toBe("nameserver 127.0.0.53\n");
  });
  test("--dns, --dns-search (. clears), --dns-option replace", () => {
    expect(resolvConf(host, { dns: ["1.1.1.1"], dnsSearch: ["."], dnsOptions: ["ndots:2"] })).toBe("nameserver 1.1.1.1\noptions ndots:2\n");
  });
  test("--add-host", () => {
    expect(parseAddHost("db:10.0.0.9")).toEqual({ ip: "10.0.0.9", names: ["db"] });
    expect(parseAddHost("gw:host-gateway")).toEqual({ ip: "host-gateway", names: ["gw"] });
    expect(parseAddHost("v6:[::1]")).toEqual({ ip: "::1", names: ["v6"] });
    expect(parseAddHost("nocolon")).toBeUndefined();
    expect(parseAddHost("bad:notanip")).toBeUndefined();
  });
  test("hosts file: own address and name, peers, extra", () => {
    const text = hostsFile({ ip: "10.1.0.2", names: ["web", "api"] }, "abc", [{ ip: "10.1.0.3", names: ["db"] }], [{ ip: "10.9.9.9", names: ["x"] }]);
    expect(text).toContain("10.1.0.2\tabc web api\n10.1.0.3\tdb\n10.9.9.9\tx\n");
    expect(hostsFile(undefined, "abc", [], [])).toContain("127.0.1.1\tabc\n");
  });
});

describe("publish and network flags", () => {
  test("-p forms", () => {
    expect(parsePublish("8080:80")).toEqual({ hostIp: "0.0.0.0", hostPort: 8080, containerPort: 80, proto: "tcp" });
    expect(parsePublish("127.0.0.1:8080:80/udp")).toEqual({ hostIp: "127.0.0.1", hostPort: 8080, containerPort: 80, proto: "udp" });
    expect(parsePublish("127.0.0.1::80")).toEqual({ hostIp: "127.0.0.1", hostPort: 0, containerPort: 80, proto: "tcp" });
    expect(parsePublish("80")).toEqual({ hostIp: "0.0.0.0", hostPort: 0, containerPort: 80, proto: "tcp" });
    for (const bad of ["0:80", "80:70000", "x:80", "1.2.3:80:80", "80/sctp", "1:2:3:4", ":80"]) expect(() => parsePublish(bad)).toThrow(UsageError);
  });
  test("-P from EXPOSE", () => {
    expect(exposedPorts({ "80/tcp": {}, "53/udp": {}, "bad": {} })).toEqual([
      { hostIp: "0.0.0.0", hostPort: 0, containerPort: 80, proto: "tcp" },
      { hostIp: "0.0.0.0", hostPort: 0, containerPort: 53, proto: "udp" },
    ]);
  });
  test("--network values", () => {
    expect(parseNetworkMode(undefined)).toEqual({ kind: "bridge", network: "bridge" });
    expect(parseNetworkMode("none")).toEqual({ kind: "none" });
    expect(parseNetworkMode("container:web")).toEqual({ kind: "container", ref: "web" });
    expect(parseNetworkMode("appnet")).toEqual({ kind: "bridge", network: "appnet" });
    expect(() => parseNetworkMode("container:")).toThrow(UsageError);
  });
  test("conflicting flags are usage errors", () => {
    expect(() => networkOptionsFromFlags({ network: "host", publish: ["80"] } as never)).toThrow(UsageError);
    expect(() => networkOptionsFromFlags({ "network-alias": ["a"] } as never)).toThrow(UsageError);
    expect(() => networkOptionsFromFlags({ network: "none", ip: "10.0.0.2" } as never)).toThrow(UsageError);
    expect(() => networkOptionsFromFlags({ dns: ["nope"] } as never)).toThrow(UsageError);
    expect(networkOptionsFromFlags({ network: "appnet", "network-alias": ["a"], ip: "10.0.0.2" } as never)).toMatchObject({ network: "appnet", networkAliases: ["a"], ip: "10.0.0.2" });
  });
  test("nft map elements", () => {
    expect(portElement({ hostIp: "0.0.0.0", hostPort: 8080, proto: "tcp", containerIp: "10.1.0.2", containerPort: 80 })).toEqual(["ports_any", "tcp . 8080 : 10.1.0.2 . 80"]);
    expect(portElement({ hostIp: "127.0.0.1", hostPort: 53, proto: "udp", containerIp: "10.1.0.2", containerPort: 53 })).toEqual(["ports_ip", "127.0.0.1 . udp . 53 : 10.1.0.2 . 53"]);
  });
});

describe("the requests network/ works on (container/network.ts builds them)", () => {
  const id = "c".repeat(64);
  const row = (options: string) => ({ id, name: "web", image_id: "", image_ref: "", command: "[]", created_at: 0, state: "created" as const, pid: 0, monitor_pid: 0, exit_code: null, started_at: null, finished_at: null, error: null, auto_remove: 0, options });

  test("an endpoint request from the options and the bundle's hostname", () => {
    const root = mkdtempSync(join(tmpdir(), "tsd-req-"));
    try {
      mkdirSync(join(root, "containers", id), { recursive: true });
      writeFileSync(join(root, "containers", id, "hostname"), "box\n");
      const opts = { image: "img", command: [], network: "net1", networkAliases: ["a"], ip: "10.89.0.9", macAddress: "02:42:0a:59:00:09", publish: [parsePublish("8080:80")], addHost: ["h:1.2.3.4"] };
      expect(endpointRequest(root, row(encodeOptions(opts as never)))).toEqual({
        id, name: "web", hostname: "box", network: "net1", aliases: ["a"], ip: "10.89.0.9", mac: "02:42:0a:59:00:09",
        publish: [{ hostIp: "0.0.0.0", hostPort: 8080, containerPort: 80, proto: "tcp" }], addHost: ["h:1.2.3.4"],
      });
      // An older row without the network fields, and no hostname file: the defaults.
      rmSync(join(root, "containers", id, "hostname"));
      expect(endpointRequest(root, row('{"image":"img","command":[]}'))).toEqual({ id, name: "web", hostname: id.slice(0, 12), aliases: [], publish: [], addHost: [] });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  test("a plan: -P adds the image's exposed ports not published already; host and none keep -p as given", () => {
    const req = { id, dns: [], dnsSearch: [], dnsOptions: [], publish: [parsePublish("8080:80")], publishAll: true, exposed: { "80/tcp": {}, "53/udp": {} } };
    const bridge = networkPlan("/r", req);
    expect(bridge.publish.map((p) => `${p.hostPort}:${p.containerPort}/${p.proto}`)).toEqual(["8080:80/tcp", "0:53/udp"]);
    expect(bridge.netnsPath).toBe(`/r/netns/${id}`);
    expect(networkPlan("/r", { ...req, network: "none" })).toMatchObject({ publish: req.publish, netnsPath: undefined });
    expect(networkPlan("/r", { ...req, network: "host" })).toMatchObject({ publish: req.publish, netnsPath: null });
    expect(() => networkPlan("/r", { ...req, network: "container:x" })).toThrow(/target resolved/);
  });
});
