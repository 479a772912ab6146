// Which device nodes a container may open (and mknod): the device cgroup. Docker's default
// (runc's AllowedDevices): deny everything, then allow mknod of any node (opening is what
// matters) and the few devices every container has. A container with CAP_MKNOD (Docker's
// default set) could otherwise make and open the host's disks, /dev/kmsg or a host tty.
// --privileged: everything. Pure; v1 writes them to devices.deny/devices.allow, the OCI spec
// carries them in linux.resources.devices; cgroup v2 has no files for them: libtsd attaches
// them to the group as an eBPF program (zig/cgroup/device_filter.zig).

export interface DeviceRule {
  allow: boolean;
  type: "a" | "c" | "b";
  major?: number; // undefined: any (*)
  minor?: number;
  access: string; // of "rwm"
}

const dev = (type: "c" | "b", major: number | undefined, minor: number | undefined, access = "rwm"): DeviceRule => ({ allow: true, type, ...(major !== undefined ? { major } : {}), ...(minor !== undefined ? { minor } : {}), access });

export const DEFAULT_DEVICE_RULES: readonly DeviceRule[] = [
  { allow: false, type: "a", access: "rwm" },
  dev("c", undefined, undefined, "m"),
  dev("b", undefined, undefined, "m"),
  dev("c", 1, 3), // /dev/null
  dev("c", 1, 5), // /dev/zero
  dev("c", 1, 7), // /dev/full
  dev("c", 1, 8), // /dev/random
  dev("c", 1, 9), // /dev/urandom
  dev("c", 5, 0), // /dev/tty
  dev("c", 5, 1), // /dev/console
  dev("c", 5, 2), // /dev/ptmx
  dev("c", 136, undefined), // /dev/pts/*
  dev("c", 10, 200), // /dev/net/tun
];

/** `granted`: the --device nodes' rules (grantedDeviceRules), after the defaults. */
export function deviceRules(privileged: boolean, granted: readonly DeviceRule[] = []): readonly DeviceRule[] {
  return privileged ? [{ allow: true, type: "a", access: "rwm" }] : [...DEFAULT_DEVICE_RULES, ...granted];
}

/** A --device mapping as the cgroup side sees it: its permissions and the host nodes found. */
export interface GrantedDevices {
  cgroupPermissions: string;
  nodes?: readonly { type: "c" | "b"; major: number; minor: number }[];
}

/** Each --device node allowed with its mapping's permissions (of "rwm"), as Docker does. */
export function grantedDeviceRules(devices: readonly GrantedDevices[] | undefined): DeviceRule[] {
  return (devices ?? []).flatMap((d) => (d.nodes ?? []).map((n): DeviceRule => ({ allow: true, type: n.type, major: n.major, minor: n.minor, access: d.cgroupPermissions })));
}

/** "c 1:3 rwm", as v1 devices.allow / devices.deny take it. */
export function v1DeviceLine(r: DeviceRule): string {
  if (r.type === "a") return "a";
  return `${r.type} ${r.major ?? "*"}:${r.minor ?? "*"} ${r.access}`;
}

/** The rules as libtsd's device filter takes them (zig/cgroup/device_filter.zig): four u32 a
 *  rule: flags (bit 0 allow, bits 1-2 type: 0 a, 1 b, 2 c), major, minor, access (m=1 r=2 w=4),
 *  0xffffffff for a wildcard number. */
export function encodeDeviceRules(rules: readonly DeviceRule[]): Uint32Array {
  const ANY = 0xffffffff;
  const type = { a: 0, b: 1, c: 2 } as const;
  const access = (s: string) => (s.includes("m") ? 1 : 0) | (s.includes("r") ? 2 : 0) | (s.includes("w") ? 4 : 0);
  return Uint32Array.from(rules.flatMap((r) => [(r.allow ? 1 : 0) | (type[r.type] << 1), r.major ?? ANY, r.minor ?? ANY, access(r.access)]));
}

/** The rules as OCI linux.resources.devices. */
export function ociDeviceRules(rules: readonly DeviceRule[]): Record<string, unknown>[] {
  return rules.map((r) => ({ allow: r.allow, type: r.type, ...(r.major !== undefined ? { major: r.major } : {}), ...(r.minor !== undefined ? { minor: r.minor } : {}), access: r.access }));
}
