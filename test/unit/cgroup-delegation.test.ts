// Rootless limits' delegated cgroup v2 subtree (cgroup/delegation.ts): which directory is the
// user's, from /proc/self/cgroup and the owners of each level, as systemd's user@.service hands
// it over; pure (ownership given as a table).
import { expect, test } from "bun:test";
import { delegatedGroup, findDelegation, unifiedPath } from "../../src/cgroup/delegation";

const M = "/sys/fs/cgroup";
const SVC = "user.slice/user-1001.slice/user@1001.service";

/** Owners: every path under `mine` (and its delegated files) is uid 0 (the user, seen from its namespace), the rest 65534. */
function owners(mine: string[]): (p: string) => number | undefined {
  return (p) => (mine.some((d) => p === `${M}/${d}` || p.startsWith(`${M}/${d}/`)) ? 0 : 65534);
}

test("the v2 line of /proc/self/cgroup", () => {
  expect(unifiedPath("0::/user.slice/a.scope\n")).toBe("user.slice/a.scope");
  expect(unifiedPath("12:memory:/x\n0::/\n")).toBe("");
  expect(unifiedPath("12:memory:/x\n")).toBeUndefined();
});

test("the topmost group of an unbroken chain of the user's own is the delegated one", () => {
  const proc = `0::/${SVC}/app.slice/tsd.scope\n`;
  expect(findDelegation(proc, M, 2, 0, owners([SVC]))).toEqual({ dir: SVC });
  // A group below one that is not the user's: only the part below counts.
  expect(findDelegation(proc, M, 2, 0, owners([`${SVC}/app.slice`]))).toEqual({ dir: `${SVC}/app.slice` });
  // A directory the user owns but whose cgroup.procs is root's is not delegated.
  const own = owners([SVC]);
  expect(findDelegation(proc, M, 2, 0, (p) => (p === `${M}/${SVC}/cgroup.procs` ? 65534 : own(p)))).toEqual({ dir: `${SVC}/app.slice` });
});

test("none: cgroup v1, a login session's scope (root's), no v2 line", () => {
  expect(findDelegation("0::/x\n", undefined, 1, 0, owners(["x"]))).toEqual({ none: "this host has cgroup v1, which cannot be delegated to a user" });
  const session = findDelegation("0::/user.slice/user-1001.slice/session-3.scope\n", M, 2, 0, owners([SVC]));
  expect(session).toEqual({ none: expect.stringContaining("your cgroup /user.slice/user-1001.slice/session-3.scope is not delegated to you: run tsd inside a delegated one") });
  expect(findDelegation("1:name=systemd:/\n", M, 2, 0, owners([SVC]))).toEqual({ none: expect.stringContaining("no cgroup v2 group") });
  // The root group is never the user's.
  expect("none" in findDelegation("0::/\n", M, 2, 0, () => 0)).toBe(true);
});

test("a rootless container's group: <delegated>/tsd/<id> or <delegated>/<parent>/<id>", () => {
  expect(delegatedGroup(SVC, "abc")).toBe(`${SVC}/tsd/abc`);
  expect(delegatedGroup(SVC, "abc", "mine/sub")).toBe(`${SVC}/mine/sub/abc`);
});
