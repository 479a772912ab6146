// Rootless networking's pure parts (network/pasta.ts): pasta's arguments from the published
// ports, its messages, and the rootless default network.
import { expect, test } from "bun:test";
import { defaultGateway, firstLine, forwardSpec, pastaArgv, pastaPaths } from "../../src/network/pasta";
import { parseNetworkMode, publishes } from "../../src/network/ports";
import { rootlessNetwork } from "../../src/container/rootless";

const paths = pastaPaths("/r", "abc");

test("paths: the namespace where a bridge's would be, the pid file apart", () => {
  expect(paths).toEqual({ nsPath: "/r/netns/abc", pidFile: "/r/pasta/abc.pid" });
});

test("a forward: ADDR/HOST:CONTAINER, no address for every one of the host's", () => {
  expect(forwardSpec({ hostIp: "127.0.0.1", hostPort: 8080, containerPort: 80 })).toBe("127.0.0.1/8080:80");
  expect(forwardSpec({ hostIp: "0.0.0.0", hostPort: 5353, containerPort: 53 })).toBe("5353:53");
});

test("argv: only the published ports, none into the host's namespace", () => {
  const base = ["--config-net", "--netns", "/r/netns/abc", "--ns-ifname", "eth0", "--pid", "/r/pasta/abc.pid", "--quiet"];
  expect(pastaArgv(paths, [])).toEqual([...base, "-t", "none", "-u", "none", "-T", "none", "-U", "none"]);
  const ports = [
    { hostIp: "127.0.0.1", hostPort: 8080, containerPort: 80, proto: "tcp" as const },
    { hostIp: "0.0.0.0", hostPort: 8443, containerPort: 443, proto: "tcp" as const },
    { hostIp: "127.0.0.1", hostPort: 5353, containerPort: 53, proto: "udp" as const },
  ];
  expect(pastaArgv(paths, ports)).toEqual([...base, "-t", "127.0.0.1/8080:80", "-t", "8443:443", "-u", "127.0.0.1/5353:53", "-T", "none", "-U", "none"]);
});

test("pasta's message: its first line, not its complaints about syslog", () => {
  expect(firstLine("Failed to send 51 bytes to syslog\nFailed to bind port 8080\n")).toBe("Failed to bind port 8080");
  expect(firstLine("\n")).toBe("no message");
});

test("--network pasta is a mode that publishes; rootless defaults to it", () => {
  expect(parseNetworkMode("pasta")).toEqual({ kind: "pasta" });
  expect(publishes(parseNetworkMode("pasta"))).toBe(true);
  expect(publishes(parseNetworkMode("none"))).toBe(false);
  expect(rootlessNetwork(undefined)).toBe("pasta");
  expect(rootlessNetwork("default")).toBe("pasta");
  expect(rootlessNetwork("none")).toBe("none");
  expect(rootlessNetwork("bridge")).toBe("bridge");
});

test("the host's default gateway from /proc/net/route: host-gateway under pasta", () => {
  const head = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n";
  const route = `${head}tsd0\t0000590A\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\neth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n`;
  expect(defaultGateway(route)).toBe("192.0.2.1");
  // A default route that is down (no RTF_UP) or has no gateway does not count.
  expect(defaultGateway(`${head}eth0\t00000000\t010200C0\t0002\t0\t0\t0\t00000000\t0\t0\t0\n`)).toBeUndefined();
  expect(defaultGateway(head)).toBeUndefined();
});
