// What run/create's metadata flags add to `tsd inspect`, under Docker's field names:
// Config.Labels/StopSignal/StopTimeout/ExposedPorts/AttachStd*, HostConfig.Mounts/VolumesFrom/
// LogConfig, and --mount's tmpfs mounts in Mounts. Pure.
import type { ImageConfig } from "../image/store";
import { DEFAULT_LOG } from "./log-options";
import { attachedStreams } from "./meta-options";
import type { BindMount, RunOptions } from "./options";

export function metaConfig(opts: RunOptions, image: ImageConfig | undefined): Record<string, unknown> {
  const a = attachedStreams(opts);
  const stopSignal = opts.stopSignal ?? image?.config?.StopSignal;
  const exposed: Record<string, object> = { ...(image?.config?.ExposedPorts ?? {}) };
  for (const k of opts.expose ?? []) exposed[k] = {};
  for (const p of opts.publish ?? []) exposed[`${p.containerPort}/${p.proto}`] = {};
  return {
    AttachStdin: a.stdin,
    AttachStdout: a.stdout,
    AttachStderr: a.stderr,
    ...(Object.keys(exposed).length > 0 ? { ExposedPorts: exposed } : {}),
    StdinOnce: Boolean(opts.interactive) && a.stdin && !opts.detach,
    Labels: opts.labels ?? {},
    ...(stopSignal ? { StopSignal: stopSignal } : {}),
    ...(opts.stopTimeout !== undefined ? { StopTimeout: opts.stopTimeout } : {}),
  };
}

export function metaHostConfig(opts: RunOptions): Record<string, unknown> {
  const driver = opts.logDriver ?? "json-file";
  const log = opts.log ?? DEFAULT_LOG;
  return {
    LogConfig: { Type: driver, Config: driver === "none" || !opts.log ? {} : { "max-size": String(log.maxSize), "max-file": String(log.maxFile) } },
    VolumesFrom: opts.volumesFrom ?? null,
    PublishAllPorts: Boolean(opts.publishAll),
    ...(opts.mounts ? { Mounts: opts.mounts } : {}),
  };
}

/** -v's mounts only: --mount's and --volumes-from's are not Binds in Docker. */
export function isBind(v: BindMount, opts: RunOptions): boolean {
  return !v.inherited && !(opts.mounts ?? []).some((m) => m.Type !== "tmpfs" && m.Target === v.destination);
}

/** --mount type=tmpfs mounts as Docker's Mounts lists them (--tmpfs ones it does not list). */
export function tmpfsMountPoints(opts: RunOptions): { Type: string; Source: string; Destination: string; Mode: string; RW: boolean; Propagation: string }[] {
  return (opts.mounts ?? []).filter((m) => m.Type === "tmpfs").map((m) => ({
    Type: "tmpfs", Source: "", Destination: m.Target, Mode: "", RW: !m.ReadOnly, Propagation: "",
  }));
}
