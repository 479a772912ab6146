// A foreground run the user leaves (issue 14): the detach keys of a terminal run (Docker's
// Ctrl-P Ctrl-Q, or --detach-keys) and a closed output (`tsd run … | head`) end the CLI while
// the container runs on, attachable and logged, as Docker 20.10's CLI does (docker/cli
// run.go: a detach returns 0; hijack.go: the keys are matched only with a terminal; a failed
// write to the CLI's stdout ends it with status 1). Real ptys through script(1).
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import { processes, TestRoot, TSD, pipeline, busyboxRoot, closeRoot } from "../lib/tsd";

setDefaultTimeout(30000);

let t: TestRoot;

beforeAll(async () => {
  t = await busyboxRoot("detach", `dk${process.pid}b0`, `10.234.${process.pid % 250}.0/24`);
}, 120000);

afterAll(async () => {
  expect(await closeRoot(t)).toEqual([]);
});

const onTerminal = (command: string) => Bun.spawn(["script", "-qefc", command, "/dev/null"], { stdin: "pipe", stdout: "pipe", stderr: "pipe" });

/** A shell command on a real terminal (script(1)'s pty): its output as it comes, keys typed in. */
class Terminal {
  readonly proc: ReturnType<typeof onTerminal>;
  text = "";
  private readonly done: Promise<void>;

  constructor(command: string) {
    const proc = onTerminal(command);
    this.proc = proc;
    this.done = (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of proc.stdout) this.text += decoder.decode(chunk, { stream: true });
    })();
  }

  /** Waits until `s` was printed (at most `ms`): the test fails with what was there. */
  async waitFor(s: string, ms = 15000): Promise<void> {
    const end = Date.now() + ms;
    while (!this.text.includes(s)) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${JSON.stringify(s)} in ${JSON.stringify(this.text)}`);
      await Bun.sleep(20);
    }
  }

  type(s: string): void {
    this.proc.stdin.write(s);
    this.proc.stdin.flush();
  }

  /** The exit status, or a kill after `ms` (then the test fails on it). */
  async exit(ms = 15000): Promise<number> {
    const timer = setTimeout(() => this.proc.kill("SIGKILL"), ms);
    const code = await this.proc.exited;
    clearTimeout(timer);
    await this.done;
    return code;
  }
}

const tsd = (args: string) => `${TSD} --root ${t.dir} ${args}`;
const running = async (name: string) => (await t.tsd(["inspect", "-f", "{{.State.Running}}", name])).stdout.trim() === "true";
const monitors = () => processes().filter((p) => p.cmdline.includes(t.dir) && p.cmdline.startsWith("tsd-monitor"));

describe("detach keys of a foreground run -it", () => {
  test("Ctrl-P Ctrl-Q: exit 0, the terminal back to cooked, the container runs on; attach gets it back", async () => {
    // After the CLI: its status, then the terminal's settings as the user's shell finds them.
    const term = new Terminal(`${tsd("run -it --name dt --network none busybox sh")}; echo "tsd-status=$?"; stty -a`);
    await term.waitFor("/ # ");
    term.type("echo hi-$((40+2))\r");
    await term.waitFor("hi-42");
    term.type("\x10\x11");
    await term.waitFor("tsd-status=0");
    expect(await term.exit()).toBe(0);
    const stty = term.text.slice(term.text.indexOf("tsd-status=0"));
    expect(stty).toMatch(/(^|\s)icanon(\s|$)/m);
    expect(stty).toMatch(/(^|\s)echo(\s|$)/m);
    expect(await running("dt")).toBe(true);

    // Attached again: the same shell, its input and output; its detach keys leave it running.
    const again = new Terminal(tsd("attach dt"));
    await Bun.sleep(300);
    again.type("echo again-$((1+1))\r");
    await again.waitFor("again-2");
    again.type("\x10\x11");
    expect(await again.exit()).toBe(0);
    expect(await running("dt")).toBe(true);
    // Everything reached the log, before and after the detach.
    const logs = await t.ok(["logs", "dt"]);
    expect(logs).toContain("hi-42");
    expect(logs).toContain("again-2");
    await t.ok(["rm", "-f", "dt"]);
  });

  test("start -ai detaches the same way", async () => {
    await t.ok(["create", "-it", "--name", "sa", "--network", "none", "busybox", "sh"]);
    const term = new Terminal(tsd("start -ai sa"));
    await term.waitFor("/ # ");
    term.type("echo started-$((5+5))\r");
    await term.waitFor("started-10");
    term.type("\x10\x11");
    expect(await term.exit()).toBe(0);
    expect(await running("sa")).toBe(true);
    await t.ok(["rm", "-f", "sa"]);
  });

  test("--detach-keys ctrl-a,x: Ctrl-P Ctrl-Q reach the container, Ctrl-A x detaches", async () => {
    const term = new Terminal(tsd("run -it --name custom --detach-keys ctrl-a,x --network none busybox sh"));
    await term.waitFor("/ # ");
    term.type("\x10\x11echo custom-$((3*3))\r");
    await term.waitFor("custom-9");
    expect(await running("custom")).toBe(true);
    term.type("\x01x");
    expect(await term.exit()).toBe(0);
    expect(await running("custom")).toBe(true);
    await t.ok(["rm", "-f", "custom"]);
  });

  test("Ctrl-P then another key: both bytes reach the container (held across reads)", async () => {
    // The container's terminal raw: the shell reads the bytes as typed.
    const term = new Terminal(tsd(`run -it --rm --network none busybox sh -c "stty raw -echo; echo ready; head -c 3 | od -An -tx1"`));
    await term.waitFor("ready");
    term.type("\x10");
    await Bun.sleep(300);
    term.type("ab");
    await term.waitFor("10 61 62");
    expect(await term.exit()).toBe(0);
  });

  test("run -i without -t: no detach keys (Docker's), Ctrl-P Ctrl-Q are data", async () => {
    const r = await t.tsd(["run", "-i", "--rm", "--network", "none", "busybox", "od", "-An", "-tx1"], { stdin: "\x10\x11" });
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe("10 11");
  });
});

describe("a foreground run whose reader goes", () => {
  test("run yes | head -1: returns with 1 and Docker's line; the container runs on until rm -f", async () => {
    const p = await pipeline(`tsd run --name flood --network none busybox yes | head -1`, t.dir, { limitSec: 20 });
    expect(p.status).toEqual([1, 0]);
    expect(p.stdout).toBe("y\n");
    expect(p.stderr).toBe("write /dev/stdout: broken pipe\n");
    expect(await running("flood")).toBe(true);
    // Its output still goes to the log.
    const id = (await t.ok(["inspect", "-f", "{{.Id}}", "flood"])).trim();
    const size = () => Bun.file(join(t.dir, "containers", id, `${id}-json.log`)).size;
    const before = size();
    await Bun.sleep(200);
    expect(size()).not.toBe(before);
    await t.ok(["rm", "-f", "flood"]);
    expect(monitors()).toEqual([]);
  });

  test("-t too; and stderr's reader going ends the CLI the same way", async () => {
    const tty = await pipeline(`tsd run -t --name ttyflood --network none busybox yes | head -1`, t.dir, { limitSec: 20 });
    expect(tty.status).toEqual([1, 0]);
    expect(tty.stdout).toBe("y\r\n");
    expect(await running("ttyflood")).toBe(true);
    const err = await pipeline(`tsd run --name errflood --network none busybox sh -c 'yes >&2' 2>&1 >/dev/null | head -1`, t.dir, { limitSec: 20 });
    expect(err.status).toEqual([1, 0]);
    expect(err.stdout).toBe("y\n");
    expect(await running("errflood")).toBe(true);
    await t.ok(["rm", "-f", "ttyflood", "errflood"]);
    expect(monitors()).toEqual([]);
  });

  test("--rm: the monitor removes the container when it exits after the CLI has gone", async () => {
    const p = await pipeline(`tsd run --rm --name brief --network none busybox sh -c 'yes | head -c 300000; sleep 1' | head -1`, t.dir, { limitSec: 20 });
    expect(p.status).toEqual([1, 0]);
    const end = Date.now() + 15000;
    while (t.containerDirs().length > 0 && Date.now() < end) await Bun.sleep(50);
    expect(t.containerDirs()).toEqual([]);
    expect((await t.ok(["ps", "-aq"])).trim()).toBe("");
    expect(monitors()).toEqual([]);
  });
});
