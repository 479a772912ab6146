import { describe, expect, test } from "bun:test";
import { dnsHostsText, upstreams } from "../../src/network/dns";
import { resolvConf } from "../../src/network/files";

describe("the user networks' resolver (network/dns.ts)", () => {
  test("dns-hosts: one line per container, its name first, names without spaces each once", () => {
    expect(dnsHostsText([
      { ip: "10.1.0.2", names: ["web", "0123456789ab", "front", "web"] },
      { ip: "10.1.0.3", names: ["db", "bad name", "#x"] },
    ])).toBe("10.1.0.2 web 0123456789ab front\n10.1.0.3 db\n");
    expect(dnsHostsText([])).toBe("");
  });

  test("upstreams: network.json's dns_upstream, else the host's IPv4 nameservers (loopback too), else Docker's fallback", () => {
    expect(upstreams(["127.0.0.1:5353", "127.1.2.3"], "nameserver 192.0.2.1\n")).toEqual(["127.0.0.1:5353", "127.1.2.3"]);
    expect(upstreams("127.0.0.1", "")).toEqual(["127.0.0.1"]);
    expect(upstreams(undefined, "nameserver 127.0.0.53\nnameserver ::1\nnameserver 192.0.2.1 # x\nsearch a\n")).toEqual(["127.0.0.53", "192.0.2.1"]);
    expect(upstreams(undefined, "search a\n")).toEqual(["8.8.8.8", "8.8.4.4"]);
    for (const bad of [[], ["::1"], ["1.2.3.4:0"], ["1.2.3.4:70000"], [1], ["a", "b", "c", "d", "e"], {}]) {
      expect(() => upstreams(bad, "")).toThrow('"dns_upstream"');
    }
  });

  test("a user network's container asks the gateway and keeps the host's search and options", () => {
    const host = "nameserver 127.0.0.53\nsearch corp.example\noptions edns0 trust-ad\n";
    expect(resolvConf(host, { dns: ["10.91.0.1"], dnsSearch: [], dnsOptions: [] })).toBe("nameserver 10.91.0.1\nsearch corp.example\noptions edns0 trust-ad\n");
  });
});
