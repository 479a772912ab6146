// The inputs of the TS side of each protocol across the seam (zig/CONTRACT.md). generate.ts
// writes what the TS writers make of them into fixtures/; contract.test.ts checks the
// committed fixtures are still what the TS writers make, and zig/contract.zig checks the Zig
// readers take them. The Zig writers' fixtures (report.txt, exit*.json, log.jsonl) go the
// other way: zig/contract.zig checks the Zig writers make them, contract.test.ts that the TS
// readers take them.
import { runOptionsFromFlags, type RunFlags } from "../../src/container/options";
import { buildSpec, type SpecContext } from "../../src/container/spec";
import { monitorArgv } from "../../src/container/start";
import { namespaceFlags } from "../../src/store/rootless";
import { resolverArgv } from "../../src/network/dns";
import type { ImageConfig } from "../../src/image/store";
import { hookStatePrefix, monitorArgs } from "../../src/runtime/create";

export const ID = "c0ffee".padEnd(64, "0");
export const ROOT = "/var/lib/tsd";
export const BUNDLE = `${ROOT}/containers/${ID}`;

const flags: RunFlags = {
  rm: false, interactive: true, tty: false, env: ["A=1", "QUOTED=a \"b\" \\c"], "env-file": [],
  volume: ["/srv/data:/data:ro", "/srv/rw:/rw"], tmpfs: ["/scratch:size=64m"],
  "read-only": false, privileged: false, "cap-add": ["NET_ADMIN"], "cap-drop": ["MKNOD"],
  workdir: "/w", hostname: "box", memory: "64m", cpus: "0.5", "pids-limit": "100",
  // Kernel-facing flags (container/kernel-options.ts): RLIM_INFINITY as JSON.stringify writes it.
  ulimit: ["core=-1", "nofile=100:200"], sysctl: ["net.ipv4.ip_forward=1"], pid: "host", ipc: "container:db",
};

const image: ImageConfig = {
  rootfs: { type: "layers", diff_ids: [] },
  config: { Entrypoint: ["/bin/sh", "-c"], Cmd: ["echo hi"], Env: ["PATH=/usr/bin:/bin"], User: "" },
};

const ctx: SpecContext = {
  id: ID, root: ROOT, bundle: BUNDLE, lowerLinks: ["L2ABC", "L1ABC"], hostname: "box",
  user: { uid: 0, gid: 0, additionalGids: [10], home: "/root" },
  etcFiles: { hostname: `${BUNDLE}/hostname`, hosts: `${BUNDLE}/hosts`, resolvConf: `${BUNDLE}/resolv.conf` },
  cgroup: {
    group: `tsd/${ID}`,
    procs: [`/sys/fs/cgroup/memory/tsd/${ID}/cgroup.procs`, `/sys/fs/cgroup/pids/tsd/${ID}/cgroup.procs`],
    mounts: [{ destination: "/sys/fs/cgroup", type: "cgroup2", source: "cgroup2", options: ["ro", "nosuid", "nodev", "noexec"] }],
  },
  netnsPath: `${ROOT}/netns/${ID}`,
  kernel: { ipcPath: "/proc/4242/ns/ipc" },
};

/** config.json of a run with mounts, limits, caps and the default seccomp profile. */
export function contractSpec(): unknown {
  // The host's seccomp syscall set depends on the architecture: x86_64 here.
  return buildSpec(runOptionsFromFlags(flags, ["busybox", "echo", "hi"], {}, () => ""), image, ctx);
}

/** The monitor's argv for an attached run with stdin (tsd run -it), a health check and the rootless fast path's namespaces. */
export function contractMonitorArgv(): string[] {
  const healthcheck = { Test: ["CMD-SHELL", "wget -q -O- http://127.0.0.1/ || exit 1"], Interval: 200e6, StartPeriod: 1e9, Retries: 5 };
  // With the rootless fast path's namespaces (store/rootless.ts namespaceArgs).
  return monitorArgv("tsd-monitor", { root: ROOT, id: ID, bundle: BUNDLE, stdin: true, healthcheck, detachKeys: [0x10, 0x11] }, ["/usr/local/bin/tsd"], namespaceFlags(4242, { user: 8, mnt: 9 }, "user+mount"));
}

/** A user network's resolver as the CLI starts it (argv after the executable). */
export function contractResolverArgv(): string[] {
  return ["tsd-monitor", ...resolverArgv(`${ROOT}/networks/${"ab12".padEnd(64, "0")}`, { gateway: "10.91.0.1", subnet: "10.91.0.0/24" }, ["127.0.0.53", "127.0.0.1:5353"])];
}

/** `tsd runtime create` (the OCI-runtime mode) as containerd calls it, with every option. */
const RT_DIR = "/run/containerd/runc/k8s.io/ctr1";
export function contractCreateArgv(): string[] {
  const o = { id: "ctr1", bundle: "/run/containerd/io.containerd.runtime.v2.task/k8s.io/ctr1", pidFile: "/p/init.pid", consoleSocket: "/tmp/pty1/pty.sock", noPivot: true, noNewKeyring: true, preserveFds: 2, wait: true };
  return ["tsd-monitor", ...monitorArgs(o, RT_DIR, ["/sys/fs/cgroup/pids/k8s/ctr1/cgroup.procs", "/sys/fs/cgroup/memory/k8s/ctr1/cgroup.procs"])];
}

/** The hooks' state prefix create writes (<root>/<id>/hook-state), with awkward annotations. */
export function contractHookState(): string {
  return hookStatePrefix({ ociVersion: "1.3.0", annotations: { "io.kubernetes.cri.container-type": "container", quoted: "a \"b\" \\c\nd" } }, "ctr1", "/b/ctr1");
}
