// A small TAP 13 reader for runtime-tools' validation programs (tap-go output). Perl's prove
// misreads their YAML diagnostics (indented `---` … `...` blocks that may hold lines looking
// like test lines), so we read it ourselves: only unindented lines outside a YAML block count.

export interface TapResult {
  ok: boolean;
  number: number;
  description: string;
  directive: "" | "skip" | "todo";
}

export interface TapSummary {
  results: TapResult[];
  /** The `1..N` plan, or undefined when there was none (a crash before the end). Some programs
   *  print two TAP streams (linux_cgroups_cpus: `1..112`, then `1..0`): the plans add up. */
  plan: number | undefined;
  /** A `Bail out!` line. */
  bailedOut: boolean;
  /** The YAML blocks printed before any test line. runtime-tools' hook programs (prestart,
   *  poststop, hooks …) run no TAP test at all: they print `1..0`, and a failure only as such a
   *  block (`{"error": "…"}`). */
  diagnostics: string[];
}

const TEST_LINE = /^(not ok|ok)\b\s*(\d+)?\s*(?:-\s*)?(.*)$/;
const PLAN_LINE = /^1\.\.(\d+)/;

/** Splits a description from its `# SKIP`/`# TODO` directive. */
export function splitDirective(text: string): { description: string; directive: TapResult["directive"] } {
  const m = /^(.*?)\s*#\s*(skip|todo)\b.*$/i.exec(text);
  if (!m) return { description: text.trim(), directive: "" };
  return { description: m[1]!.trim(), directive: m[2]!.toLowerCase() as "skip" | "todo" };
}

export function parseTap(text: string): TapSummary {
  const results: TapResult[] = [];
  let plan: number | undefined;
  let bailedOut = false;
  const diagnostics: string[] = [];
  let yaml: string[] | undefined;
  for (const line of text.split("\n")) {
    if (yaml) {
      if (/^\s+\.\.\.\s*$/.test(line)) {
        if (results.length === 0) diagnostics.push(yaml.join("\n"));
        yaml = undefined;
      } else yaml.push(line);
      continue;
    }
    if (/^\s+---\s*$/.test(line)) {
      yaml = [];
      continue;
    }
    if (line.startsWith("Bail out!")) bailedOut = true;
    const p = PLAN_LINE.exec(line);
    if (p) {
      plan = (plan ?? 0) + Number(p[1]);
      continue;
    }
    const m = TEST_LINE.exec(line);
    if (!m) continue;
    const { description, directive } = splitDirective(m[3] ?? "");
    results.push({ ok: m[1] === "ok", number: m[2] ? Number(m[2]) : results.length + 1, description, directive });
  }
  return { results, plan, bailedOut, diagnostics };
}

/** The first line of a diagnostic's `"error"` value (tap-go prints the YAML as JSON), or its
 *  first non-blank line. */
export function diagnosticError(yaml: string): string {
  const m = /"error":\s*("(?:[^"\\]|\\.)*")/.exec(yaml);
  if (m) {
    try { return (JSON.parse(m[1]!) as string).split("\n")[0]!; } catch { /* fall through */ }
  }
  return yaml.split("\n").map((l) => l.trim()).find((l) => l && l !== "{" && l !== "}") ?? "";
}

export interface FileCounts {
  ok: number;
  notOk: number;
  skipped: number;
  /** Why the file as a whole is broken (no plan, plan mismatch, exit status, timeout), or "". */
  broken: string;
  /** Nothing run and exit 0 (`1..0`, or no TAP at all): the program's own pass without a test. */
  noTests: boolean;
}

/** Counts one program's results: a skip counts as ok (as prove does) and is also counted apart;
 *  a TODO failure is ok. `exit` is the program's status (null: killed by the timeout). */
export function countFile(s: TapSummary, exit: number | null): FileCounts {
  let ok = 0, notOk = 0, skipped = 0;
  for (const r of s.results) {
    if (r.directive === "skip") skipped++;
    if (r.ok || r.directive === "todo") ok++;
    else notOk++;
  }
  let broken = "";
  if (exit === null) broken = "timed out";
  else if (s.bailedOut) broken = "bailed out";
  else if (s.plan === undefined && !(exit === 0 && s.results.length === 0)) broken = `no plan (exit ${exit})`;
  else if (s.plan !== undefined && s.plan !== s.results.length) broken = `planned ${s.plan}, ran ${s.results.length}`;
  else if (exit !== 0 && notOk === 0) broken = `exit ${exit} with no failing test`;
  else if (s.results.length === 0 && s.diagnostics.length) broken = `no test, an error: ${diagnosticError(s.diagnostics[0]!)}`;
  // `1..0`, or no TAP at all with exit 0: the *_fail programs print nothing when the runtime
  // refused the bad config as it must, and exit 1 through util.Fatal when it did not.
  const noTests = !broken && (s.plan ?? 0) === 0 && s.results.length === 0;
  return { ok, notOk, skipped, broken, noTests };
}
