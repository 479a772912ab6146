import { describe, expect, test } from "bun:test";
import { defaultSeccomp, kernelAtLeast, parseSecurityOpts, renderProfile, seccompFor, securityOptStrings, type Host, type OciSeccomp } from "../../src/container/seccomp";
import { CLONE_NAMESPACE_FLAGS } from "../../src/container/seccomp-default";
import { DEFAULT_CAPS, ALL_CAPS } from "../../src/container/caps";
import { buildSpec } from "../../src/container/spec";
import { runOptionsFromFlags, type RunFlags } from "../../src/container/options";
import { UsageError } from "../../src/cli/globals";

const amd64: Host = { arch: "amd64", kernel: "6.18.44-amd64" };

/** Every rule naming `name`. */
const rulesFor = (p: OciSeccomp, name: string) => p.syscalls.filter((s) => s.names.includes(name));
const allowedOutright = (p: OciSeccomp, name: string) => rulesFor(p, name).some((r) => r.action === "SCMP_ACT_ALLOW" && !r.args);

describe("Docker's default profile, rendered for a container", () => {
  const dflt = defaultSeccomp(DEFAULT_CAPS, amd64);

  test("EPERM by default; x86_64 with its i386 and x32 sub-architectures", () => {
    expect(dflt.defaultAction).toBe("SCMP_ACT_ERRNO");
    expect(dflt.defaultErrnoRet).toBe(1);
    expect(dflt.architectures).toEqual(["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]);
    expect(defaultSeccomp(DEFAULT_CAPS, { arch: "arm64", kernel: "6.1" }).architectures).toEqual(["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"]);
  });

  test("the ordinary calls are allowed; no includes/excludes reach the OCI form", () => {
    for (const name of ["read", "write", "openat", "execve", "exit_group", "futex", "mmap", "rt_sigaction", "arch_prctl", "modify_ldt"]) {
      expect(allowedOutright(dflt, name)).toBe(true);
    }
    for (const r of dflt.syscalls) expect(Object.keys(r).sort()).toEqual(expect.arrayContaining(["action", "names"]));
    expect(JSON.stringify(dflt)).not.toMatch(/includes|excludes|comment/);
  });

  test("without CAP_SYS_ADMIN: no mount, unshare, setns; clone only without namespace flags; clone3 is ENOSYS", () => {
    for (const name of ["mount", "umount2", "unshare", "setns", "bpf", "perf_event_open", "reboot", "init_module", "kcmp"]) {
      expect(rulesFor(dflt, name)).toEqual([]);
    }
    expect(rulesFor(dflt, "clone")).toEqual([
      { names: ["clone"], action: "SCMP_ACT_ALLOW", args: [{ index: 0, value: CLONE_NAMESPACE_FLAGS, op: "SCMP_CMP_MASKED_EQ" }] },
    ]);
    expect(CLONE_NAMESPACE_FLAGS).toBe(2114060288);
    expect(rulesFor(dflt, "clone3")).toEqual([{ names: ["clone3"], action: "SCMP_ACT_ERRNO", errnoRet: 38 }]);
  });

  test("socket: every family but AF_ALG (38) and AF_VSOCK (40); personality: the harmless ones", () => {
    expect(rulesFor(dflt, "socket").map((r) => r.args)).toEqual([
      [{ index: 0, value: 38, op: "SCMP_CMP_LT" }],
      [{ index: 0, value: 39, op: "SCMP_CMP_EQ" }],
      [{ index: 0, value: 40, op: "SCMP_CMP_GT" }],
    ]);
    expect(rulesFor(dflt, "personality").map((r) => r.args![0]!.value)).toEqual([0, 8, 0x20000, 0x20008, 0xffffffff]);
  });

  test("CAP_SYS_ADMIN opens its group and drops the clone restrictions", () => {
    const admin = defaultSeccomp([...DEFAULT_CAPS, "CAP_SYS_ADMIN"], amd64);
    for (const name of ["mount", "unshare", "setns", "clone", "clone3", "sethostname"]) expect(allowedOutright(admin, name)).toBe(true);
    expect(rulesFor(admin, "clone").some((r) => r.args)).toBe(false);
    expect(rulesFor(admin, "clone3").some((r) => r.action === "SCMP_ACT_ERRNO")).toBe(false);
  });

  test("other capability groups follow their capability", () => {
    const cases: [string, string[]][] = [
      ["CAP_SYS_PTRACE", ["kcmp", "pidfd_getfd", "process_madvise"]],
      ["CAP_SYS_MODULE", ["init_module", "finit_module", "delete_module"]],
      ["CAP_SYS_BOOT", ["reboot"]],
      ["CAP_SYS_TIME", ["settimeofday", "clock_settime"]],
      ["CAP_SYS_NICE", ["mbind", "set_mempolicy"]],
      ["CAP_BPF", ["bpf"]],
      ["CAP_PERFMON", ["perf_event_open"]],
      ["CAP_DAC_READ_SEARCH", ["open_by_handle_at"]],
    ];
    for (const [cap, names] of cases) {
      const p = defaultSeccomp([...DEFAULT_CAPS, cap], amd64);
      for (const n of names) {
        expect(allowedOutright(dflt, n)).toBe(false);
        expect(allowedOutright(p, n)).toBe(true);
      }
    }
    // chroot: in Docker's default capabilities, so in the default profile.
    expect(allowedOutright(dflt, "chroot")).toBe(true);
    expect(allowedOutright(defaultSeccomp(DEFAULT_CAPS.filter((c) => c !== "CAP_SYS_CHROOT"), amd64), "chroot")).toBe(false);
  });

  test("architecture- and kernel-conditional rules", () => {
    expect(rulesFor(dflt, "cacheflush")).toEqual([]);
    expect(rulesFor(dflt, "s390_runtime_instr")).toEqual([]);
    expect(allowedOutright(defaultSeccomp(DEFAULT_CAPS, { arch: "arm64", kernel: "6.1" }), "cacheflush")).toBe(true);
    expect(allowedOutright(defaultSeccomp(DEFAULT_CAPS, { arch: "arm64", kernel: "6.1" }), "arch_prctl")).toBe(false);
    // ptrace needs kernel 4.8 (the seccomp bypass through ptrace was fixed there).
    expect(allowedOutright(dflt, "ptrace")).toBe(true);
    expect(allowedOutright(defaultSeccomp(DEFAULT_CAPS, { arch: "amd64", kernel: "4.4.0" }), "ptrace")).toBe(false);
  });

  test("kernel versions compare numerically", () => {
    expect(kernelAtLeast("6.18.44-1-amd64", "4.8")).toBe(true);
    expect(kernelAtLeast("4.10.0", "4.8")).toBe(true);
    expect(kernelAtLeast("4.8", "4.8")).toBe(true);
    expect(kernelAtLeast("4.7.10", "4.8")).toBe(false);
    expect(kernelAtLeast("3.99", "4.8")).toBe(false);
  });
});

describe("Docker-format profiles", () => {
  test("architectures pass through; name and names; arg values beyond 2^53 are refused", () => {
    const p = renderProfile(
      { defaultAction: "SCMP_ACT_ALLOW", architectures: ["SCMP_ARCH_X86_64"], syscalls: [{ name: "mkdir", action: "SCMP_ACT_ERRNO", errnoRet: 28 }] },
      [], amd64,
    );
    expect(p).toEqual({ defaultAction: "SCMP_ACT_ALLOW", architectures: ["SCMP_ARCH_X86_64"], syscalls: [{ names: ["mkdir"], action: "SCMP_ACT_ERRNO", errnoRet: 28 }] });
    expect(() => renderProfile({ defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ name: "a", names: ["b"], action: "SCMP_ACT_ALLOW" }] }, [], amd64)).toThrow(/both 'name' and 'names'/);
    expect(() => renderProfile({ defaultAction: "SCMP_ACT_ALLOW", architectures: ["SCMP_ARCH_X86"], archMap: [{ architecture: "SCMP_ARCH_X86_64", subArchitectures: [] }] }, [], amd64)).toThrow(/either/);
    expect(() => renderProfile({ defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["x"], action: "SCMP_ACT_ERRNO", args: [{ index: 0, value: 2 ** 60, op: "SCMP_CMP_EQ" }] }] }, [], amd64)).toThrow(/2\^53/);
  });
});

describe("--security-opt", () => {
  const files: Record<string, string> = { "/p.json": '{"defaultAction":"SCMP_ACT_LOG"}', "/bad.json": "{nope" };
  const read = (p: string) => {
    if (!(p in files)) throw Object.assign(new Error("no such file"), { code: "ENOENT" });
    return files[p]!;
  };

  test("seccomp, no-new-privileges, label", () => {
    expect(parseSecurityOpts([], read)).toEqual({ seccomp: { kind: "default" } });
    expect(parseSecurityOpts(["seccomp=unconfined"], read).seccomp).toEqual({ kind: "unconfined" });
    expect(parseSecurityOpts(["seccomp=/p.json"], read).seccomp).toEqual({ kind: "profile", path: "/p.json", profile: { defaultAction: "SCMP_ACT_LOG" } });
    expect(parseSecurityOpts(["no-new-privileges"], read).noNewPrivileges).toBe(true);
    expect(parseSecurityOpts(["no-new-privileges=false"], read).noNewPrivileges).toBe(false);
    expect(parseSecurityOpts(["no-new-privileges:true"], read).noNewPrivileges).toBe(true);
    expect(parseSecurityOpts(["label=disable", "label=type:svirt_t", "apparmor=unconfined"], read)).toEqual({ seccomp: { kind: "default" } });
  });

  test("bad values are usage errors naming the fix", () => {
    expect(() => parseSecurityOpts(["seccomp=/missing.json"], read)).toThrow("opening seccomp profile (/missing.json) failed: ENOENT");
    expect(() => parseSecurityOpts(["seccomp=/bad.json"], read)).toThrow(/decoding seccomp profile failed/);
    expect(() => parseSecurityOpts(["seccomp"], read)).toThrow(/invalid --security-opt "seccomp"/);
    expect(() => parseSecurityOpts(["no-new-privileges=yes"], read)).toThrow(/true or false/);
    expect(() => parseSecurityOpts(["nope=1"], read)).toThrow(/invalid --security-opt/);
  });

  test("inspect's SecurityOpt", () => {
    expect(securityOptStrings({ seccomp: { kind: "default" } })).toBeNull();
    expect(securityOptStrings({ seccomp: { kind: "unconfined" }, noNewPrivileges: false })).toEqual(["seccomp=unconfined", "no-new-privileges=false"]);
    expect(securityOptStrings({ seccomp: { kind: "profile", path: "/p", profile: { defaultAction: "SCMP_ACT_LOG" } } })).toEqual(['seccomp={"defaultAction":"SCMP_ACT_LOG"}']);
  });

  test("--privileged and unconfined have no filter; a profile is rendered for the caps", () => {
    expect(seccompFor({ kind: "default" }, true, ALL_CAPS, amd64)).toBeUndefined();
    expect(seccompFor({ kind: "unconfined" }, false, DEFAULT_CAPS, amd64)).toBeUndefined();
    expect(seccompFor({ kind: "profile", path: "/p", profile: { defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["x"], action: "SCMP_ACT_LOG", includes: { caps: ["CAP_BPF"] } }] } }, false, DEFAULT_CAPS, amd64))
      .toEqual({ defaultAction: "SCMP_ACT_ALLOW", architectures: [], syscalls: [] });
  });
});

describe("flags → spec", () => {
  const noFlags: RunFlags = {
    rm: false, interactive: false, tty: false, env: [], "env-file": [], volume: [], tmpfs: [],
    "read-only": false, privileged: false, "cap-add": [], "cap-drop": [],
  };
  const image = { rootfs: { type: "layers", diff_ids: [] }, config: { Cmd: ["sh"] } };
  const ctx = {
    id: "a".repeat(64), root: "/r", bundle: `/r/containers/${"a".repeat(64)}`, lowerLinks: ["L1"], hostname: "box",
    user: { uid: 0, gid: 0, additionalGids: [], home: "/root" }, etcFiles: { hostname: "/b/hostname", hosts: "/b/hosts" },
  };
  const spec = (f: Partial<RunFlags>) => buildSpec(runOptionsFromFlags({ ...noFlags, ...f }, ["busybox"], {}, () => '{"defaultAction":"SCMP_ACT_ALLOW"}'), image, ctx);

  test("the default profile for the bounding set; none when privileged or unconfined", () => {
    expect(spec({}).linux.seccomp?.defaultAction).toBe("SCMP_ACT_ERRNO");
    expect(spec({}).linux.seccomp?.syscalls.some((s) => s.names.includes("unshare"))).toBe(false);
    expect(spec({ "cap-add": ["SYS_ADMIN"] }).linux.seccomp?.syscalls.some((s) => s.names.includes("unshare"))).toBe(true);
    expect(spec({ privileged: true }).linux.seccomp).toBeUndefined();
    expect(spec({ "security-opt": ["seccomp=unconfined"] }).linux.seccomp).toBeUndefined();
    expect(spec({ "security-opt": ["seccomp=/x.json"] }).linux.seccomp).toEqual({ defaultAction: "SCMP_ACT_ALLOW", architectures: [], syscalls: [] });
  });

  test("no_new_privs: on by default, off when privileged, as --security-opt says otherwise", () => {
    expect(spec({}).process.noNewPrivileges).toBe(true);
    expect(spec({ privileged: true }).process.noNewPrivileges).toBe(false);
    expect(spec({ "security-opt": ["no-new-privileges=false"] }).process.noNewPrivileges).toBe(false);
    expect(spec({ privileged: true, "security-opt": ["no-new-privileges"] }).process.noNewPrivileges).toBe(true);
  });

  test("a bad option is a usage error", () => {
    expect(() => spec({ "security-opt": ["bogus"] })).toThrow(UsageError);
  });
});
