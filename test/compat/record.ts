// Records what Docker 20.10 (Debian's docker.io: /usr/sbin/dockerd and its own /usr/bin/docker
// CLI) answers to every scenario, into expected/NAME.out, for compat.test.ts to hold tsd to.
//
//   bun test/compat/record.ts [NAME…]
//
// The dockerd is private: its own data root, exec root, pid file and socket under a temp dir,
// no bridge and no iptables changes, its own containerd namespace; stopped and removed at the
// end, whatever happens. Busybox is the test fixture's image (test/lib/fixtures.ts).
import { mkdtempSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { testImages } from "../lib/fixtures";
import { EXPECTED, render, runScenario, scenarioNames } from "./lib";

const DOCKERD = "/usr/sbin/dockerd";
const CLI = "/usr/bin/docker";

async function main(): Promise<void> {
  for (const f of [DOCKERD, CLI]) if (!existsSync(f)) throw new Error(`${f} is missing: apt-get install docker.io`);
  const names = process.argv.length > 2 ? process.argv.slice(2) : scenarioNames();
  const base = mkdtempSync("/tmp/tsd-compat-dockerd-");
  const sock = join(base, "sock");
  const daemon = Bun.spawn(
    [DOCKERD, "--data-root", join(base, "data"), "--exec-root", join(base, "exec"), "--pidfile", join(base, "pid"), "-H", `unix://${sock}`, "--bridge=none", "--iptables=false", "--ip6tables=false", "--containerd-namespace", "tsdcompat", "--containerd-plugins-namespace", "tsdcompat-p"],
    { stdout: Bun.file(join(base, "dockerd.log")), stderr: Bun.file(join(base, "dockerd.err")) },
  );
  const docker = [CLI, "-H", `unix://${sock}`];
  try {
    await waitReady(docker);
    const images = await testImages();
    await sh([...docker, "load", "-i", images.busyboxDocker]);
    for (const name of names) {
      const work = mkdtempSync(join(base, "work-"));
      const out = await runScenario(name, docker, work);
      writeFileSync(join(EXPECTED, `${name}.out`), render(out));
      process.stdout.write(`${name}: exit ${out.code}\n${out.stderr ? `  stderr: ${out.stderr.trim().split("\n").join("\n  stderr: ")}\n` : ""}`);
      await reset(docker);
    }
  } finally {
    daemon.kill("SIGTERM");
    await Promise.race([daemon.exited, Bun.sleep(20000)]);
    if (daemon.exitCode === null) daemon.kill("SIGKILL");
    await daemon.exited;
    Bun.spawnSync(["bash", "-c", `grep ' ${base}' /proc/self/mountinfo | cut -d' ' -f5 | sort -r | xargs -r -n1 umount -l`]);
    rmSync(base, { recursive: true, force: true });
  }
}

async function sh(argv: string[]): Promise<string> {
  const p = Bun.spawn(argv, { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  if (code !== 0) throw new Error(`${argv.join(" ")}: exit ${code}: ${err}`);
  return out;
}

async function waitReady(docker: string[]): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (Bun.spawnSync([...docker, "version"], { stdout: "ignore", stderr: "ignore" }).exitCode === 0) return;
    await Bun.sleep(100);
  }
  throw new Error("dockerd did not answer within 30 s");
}

/** Back to busybox alone between scenarios: no container, volume or other image left. */
async function reset(docker: string[]): Promise<void> {
  const ids = (await sh([...docker, "ps", "-aq"])).split("\n").filter(Boolean);
  if (ids.length) await sh([...docker, "rm", "-f", ...ids]);
  const vols = (await sh([...docker, "volume", "ls", "-q"])).split("\n").filter(Boolean);
  if (vols.length) await sh([...docker, "volume", "rm", "-f", ...vols]);
  const tags = (await sh([...docker, "images", "--format", "{{.Repository}}:{{.Tag}}"])).split("\n").filter((t) => t && t !== "busybox:latest");
  if (tags.length) await sh([...docker, "rmi", "-f", ...tags]);
}

await main();
