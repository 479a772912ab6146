// `-u NAME|UID[:GROUP|GID]` resolved against the image's /etc/passwd and /etc/group, as
// Docker's user lookup (moby/sys/user): names must exist, numbers need not.
import { lstatSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { TsdError } from "../errors";

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

/** Pure resolution; `spec` is the image's User or the -u flag (empty means root). */
export function resolveUser(spec: string | undefined, passwd: string, group: string): ResolvedUser {
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
  const additionalGids = entry && g === undefined ? groups.filter((e) => e.members.includes(entry!.name) && e.gid !== gid).map((e) => e.gid) : [];
  return { uid, gid, additionalGids, home: entry?.home || "/" };
}

/**
 * The content of `path` (e.g. "etc/passwd") as the image's overlay would show it, read from
 * the layer directories topmost first. Only regular files under real directories count, so a
 * hostile layer's symlink cannot make the CLI read a host file.
 */
export function readImageFile(layerDirs: string[], path: string): string {
  const parts = path.split("/");
  for (const dir of layerDirs) {
    let cur = dir;
    let ok = true;
    for (const [i, p] of parts.entries()) {
      cur = join(cur, p);
      let st;
      try {
        st = lstatSync(cur);
      } catch {
        ok = false;
        break;
      }
      if (st.isCharacterDevice() && st.rdev === 0) return ""; // an overlay whiteout
      const last = i === parts.length - 1;
      if (last ? !st.isFile() : !st.isDirectory()) {
        ok = false;
        break;
      }
    }
    if (ok) return readFileSync(cur, "utf8");
  }
  return "";
}
