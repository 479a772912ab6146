// The network driver alone, without a container: what a bridge run adds to `tsd run`.
// Per iteration: the namespace + veth + address + route (tsd_net_attach, one forked child),
// then the release as tsd does it (link down + unbind the namespace) and, for comparison, the
// synchronous veth delete it avoids. By hand only:
//
//   sudo bun bench/network-setup.ts [N]        (default 100; needs a built zig-out/lib/libtsd.so)
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { loadCore, netAttach, netBridge, netLinkDelete, netLinkDown, netnsRemove } from "../src/native/ffi";

const n = Number(process.argv[2] ?? 100);
const root = mkdtempSync("/dev/shm/tsd-bench-netsetup-");
mkdirSync(join(root, "netns"));
loadCore(root);
const ip = (s: string) => s.split(".").reduce((a, b) => (a << 8) | Number(b), 0) >>> 0;
const BRIDGE = "tsdbenchs0";
netBridge(BRIDGE, ip("10.238.0.1"), 24, 1500);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const attach: number[] = [];
const releaseDown: number[] = [];
const releaseDelete: number[] = [];
try {
  for (let i = 0; i < n; i++) {
    const ns = join(root, "netns", `c${i}`);
    const host = `tvbench${i % 2}`;
    let t = performance.now();
    netAttach({ nsPath: ns, create: true, ifname: "eth0", hostIfname: host, bridge: BRIDGE, ip: ip("10.238.0.2"), prefix: 24, gateway: ip("10.238.0.1"), mtu: 1500 });
    attach.push(performance.now() - t);
    t = performance.now();
    if (i % 2 === 0) {
      netLinkDown(host);
      netnsRemove(ns);
      releaseDown.push(performance.now() - t);
      // The namespace's end deletes the pair asynchronously; wait for it outside the timing.
      for (let k = 0; k < 200 && netLinkDelete(host); k++) await Bun.sleep(1);
    } else {
      netLinkDelete(host);
      netnsRemove(ns);
      releaseDelete.push(performance.now() - t);
    }
  }
} finally {
  netLinkDelete(BRIDGE);
  rmSync(root, { recursive: true, force: true });
}
console.log(
  `network driver, median of ${n}: attach ${median(attach).toFixed(2)} ms; ` +
    `release (down + unbind) ${median(releaseDown).toFixed(2)} ms vs (delete + unbind) ${median(releaseDelete).toFixed(2)} ms ` +
    `(${(median(releaseDelete) / median(releaseDown)).toFixed(0)}x)`,
);
