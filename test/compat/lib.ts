// The compatibility suite's shared parts: running one scenario script against an engine and
// normalising what differs between any two runs of the same engine (ids, times, durations).
//
// A scenario is an ordinary shell script that calls `docker …`; the runner defines `docker` as
// a shell function for the engine under test (tsd with its own --root, or a private dockerd),
// so the same text runs against both. What is compared: the normalised stdout and the exit
// status of the script (its last command's, as a user's script would end).
import { readdirSync } from "node:fs";
import { join } from "node:path";

export const SCENARIOS = join(import.meta.dir, "scenarios");
export const EXPECTED = join(import.meta.dir, "expected");

export interface Outcome {
  stdout: string;
  stderr: string;
  code: number;
}

export function scenarioNames(): string[] {
  return readdirSync(SCENARIOS)
    .filter((f) => f.endsWith(".sh"))
    .map((f) => f.slice(0, -3))
    .sort();
}

/** Runs SCENARIOS/NAME.sh with `docker` meaning `argv0 …prefix`, in a scratch dir. */
export async function runScenario(name: string, dockerArgv: string[], cwd: string, timeoutMs = 90000): Promise<Outcome> {
  const fn = `docker() { ${dockerArgv.map(shellQuote).join(" ")} "$@"; }`;
  const proc = Bun.spawn(["bash", "-c", `${fn}\n. ${shellQuote(join(SCENARIOS, `${name}.sh`))}`], {
    cwd,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: cwd, LC_ALL: "C" },
  });
  const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  return { stdout, stderr, code };
}

export function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}

/** What may differ between two runs of one engine: ids, digests, times, durations, sizes. */
export function normalize(text: string): string {
  return text
    .replace(/\b[0-9a-f]{64}\b/g, "<ID>")
    .replace(/\b[0-9a-f]{12}\b/g, "<SHORTID>")
    .replace(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})/g, "<TIME>")
    .replace(/\b(Less than a second|About an? (minute|hour)|\d+ (seconds?|minutes?|hours?|days?|weeks?|months?|years?))\b/g, "<DURATION>");
}

/** The form kept in expected/NAME.out and compared. */
export function render(o: Outcome): string {
  return `${normalize(o.stdout)}[exit ${o.code}]\n`;
}
