// `tsd inspect`: a container as Docker's ContainerJSON shows it (the fields scripts read).
import { usernsMode } from "./userns";
import type { Database } from "bun:sqlite";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { containerDir } from "../store/paths";
import { endpointsOf, findNetwork } from "../network/networks";
import { portsOf } from "../network/attach";
import { readExitStatus } from "./cleanup";
import { logPath } from "./logs";
import type { RunOptions } from "./options";
import { shown, stateOf } from "./state";
import type { ContainerRow } from "./store";
import { securityOptStrings } from "./seccomp";
import { hostConfigResources } from "../cgroup/resources";
import { decodeOptions } from "./options";
import { readHealth, type HealthState } from "./health";
import { commandArgs, hostConfigKernel } from "./kernel-spec";
import { isBind, metaConfig, metaHostConfig, tmpfsMountPoints } from "./meta-inspect";
import { findImage } from "../image/store";

const ZERO_TIME = "0001-01-01T00:00:00Z";
const iso = (ms: number | null | undefined) => (ms ? new Date(ms).toISOString() : ZERO_TIME);

interface OciSpec {
  process: { args: string[]; env: string[]; cwd: string; terminal: boolean; user: { uid: number; gid: number } };
  hostname?: string;
  mounts?: { destination: string; type: string; source: string; options?: string[] }[];
  root?: { readonly?: boolean };
}

/** State.Health, present (as Docker's) when the container has a health check. */
function healthFields(bundle: string, opts: RunOptions, running: boolean): { Health?: HealthState } {
  const health = readHealth(bundle, opts.healthcheck, running);
  return health ? { Health: health } : {};
}

export function inspectContainer(db: Database, root: string, row: ContainerRow): Record<string, unknown> {
  const bundle = containerDir(root, row.id);
  const opts = decodeOptions(row.options);
  const spec = readSpec(bundle);
  // --init's /sbin/docker-init -- is not the command (Docker's Path and Args leave it out).
  const args = spec ? commandArgs(spec.process.args, opts) : (JSON.parse(row.command) as string[]);
  const ports = portBindings(db, row.id);
  const image = findImage(db, row.image_id);
  return {
    Id: row.id,
    Created: iso(row.created_at),
    Path: args[0] ?? "",
    Args: args.slice(1),
    State: stateSection(root, row, opts),
    Image: `sha256:${row.image_id}`,
    ResolvConfPath: existsSync(join(bundle, "resolv.conf")) ? join(bundle, "resolv.conf") : "",
    HostnamePath: join(bundle, "hostname"),
    HostsPath: join(bundle, "hosts"),
    LogPath: logPath(root, row.id),
    Name: `/${row.name}`,
    RestartCount: row.restart_count ?? 0,
    Driver: "overlay2",
    Platform: "linux",
    HostConfig: hostConfig(row, opts, ports),
    Mounts: mounts(opts),
    Config: { ...configSection(row, opts, spec, image?.config.config?.Env ?? []), ...metaConfig(opts, image?.config) },
    NetworkSettings: networkSettings(db, root, row.id, ports),
  };
}

function readSpec(bundle: string): OciSpec | undefined {
  try {
    return JSON.parse(readFileSync(join(bundle, "config.json"), "utf8")) as OciSpec;
  } catch {
    return undefined;
  }
}

type PortBindings = Record<string, { HostIp: string; HostPort: string }[] | null>;

function portBindings(db: Database, id: string): PortBindings {
  const ports: PortBindings = {};
  for (const p of portsOf(db, id)) (ports[`${p.container_port}/${p.proto}`] ??= []).push({ HostIp: p.host_ip, HostPort: String(p.host_port) });
  return ports;
}

/** State: from the one derived state (state.ts), in Docker's fields. */
function stateSection(root: string, row: ContainerRow, opts: RunOptions): Record<string, unknown> {
  const state = stateOf(row, root);
  const status = shown(state, row.state);
  const running = status === "running" || status === "paused";
  const ended = state === "exited" || state === "restarting";
  const exit = running ? undefined : readExitStatus(root, row.id);
  return {
    Status: status,
    Running: running,
    Paused: status === "paused",
    Restarting: status === "restarting",
    OOMKilled: Boolean(row.oom_killed),
    Dead: false,
    Pid: running ? row.pid : 0,
    // A start that failed before execve leaves it created with the status (Docker 20.10).
    ExitCode: ended ? (row.exit_code ?? -1) : state === "created" ? (row.exit_code ?? 0) : 0,
    Error: row.error ?? exit?.error ?? "",
    StartedAt: iso(row.started_at),
    FinishedAt: ended ? iso(row.finished_at) : ZERO_TIME,
    ...healthFields(containerDir(root, row.id), opts, running),
  };
}

function hostConfig(row: ContainerRow, opts: RunOptions, ports: PortBindings): Record<string, unknown> {
  const binds = (opts.volumes ?? []).filter((v) => isBind(v, opts)).map((v) => `${v.volume || v.source}:${v.destination}${v.readonly ? ":ro" : ""}`);
  return {
    Binds: binds.length ? binds : null,
    NetworkMode: opts.network ?? "default",
    PortBindings: ports,
    RestartPolicy: { Name: opts.restart?.name ?? "no", MaximumRetryCount: opts.restart?.maximumRetryCount ?? 0 },
    AutoRemove: Boolean(row.auto_remove),
    CapAdd: opts.capAdd?.length ? opts.capAdd : null,
    CapDrop: opts.capDrop?.length ? opts.capDrop : null,
    Privileged: Boolean(opts.privileged),
    SecurityOpt: securityOptStrings(opts),
    ReadonlyRootfs: Boolean(opts.readOnly),
    Tmpfs: Object.fromEntries((opts.tmpfs ?? []).map((t) => [t.destination, t.options.join(",")])),
    CgroupParent: opts.cgroupParent ?? "",
    ...hostConfigResources(opts.resources ?? {}),
    ...hostConfigKernel(opts),
    UsernsMode: usernsMode(opts),
    ...metaHostConfig(opts),
  };
}

function mounts(opts: RunOptions): Record<string, unknown>[] {
  const volumes = (opts.volumes ?? []).map((v) => ({
    Type: v.volume ? "volume" : "bind",
    ...(v.volume ? { Name: v.volume, Driver: "local" } : {}),
    Source: v.source,
    Destination: v.destination,
    Mode: v.readonly ? "ro" : "",
    RW: !v.readonly,
    Propagation: v.propagation ?? "rprivate",
  }));
  return [...volumes, ...tmpfsMountPoints(opts)];
}

/** Docker's Config.Env: the user's variables as given, then the image's that they do not set
 *  (the daemon's merge; HOSTNAME and HOME are the runtime's, not the config's). */
export function configEnv(user: string[], image: string[]): string[] {
  const keys = new Set(user.map((e) => e.split("=")[0]));
  return [...user, ...image.filter((e) => !keys.has(e.split("=")[0]))];
}

function configSection(row: ContainerRow, opts: RunOptions, spec: OciSpec | undefined, imageEnv: string[]): Record<string, unknown> {
  return {
    Hostname: spec?.hostname ?? row.id.slice(0, 12),
    User: opts.user ?? "",
    Tty: Boolean(opts.tty),
    OpenStdin: Boolean(opts.interactive),
    Env: configEnv(opts.env ?? [], imageEnv),
    Cmd: opts.command?.length ? opts.command : null,
    Image: row.image_ref,
    WorkingDir: spec?.process.cwd ?? "",
    Entrypoint: opts.entrypoint ?? null,
    ...(opts.healthcheck ? { Healthcheck: opts.healthcheck } : {}),
  };
}

function networkSettings(db: Database, root: string, id: string, ports: PortBindings): Record<string, unknown> {
  const networks: Record<string, { IPAddress: string; IPPrefixLen: number; Gateway: string; MacAddress: string } & Record<string, unknown>> = {};
  for (const ep of endpointsOf(db, id)) {
    const net = findNetwork(db, ep.network);
    networks[ep.network] = {
      Aliases: JSON.parse(ep.aliases || "[]"), IPAddress: ep.ip, IPPrefixLen: Number(net?.subnet.split("/")[1] ?? 0),
      Gateway: net?.gateway ?? "", MacAddress: ep.mac, NetworkID: net?.id ?? ep.network,
    };
  }
  // Docker's top-level address fields are the default bridge's only: a container on user
  // networks alone has them empty (its addresses are under Networks).
  const first = networks.bridge;
  return {
    Ports: ports,
    IPAddress: first?.IPAddress ?? "",
    IPPrefixLen: first?.IPPrefixLen ?? 0,
    Gateway: first?.Gateway ?? "",
    MacAddress: first?.MacAddress ?? "",
    SandboxKey: existsSync(join(root, "netns", id)) ? join(root, "netns", id) : "",
    Networks: networks,
  };
}
