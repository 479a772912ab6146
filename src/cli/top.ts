import { defineCommand } from "./command";
import { context } from "./context";
import { UsageError } from "./globals";
import { TsdError } from "../errors";
import { containerPids } from "../container/top";

/** Docker's way: the host's `ps` (default -ef), keeping the rows whose PID is in the container's cgroup. */
export function filterPs(output: string, pids: Set<number>): string {
  const lines = output.replace(/\n$/, "").split("\n");
  const header = lines[0] ?? "";
  const col = header.trim().split(/\s+/).indexOf("PID");
  if (col < 0) throw new TsdError(`ps printed no PID column: add -o pid to the ps options`);
  return [header, ...lines.slice(1).filter((l) => pids.has(Number(l.trim().split(/\s+/)[col])))].join("\n");
}

export default defineCommand({
  meta: { name: "top", description: "Display the running processes of a container" },
  async run({ rawArgs }) {
    const [ref, ...psArgs] = rawArgs;
    if (!ref) throw new UsageError(`"tsd top" requires at least 1 argument: tsd top CONTAINER [ps OPTIONS]`);
    const { root, db } = context();
    const pids = containerPids(db, root, ref);
    const ps = Bun.spawnSync(["ps", ...(psArgs.length ? psArgs : ["-ef"])], { stdout: "pipe", stderr: "pipe" });
    if (ps.exitCode !== 0) throw new TsdError(`ps ${psArgs.join(" ")} failed: ${ps.stderr.toString().trim()}`);
    console.log(filterPs(ps.stdout.toString(), pids));
  },
});
