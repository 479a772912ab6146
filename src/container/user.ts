// `-u NAME|UID[:GROUP|GID]` resolved against the image's /etc/passwd and /etc/group, as
// Docker's user lookup (moby/sys/user): names must exist, numbers need not.
import { TsdError } from "../errors";
import { readLayerFile } from "../native/ffi";
import { needNamespace } from "../store/rootless";

export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids: number[];
  home: string;
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}
interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

export function parsePasswd(text: string): PasswdEntry[] {
  return text
    .split("\n")
    .map((l) => l.split(":"))
    .filter((f) => f.length >= 7 && /^\d+$/.test(f[2]!) && /^\d+$/.test(f[3]!))
    .map((f) => ({ name: f[0]!, uid: Number(f[2]), gid: Number(f[3]), home: f[5]! }));
}

export function parseGroup(text: string): GroupEntry[] {
  return text
    .split("\n")
    .map((l) => l.split(":"))
    .filter((f) => f.length >= 4 && /^\d+$/.test(f[2]!))
    .map((f) => ({ name: f[0]!, gid: Number(f[2]), members: f[3]!.split(",").filter(Boolean) }));
}

const MAX_ID = 2 ** 32 - 2;

function numeric(s: string): number | undefined {
  if (!/^\d+$/.test(s)) return undefined;
  const n = Number(s);
  if (n > MAX_ID) throw new TsdError(`user or group id ${s} is out of range (0 to ${MAX_ID})`);
  return n;
}

/**
 * Pure resolution; `spec` is the image's User or the -u flag (empty means root). The groups
 * are Docker's (moby getUser): the primary gid first, then the user's supplementary groups
 * from /etc/group (none when -u names a group), then `groupAdd` (--group-add), duplicates
 * dropped.
 */
export function resolveUser(spec: string | undefined, passwd: string, group: string, groupAdd: readonly string[] = []): ResolvedUser {
  const users = parsePasswd(passwd);
  const groups = parseGroup(group);
  const [u = "", g] = (spec ?? "").split(":", 2) as [string?, string?];
  let entry: PasswdEntry | undefined;
  let uid: number;
  if (u === "") {
    uid = 0;
    entry = users.find((e) => e.uid === 0);
  } else {
    const n = numeric(u);
    entry = n !== undefined ? users.find((e) => e.uid === n) : users.find((e) => e.name === u);
    if (n === undefined && !entry) throw new TsdError(`unable to find user ${u}: no matching entries in passwd file`);
    uid = n ?? entry!.uid;
  }
  let gid = entry?.gid ?? 0;
  if (g !== undefined && g !== "") {
    const n = numeric(g);
    const ge = n !== undefined ? undefined : groups.find((e) => e.name === g);
    if (n === undefined && !ge) throw new TsdError(`unable to find group ${g}: no matching entries in group file`);
    gid = n ?? ge!.gid;
  }
  const supplementary = entry && g === undefined ? groups.filter((e) => e.members.includes(entry!.name)).map((e) => e.gid) : [];
  const added = groupAdd.map((a) => additionalGroup(a, groups));
  const additionalGids = [...new Set([gid, ...supplementary, ...added])];
  return { uid, gid, additionalGids, home: entry?.home || "/" };
}

/** A --group-add: a group name of the image first, else a number (moby GetAdditionalGroups). */
function additionalGroup(a: string, groups: GroupEntry[]): number {
  const byName = groups.find((e) => e.name === a);
  if (byName) return byName.gid;
  const n = numeric(a);
  if (n === undefined) throw new TsdError(`unable to find group ${a}: no matching entries in group file (for --group-add; use a gid or a group of the image)`);
  return n;
}

/** The most of /etc/passwd or /etc/group the CLI reads: a hostile image cannot make it
 *  allocate more (Docker's user lookup has no limit; glibc's NSS copes with a few MB). */
export const MAX_ACCOUNT_FILE = 1 << 20;

/**
 * The content of `path` (e.g. "etc/passwd") as the image's overlay would show it, read from
 * the layer directories topmost first. Only regular files under real directories count, each
 * component opened fd-relative without following it, so neither a hostile layer's symlink nor
 * a running container swapping a directory for one can make the CLI read a host file.
 */
export function readImageFile(layerDirs: string[], path: string, max = MAX_ACCOUNT_FILE): string {
  for (const dir of layerDirs) {
    const f = readLayerFile(dir, path, max);
    if (f.kind === "file") return f.text;
    if (f.kind === "whiteout") return "";
    if (f.kind === "too-large") throw new TsdError(`/${path} in the container is larger than ${max / (1 << 20)} MiB: tsd does not read account files that large`);
    if (f.kind === "denied") {
      // A rootless CLI on the host (the fast path) meets a file of a subordinate id: root in the
      // user's namespace can read it. Anywhere else, the image's file is unreadable to tsd.
      needNamespace(`/${path} of the image is not readable from the host`);
      throw new TsdError(`/${path} in the container cannot be read (permission denied in ${dir}): check the layer's ownership, or run tsd as root`);
    }
  }
  return "";
}
