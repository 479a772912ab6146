// `ps [--format table|json] ID [ps options]`: the processes of the container's cgroup. json: the
// array of pids (containerd's shim reads it); table: the host's `ps` (default `-ef`), filtered
// to the cgroup's pids, as runc does.
import { TsdError } from "../errors";
import { cgroupPids } from "./cgroup";
import { FlagError, idArg, parseFlags, str } from "./flags";
import type { RuntimeGlobals } from "./globals";
import { readRecord } from "./state-dir";

/** The lines of `ps` output whose PID column is one of `pids` (the header kept). */
export function filterPs(output: string, pids: readonly number[]): string {
  const lines = output.split("\n").filter((l) => l !== "");
  const header = lines[0];
  if (header === undefined) return "";
  const col = header.trim().split(/\s+/).indexOf("PID");
  if (col < 0) throw new TsdError("ps: the output has no PID column (keep pid in the ps options)", 1);
  const want = new Set(pids);
  const rows = lines.slice(1).filter((l) => want.has(Number(l.trim().split(/\s+/)[col])));
  return [header, ...rows].map((l) => `${l}\n`).join("");
}

export async function psCommand(g: RuntimeGlobals, argv: string[]): Promise<number> {
  const p = parseFlags(argv, { format: { kind: "string", aliases: ["f"] } }, false);
  const format = str(p, "format") ?? "table";
  if (format !== "table" && format !== "json") throw new FlagError(`invalid format option: ${format}`);
  const rec = readRecord(g.root, idArg("ps", p.args));
  const pids = cgroupPids(rec);
  if (format === "json") {
    process.stdout.write(`${JSON.stringify(pids)}\n`);
    return 0;
  }
  const ps = Bun.spawnSync(["ps", ...(p.args.length > 1 ? p.args.slice(1) : ["-ef"])], { stdout: "pipe", stderr: "pipe" });
  if (ps.exitCode !== 0) throw new TsdError(`ps: ${ps.stderr.toString().trim() || `exit status ${ps.exitCode}`}`, 1);
  process.stdout.write(filterPs(ps.stdout.toString(), pids));
  return 0;
}
