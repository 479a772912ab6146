// Seccomp profiles: Docker's profile format → the OCI spec's linux.seccomp for one container,
// rendered as moby does (profiles/seccomp setupSeccomp): a rule stays when the container's
// bounding capabilities, the host architecture and kernel satisfy its includes/excludes.
// The Zig core compiles the result to BPF (zig/runtime/seccomp.zig). Pure: the caller passes
// the capabilities, architecture and kernel release.
import { arch as hostArch, release as hostRelease } from "node:os";
import { DOCKER_DEFAULT_PROFILE } from "./seccomp-default";

export interface SeccompArg {
  index: number;
  value: number;
  valueTwo?: number;
  op: string;
}

/** One entry of Docker's `syscalls`; `name` is the old single-name spelling. */
export interface DockerSyscall {
  names?: string[];
  name?: string;
  action: string;
  errnoRet?: number;
  args?: SeccompArg[] | null;
  comment?: string;
  includes?: Filter;
  excludes?: Filter;
}

interface Filter {
  caps?: string[];
  arches?: string[];
  minKernel?: string;
}

/** Docker's seccomp profile file (a superset of the OCI form). */
export interface DockerProfile {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  archMap?: { architecture: string; subArchitectures: string[] | null }[];
  flags?: string[];
  listenerPath?: string;
  syscalls?: DockerSyscall[] | null;
}

/** runtime-spec linux.seccomp. */
export interface OciSeccomp {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures: string[];
  flags?: string[];
  listenerPath?: string;
  syscalls: { names: string[]; action: string; errnoRet?: number; args?: SeccompArg[] }[];
}

export interface Host {
  /** Go's GOARCH spelling, which profiles use in includes/excludes: amd64, arm64 … */
  arch: string;
  /** uname -r */
  kernel: string;
}

const GOARCH: Record<string, string> = { x64: "amd64", arm64: "arm64", arm: "arm", ia32: "386", s390x: "s390x", ppc64: "ppc64le", riscv64: "riscv64", loong64: "loong64" };
const NATIVE_SCMP: Record<string, string> = {
  amd64: "SCMP_ARCH_X86_64", arm64: "SCMP_ARCH_AARCH64", arm: "SCMP_ARCH_ARM", "386": "SCMP_ARCH_X86",
  s390x: "SCMP_ARCH_S390X", ppc64le: "SCMP_ARCH_PPC64LE", riscv64: "SCMP_ARCH_RISCV64", loong64: "SCMP_ARCH_LOONGARCH64",
};

export function thisHost(): Host {
  return { arch: GOARCH[hostArch()] ?? hostArch(), kernel: hostRelease() };
}

/** Docker's default profile for a container whose bounding set is `caps`. */
export function defaultSeccomp(caps: readonly string[], host: Host = thisHost()): OciSeccomp {
  return renderProfile(DOCKER_DEFAULT_PROFILE, caps, host);
}

export function renderProfile(p: DockerProfile, caps: readonly string[], host: Host): OciSeccomp {
  if (typeof p !== "object" || p === null || typeof p.defaultAction !== "string") {
    throw new Error("the profile has no defaultAction");
  }
  if (p.architectures?.length && p.archMap?.length) throw new Error("use either 'architectures' or 'archMap', not both");
  const native = NATIVE_SCMP[host.arch];
  const architectures = p.archMap?.length
    ? p.archMap.filter((a) => a.architecture === native).flatMap((a) => [a.architecture, ...(a.subArchitectures ?? [])])
    : (p.architectures ?? []);
  const syscalls: OciSeccomp["syscalls"] = [];
  for (const call of p.syscalls ?? []) {
    if (call.name && call.names?.length) throw new Error("a syscall rule has both 'name' and 'names': use one");
    if (!applies(call, caps, host)) continue;
    const names = call.name ? [call.name] : (call.names ?? []);
    for (const a of call.args ?? []) {
      // JSON numbers past 2^53 lose their low bits in JavaScript: refuse rather than filter on another value.
      for (const v of [a.value, a.valueTwo ?? 0]) {
        if (!Number.isSafeInteger(v) || v < 0) throw new Error(`argument value ${v} of "${names.join(",")}" is not an integer in 0..2^53`);
      }
    }
    syscalls.push({
      names,
      action: call.action,
      ...(call.errnoRet !== undefined ? { errnoRet: call.errnoRet } : {}),
      ...(call.args?.length ? { args: call.args } : {}),
    });
  }
  return {
    defaultAction: p.defaultAction,
    ...(p.defaultErrnoRet !== undefined ? { defaultErrnoRet: p.defaultErrnoRet } : {}),
    architectures,
    ...(p.flags?.length ? { flags: p.flags } : {}),
    ...(p.listenerPath ? { listenerPath: p.listenerPath } : {}),
    syscalls,
  };
}

function applies(call: DockerSyscall, caps: readonly string[], host: Host): boolean {
  const ex = call.excludes ?? {};
  const inc = call.includes ?? {};
  if (ex.arches?.includes(host.arch)) return false;
  if (ex.caps?.some((c) => caps.includes(c))) return false;
  if (ex.minKernel && kernelAtLeast(host.kernel, ex.minKernel)) return false;
  if (inc.arches?.length && !inc.arches.includes(host.arch)) return false;
  if (inc.caps?.some((c) => !caps.includes(c))) return false;
  if (inc.minKernel && !kernelAtLeast(host.kernel, inc.minKernel)) return false;
  return true;
}

/** "6.18.44-1-amd64" ≥ "4.8"? Compares major, minor, then patch. */
export function kernelAtLeast(release: string, min: string): boolean {
  const nums = (s: string) => (s.match(/^(\d+)(?:\.(\d+))?(?:\.(\d+))?/)?.slice(1) ?? []).map((n) => Number(n ?? 0));
  const have = nums(release);
  const want = nums(min);
  if (want.length === 0) throw new Error(`invalid minKernel "${min}"`);
  for (let i = 0; i < 3; i++) {
    const a = have[i] ?? 0;
    const b = want[i] ?? 0;
    if (a !== b) return a > b;
  }
  return true;
}

/** A Docker-format profile file's text (as `--security-opt seccomp=FILE` reads it). */
export function parseProfile(text: string): DockerProfile {
  let p: unknown;
  try {
    p = JSON.parse(text);
  } catch (e) {
    throw new Error(`decoding seccomp profile failed: ${(e as Error).message}`);
  }
  if (typeof p !== "object" || p === null || Array.isArray(p)) throw new Error("decoding seccomp profile failed: not a JSON object");
  return p as DockerProfile;
}

// ---- --security-opt ------------------------------------------------------------------------

export type SeccompChoice = { kind: "default" } | { kind: "unconfined" } | { kind: "profile"; path: string; profile: DockerProfile };

export interface SecurityOptions {
  seccomp: SeccompChoice;
  /** Set by no-new-privileges[=true|false]; else the engine's default. */
  noNewPrivileges?: boolean;
}

/**
 * Docker's --security-opt values: seccomp=unconfined|PATH, no-new-privileges[=BOOL] (also the
 * old `:` spelling), label=… and apparmor=… (accepted; tsd has neither SELinux nor AppArmor
 * support, so, like Docker on a host without them, they change nothing).
 */
export function parseSecurityOpts(opts: readonly string[], readFile: (path: string) => string): SecurityOptions {
  const out: SecurityOptions = { seccomp: { kind: "default" } };
  for (const opt of opts) {
    const m = /^([a-z-]+)(?:[=:](.*))?$/s.exec(opt);
    const key = m?.[1];
    const value = m?.[2];
    if (key === "no-new-privileges") {
      if (value === undefined || value === "true") out.noNewPrivileges = true;
      else if (value === "false") out.noNewPrivileges = false;
      else throw new Error(`invalid --security-opt "${opt}": no-new-privileges takes true or false`);
    } else if (key === "seccomp" && value !== undefined && value !== "") {
      if (value === "unconfined") out.seccomp = { kind: "unconfined" };
      else if (value === "builtin") out.seccomp = { kind: "default" };
      else out.seccomp = { kind: "profile", path: value, profile: parseProfile(readProfile(value, readFile)) };
    } else if ((key === "label" || key === "apparmor") && value !== undefined) {
      // Accepted for compatibility; nothing to apply.
    } else {
      throw new Error(`invalid --security-opt "${opt}": use seccomp=unconfined|PROFILE.json, no-new-privileges[=true|false], label=… or apparmor=…`);
    }
  }
  return out;
}

function readProfile(path: string, readFile: (path: string) => string): string {
  try {
    return readFile(path);
  } catch (e) {
    throw new Error(`opening seccomp profile (${path}) failed: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** The container's linux.seccomp, or undefined for none (--privileged, seccomp=unconfined). */
export function seccompFor(choice: SeccompChoice, privileged: boolean, caps: readonly string[], host: Host = thisHost()): OciSeccomp | undefined {
  // Docker (daemon WithSeccomp): --privileged runs unconfined even with a profile given.
  if (privileged || choice.kind === "unconfined") return undefined;
  if (choice.kind === "profile") return renderProfile(choice.profile, caps, host);
  return defaultSeccomp(caps, host);
}

/** inspect's HostConfig.SecurityOpt: what --security-opt set, as Docker shows it (a profile as its JSON). */
export function securityOptStrings(o: { seccomp?: SeccompChoice; noNewPrivileges?: boolean }): string[] | null {
  const out: string[] = [];
  if (o.seccomp?.kind === "unconfined") out.push("seccomp=unconfined");
  if (o.seccomp?.kind === "profile") out.push(`seccomp=${JSON.stringify(o.seccomp.profile)}`);
  if (o.noNewPrivileges !== undefined) out.push(`no-new-privileges=${o.noNewPrivileges}`);
  return out.length ? out : null;
}
