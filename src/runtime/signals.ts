// Signal names and numbers as runc's `kill` takes them (Linux's numbering, x86-64 and arm64
// alike): a number, `KILL`, `SIGKILL`, any case, `RTMIN+3`, `SIGRTMAX-1` (pure); and what a
// foreground verb (run, exec, restore) passes on to the container's process.
import { FlagError } from "./flags";

export const SIGNALS: Record<string, number> = {
  HUP: 1, INT: 2, QUIT: 3, ILL: 4, TRAP: 5, ABRT: 6, IOT: 6, BUS: 7, FPE: 8, KILL: 9, USR1: 10,
  SEGV: 11, USR2: 12, PIPE: 13, ALRM: 14, TERM: 15, STKFLT: 16, CHLD: 17, CLD: 17, CONT: 18,
  STOP: 19, TSTP: 20, TTIN: 21, TTOU: 22, URG: 23, XCPU: 24, XFSZ: 25, VTALRM: 26, PROF: 27,
  WINCH: 28, IO: 29, POLL: 29, PWR: 30, SYS: 31,
};

export const SIGRTMIN = 34;
export const SIGRTMAX = 64;

function realtime(name: string): number | undefined {
  const m = /^RTM(IN|AX)(?:([+-])(\d+))?$/.exec(name);
  if (!m) return undefined;
  const base = m[1] === "IN" ? SIGRTMIN : SIGRTMAX;
  const n = m[3] === undefined ? 0 : Number(m[3]);
  const sig = m[2] === "-" ? base - n : base + n;
  return sig >= SIGRTMIN && sig <= SIGRTMAX ? sig : undefined;
}

/** The signal number of `raw`; throws runc's error for an unknown one. 0 is runc's too: no
 *  signal, the existence check of kill(2). */
export function parseSignal(raw: string): number {
  if (/^\d+$/.test(raw)) {
    const n = Number(raw);
    if (n >= 0 && n <= SIGRTMAX) return n;
    throw new FlagError(`invalid signal: ${raw} (0 to ${SIGRTMAX}, or a name such as TERM)`);
  }
  let name = raw.toUpperCase();
  if (name.startsWith("SIG")) name = name.slice(3);
  const n = SIGNALS[name] ?? realtime(name);
  if (n === undefined) throw new FlagError(`unknown signal "${raw}" (a number, or a name such as TERM, KILL, SIGHUP)`);
  return n;
}

/** The signals a foreground run, exec or restore passes on to the container's process. */
export const FORWARDED = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGWINCH"] as const;

/** Forwards FORWARDED to `pid` until the returned function is called (a process already gone
 *  is no error: its exit ends the caller's wait). */
export function forwardSignals(pid: number): () => void {
  const handlers = FORWARDED.map((sig) => [sig, () => {
    try {
      process.kill(pid, sig);
    } catch {
      // Gone.
    }
  }] as const);
  for (const [sig, h] of handlers) process.on(sig, h);
  return () => {
    for (const [sig, h] of handlers) process.off(sig, h);
  };
}
