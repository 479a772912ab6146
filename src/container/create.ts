// Creating a container: the db row, the bundle directory and its config.json. Every step
// has an undo; a failure leaves neither row nor directory.
import type { Database } from "bun:sqlite";
import { existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { findImage, layerLinks, type ImageRecord } from "../image/store";
import { containerDir, rootPaths } from "../store/paths";
import { TsdError } from "../errors";
import { faultPoint } from "../fault";
import { withHealthcheck, type HealthConfig } from "./health";
import { encodeOptions, withImageVolumes, type RunOptions } from "./options";
import { buildSpec, type OciSpec } from "./spec";
import { readImageFile, resolveUser } from "./user";
import { randomId, randomName } from "./names";
import { prepareVolumes } from "./volumes";
import { deleteContainer, insertContainer } from "./store";
import { recordContainer } from "./record";
import { checkBundleCgroup, createBundleCgroup, hostCpus, planContainerCgroup, releaseBundleCgroup } from "../cgroup";
import { checkAgainstHost } from "../cgroup/resources";
import { rootlessMode } from "../store/rootless";
import { checkRootless, checkSingleIdUser, removeBundleDir } from "./rootless";
import { unmountFuseRootfs } from "./fuse-rootfs";
import { networkSetup } from "./network";
import { hostsFile } from "../network/files";
import { hostDevices } from "./host-devices";
import { kernelSetup } from "./kernel-create";
import { commandArgs } from "./kernel-spec";
import { allocateUserns, applyUserns, releaseUserns, type IdMap } from "./userns";

export interface Created {
  id: string;
  name: string;
  bundle: string;
  image: ImageRecord;
  /** The health check merged with the image's (what the monitor runs). */
  healthcheck?: HealthConfig;
}

/** `startsNow` (tsd run): the group is made here from config.json; else (tsd create) the
 *  spec is only checked, and `tsd start` makes the group from it as it is then. `image`: the
 *  record of opts.image when the caller has looked it up already. */
export function createContainer(db: Database, root: string, opts: RunOptions, { startsNow = true, image = findImage(db, opts.image) }: { startsNow?: boolean; image?: ImageRecord | undefined } = {}): Created {
  if (!image) {
    throw new TsdError(`unable to find image "${opts.image}" locally: pull it with 'tsd pull' or load it with 'tsd load -i FILE'`);
  }
  if (rootlessMode()) opts = checkRootless(opts);
  checkAgainstHost(opts.resources ?? {}, hostCpus());
  const id = randomId();
  // --userns=auto: a range recorded for the id; released with the row (deleteContainer), or
  // here when the create fails before the row exists.
  const maps = allocateUserns(db, id, opts);
  try {
    return createWith(db, root, opts, { id, image, maps, startsNow });
  } catch (e) {
    releaseUserns(db, id);
    throw e;
  }
}

function createWith(db: Database, root: string, opts: RunOptions, c: { id: string; image: ImageRecord; maps?: { uid: IdMap[]; gid: IdMap[] }; startsNow: boolean }): Created {
  const { id, image, startsNow } = c;
  const firstName = opts.name ?? randomName();
  const bundle = containerDir(root, id);
  const links = layerLinks(db, image);
  const layerDirs = image.layers.map((d) => join(rootPaths(root).layers, d.replace(/^sha256:/, ""), "diff")).reverse();
  // Named volumes get their host path (created and filled from the image on first use).
  // The image's VOLUMEs are anonymous volumes unless the run mounts something there, as Docker's.
  const volumes = withImageVolumes(opts.volumes, opts.tmpfs ?? [], image.config.config?.Volumes);
  opts = { ...opts, volumes: prepareVolumes(db, root, volumes, links) };
  const user = resolveUser(opts.user ?? image.config.config?.User, readImageFile(layerDirs, "etc/passwd"), readImageFile(layerDirs, "etc/group"), opts.groupAdd);
  checkSingleIdUser(user);
  const kernel = kernelSetup(db, root, opts);
  opts = kernel.opts;
  const net = networkSetup(db, root, id, opts, image.config);
  opts = net.opts;
  const hostname = kernel.hostname ?? opts.hostname ?? net.hostname ?? id.slice(0, 12);
  // --network container: shares the target's hosts file (kept current for its peers), as Docker.
  const etcFiles = { hostname: join(bundle, "hostname"), hosts: net.sharedHosts ?? join(bundle, "hosts"), resolvConf: join(bundle, "resolv.conf") };
  opts = withHealthcheck(opts, image.config.config?.Healthcheck);
  // Rootless: below the delegated cgroup v2 directory, or none without one (container/rootless.ts).
  const cgroup = planContainerCgroup(id, opts, opts.privileged);
  const spec = withUserns(c.maps, opts, buildSpec(opts, image.config, { id, root, bundle, lowerLinks: links, hostname, user, etcFiles, cgroup, netnsPath: net.netnsPath, kernel: kernel.kernel, ...(opts.privileged ? { hostDevices: hostDevices() } : {}) }));

  const row = { id, name: firstName, image_id: image.id, image_ref: opts.image, command: JSON.stringify(commandArgs(spec.process.args, opts)), created_at: Date.now(), auto_remove: opts.rm ? 1 : 0, options: encodeOptions(opts) };
  // A generated name can collide (about 80 000 of them): draw another rather than fail.
  for (let attempt = 0; ; attempt++) {
    try {
      insertContainer(db, row);
      break;
    } catch (e) {
      if (opts.name !== undefined || attempt >= 20 || !(e instanceof TsdError) || !e.message.includes("already in use")) throw e;
      row.name = randomName();
    }
  }
  const name = row.name;
  faultPoint("create:inserted");
  try {
    mkdirSync(rootPaths(root).containers, { recursive: true, mode: 0o711 });
    mkdirSync(bundle, { mode: 0o711 });
    for (const d of ["upper", "work", "merged"]) mkdirSync(join(bundle, d), { mode: 0o755 });
    writeFileSync(etcFiles.hostname, `${hostname}\n`);
    writeFileSync(join(bundle, "hosts"), hostsFile(undefined, hostname, [], []));
    writeFileSync(etcFiles.resolvConf, net.resolvConf);
    writeFileSync(join(bundle, "config.json"), JSON.stringify(spec, null, 2));
    recordContainer(root, { ...row, name });
    // From config.json, which names the group and carries its limits (removeContainerFiles
    // finds the group there too).
    if (startsNow) createBundleCgroup(bundle, spec);
    else checkBundleCgroup(bundle, spec);
  } catch (e) {
    removeContainerFiles(root, id);
    deleteContainer(db, id);
    throw e;
  }
  return { id, name, bundle, image, ...(opts.healthcheck ? { healthcheck: opts.healthcheck } : {}) };
}

/** Volumes (content in container ids, shared by every container), `-v …:idmap` binds and the
 *  bundle's /etc files are idmapped by the container's user namespace. */
function withUserns(maps: { uid: IdMap[]; gid: IdMap[] } | undefined, opts: RunOptions, spec: OciSpec): OciSpec {
  if (!maps) return spec;
  const idmapped = new Set(["/etc/hostname", "/etc/hosts", "/etc/resolv.conf", ...opts.volumes.filter((v) => v.volume !== undefined || v.idmap).map((v) => v.destination)]);
  return applyUserns(spec, maps, idmapped);
}

/** Removes the bundle directory and the cgroup its config.json names. The overlay lives only
 *  in the container's mount namespace. */
export function removeContainerFiles(root: string, id: string): void {
  const dir = containerDir(root, id);
  if (!existsSync(dir)) return;
  if (!statSync(dir).isDirectory()) throw new TsdError(`${dir} is not a directory`);
  releaseBundleCgroup(dir);
  unmountFuseRootfs(dir);
  removeBundleDir(dir);
}
