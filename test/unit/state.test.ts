// The container state machine (src/container/state.ts): the derivation from a row and the
// kernel's facts, and the transitions table for every state × verb pair, without root.
import { describe, expect, test } from "bun:test";
import {
  CONTAINER_STATES, VERBS, deriveState, mayHoldNetwork, shown, verdict,
  type ContainerState, type KernelFacts, type ShownState, type StateRow, type Verb,
} from "../../src/container/state";
import type { ContainerRow } from "../../src/container/store";

/** Facts where the given pids are alive (with any start time) and the marker is as given. */
function facts(alive: number[], marker = false): KernelFacts {
  return { alive: (pid) => alive.includes(pid), restartMarker: () => marker };
}

const MONITOR = 100;
const OWNER = 200;
const INIT = 300;

function row(state: ContainerRow["state"], monitor_pid: number, owner_pid = 0): StateRow & Pick<ContainerRow, "pid" | "pid_start"> {
  return { id: "a".repeat(64), state, monitor_pid, monitor_start: "1", owner_pid, owner_start: "1", pid: state === "running" ? INIT : 0, pid_start: "1" };
}

describe("deriveState", () => {
  const cases: [string, StateRow, KernelFacts, ContainerState][] = [
    ["created, idle", row("created", 0), facts([]), "created"],
    ["created, claimed by a live CLI", row("created", -1, OWNER), facts([OWNER]), "starting"],
    ["created, claimed by a dead CLI", row("created", -1, OWNER), facts([]), "abandoned"],
    ["created, claimed, no owner recorded (older row)", row("created", -1, 0), facts([OWNER]), "abandoned"],
    ["created, monitor spawned and alive", row("created", MONITOR), facts([MONITOR]), "starting"],
    ["created, monitor spawned and dead", row("created", MONITOR), facts([]), "dead"],
    ["running, monitor alive", row("running", MONITOR), facts([MONITOR, INIT]), "running"],
    ["running, monitor dead", row("running", MONITOR), facts([INIT]), "dead"],
    ["running, paused, monitor alive", { ...row("running", MONITOR), paused: 1 }, facts([MONITOR, INIT]), "paused"],
    ["running, paused, monitor dead", { ...row("running", MONITOR), paused: 1 }, facts([INIT]), "dead"],
    ["exited", row("exited", MONITOR), facts([]), "exited"],
    ["exited, marker but monitor gone", row("exited", MONITOR), facts([], true), "exited"],
    ["exited, monitor waiting out the back-off", row("exited", MONITOR), facts([MONITOR], true), "restarting"],
    ["exited, monitor alive without marker", row("exited", MONITOR), facts([MONITOR]), "exited"],
  ];
  for (const [name, r, f, want] of cases) test(name, () => expect(deriveState(r, f)).toBe(want));

  test("facts are read only when the row needs them", () => {
    const asked: string[] = [];
    const f: KernelFacts = { alive: (pid) => (asked.push(`alive ${pid}`), false), restartMarker: () => (asked.push("marker"), false) };
    deriveState(row("created", 0), f);
    expect(asked).toEqual([]);
    deriveState(row("exited", MONITOR), f);
    expect(asked).toEqual(["marker"]);
  });
});

test("what ps and inspect show", () => {
  const want: Record<ContainerState, [ShownState, ShownState]> = {
    created: ["created", "created"], starting: ["created", "created"], running: ["running", "running"], paused: ["paused", "paused"], restarting: ["restarting", "restarting"],
    exited: ["exited", "exited"], dead: ["created", "exited"], abandoned: ["created", "created"],
  };
  for (const s of CONTAINER_STATES) expect([shown(s, "created"), shown(s, "running")]).toEqual(want[s]);
});

// One letter per state, in CONTAINER_STATES order (created starting running paused restarting exited
// dead abandoned): L live, G go, N nothing to do, W wait for the start, R refused.
const EXPECTED: Record<Verb, string> = {
  start: "GRNRGGRR",
  "start-attached": "GRRRGGRR",
  "claim-start": "GRRRGGRR",
  restart: "GRLLGGRR",
  "policy-restart": "NNNNGGNN",
  stop: "NNLLNNNN",
  kill: "RRLLRRRR",
  remove: "GWRRGGGG",
  "remove-force": "GWLLGGGG",
  "claim-removal": "GRRRGGGG",
  prune: "GNNNGGNN",
  copy: "GRLRGGGR",
  exec: "RRLRRRRR",
  attach: "RRLRRRRR",
  top: "RRLLRRRR",
  stats: "NNLLNNNN",
  update: "GGLLGGGG",
  freeze: "GGLGGGGG",
  pause: "RRLRRRRR",
  unpause: "RRRLRRRR",
  "connect-network": "RRLLRRRR",
  "join-network": "RRLLRRRR",
  wait: "WWWWGGWW",
};

const letter = (v: ReturnType<typeof verdict>) => (typeof v === "object" ? "R" : { live: "L", go: "G", noop: "N", wait: "W" }[v]);

describe("transitions: every state × verb", () => {
  expect(CONTAINER_STATES).toEqual(["created", "starting", "running", "paused", "restarting", "exited", "dead", "abandoned"]);
  for (const verb of VERBS) {
    test(verb, () => expect(CONTAINER_STATES.map((s) => letter(verdict(verb, s))).join("")).toBe(EXPECTED[verb]));
  }
  test("the table covers every verb", () => expect(Object.keys(EXPECTED).sort()).toEqual([...VERBS].sort()));
  // decide() derives without the root (no look for the restarting marker): safe only while a
  // restarting container is treated as an exited one by every verb.
  test("restarting and exited decide alike", () => {
    for (const verb of VERBS) expect([verb, verdict(verb, "restarting")]).toEqual([verb, verdict(verb, "exited")]);
  });
});

describe("refusals in Docker's words", () => {
  const c = { id: "0123456789abcdef".repeat(4), name: "web", ref: "we" };
  const say = (verb: Verb, s: ContainerState) => {
    const v = verdict(verb, s);
    if (typeof v !== "object") throw new Error(`${verb} in ${s} is not refused`);
    return [v.refuse(c), v.code ?? 125] as const;
  };
  test("each refusal names the container and the way out", () => {
    expect(say("kill", "exited")).toEqual(["container web is not running", 125]);
    expect(say("remove", "running")).toEqual(["cannot remove running container 0123456789ab: stop it first or use rm -f", 125]);
    expect(say("claim-removal", "starting")).toEqual(["container web was started again meanwhile: retry the removal", 125]);
    expect(say("start", "starting")).toEqual(["container web is being started by another command", 125]);
    expect(say("start-attached", "running")).toEqual(["container web is already running: use tsd attach or tsd logs -f", 125]);
    expect(say("exec", "created")).toEqual(["container 0123456789ab is not running: start it first (tsd start web)", 125]);
    expect(say("attach", "exited")).toEqual(["you cannot attach to a stopped container, start it first (tsd start web)", 1]);
    expect(say("copy", "starting")).toEqual(["container web is being started: retry the copy", 1]);
    expect(say("top", "exited")).toEqual(["container 0123456789ab is not running", 125]);
    expect(say("connect-network", "exited")).toEqual(["container we is not running: connect and disconnect apply to running containers", 125]);
    expect(say("start", "paused")).toEqual(["cannot start a paused container, try unpause instead", 1]);
    expect(say("exec", "paused")).toEqual(["Container we is paused, unpause the container before exec", 1]);
    expect(say("attach", "paused")).toEqual(["You cannot attach to a paused container, unpause it first", 1]);
    expect(say("remove", "paused")).toEqual([`You cannot remove a paused container ${c.id}. Unpause and then stop the container before attempting removal or force remove`, 1]);
    expect(say("pause", "paused")).toEqual([`Container ${c.id} is already paused`, 1]);
    expect(say("pause", "exited")).toEqual([`Container ${c.id} is not running`, 1]);
    expect(say("unpause", "running")).toEqual([`Container ${c.id} is not paused`, 1]);
    expect(say("join-network", "created")).toEqual(["cannot join the network of container we: it is not running; start it first", 125]);
  });
});

describe("who may hold network leases", () => {
  test("starting and running do; dead ones while the container reconcile has not run", () => {
    expect(mayHoldNetwork(undefined, facts([]))).toBe(false);
    expect(mayHoldNetwork(row("running", MONITOR), facts([MONITOR]))).toBe(true);
    expect(mayHoldNetwork(row("created", -1, OWNER), facts([OWNER]))).toBe(true);
    expect(mayHoldNetwork(row("created", MONITOR), facts([]))).toBe(true);
    expect(mayHoldNetwork(row("running", MONITOR), facts([INIT]))).toBe(true);
    expect(mayHoldNetwork({ ...row("running", MONITOR), paused: 1 }, facts([MONITOR]))).toBe(true);
    expect(mayHoldNetwork(row("running", MONITOR), facts([]))).toBe(false);
    expect(mayHoldNetwork(row("created", 0), facts([]))).toBe(false);
    expect(mayHoldNetwork(row("created", -1, OWNER), facts([]))).toBe(false);
    expect(mayHoldNetwork(row("exited", MONITOR), facts([MONITOR], true))).toBe(false);
  });
});
