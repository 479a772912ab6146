// Scratch files of one command (a load's unpacked archive, an import's spool, save/export's
// FILE.tmp-PID) removed also when SIGINT, SIGTERM or SIGHUP ends the command, which then exits
// 128+N as the signal would have. Handlers are installed only while such a file exists, so
// commands that forward signals (run, exec, attach) keep theirs. They run at the next turn of
// the event loop: long work stays asynchronous (a child process, an awaited stream) so that a
// signal is acted on at once. SIGKILL leaves the files to the next command's sweep
// (src/store/workdir.ts) or, for FILE.tmp-PID, beside FILE.
const SIGNALS = { SIGINT: 2, SIGTERM: 15, SIGHUP: 1 } as const;
type Sig = keyof typeof SIGNALS;

const pending = new Set<() => void>();
const handlers = new Map<Sig, () => void>();

function runAll(): void {
  for (const fn of [...pending]) {
    try {
      fn();
    } catch {
      // Best effort: the process is ending.
    }
  }
  pending.clear();
}

function install(): void {
  for (const sig of Object.keys(SIGNALS) as Sig[]) {
    const h = () => {
      runAll();
      process.exit(128 + SIGNALS[sig]);
    };
    handlers.set(sig, h);
    process.on(sig, h);
  }
}

function uninstall(): void {
  for (const [sig, h] of handlers) process.off(sig, h);
  handlers.clear();
}

/** Registers `cleanup` until the returned function is called (which does not run it). */
export function onInterrupt(cleanup: () => void): () => void {
  if (pending.size === 0) install();
  pending.add(cleanup);
  return () => {
    pending.delete(cleanup);
    if (pending.size === 0) uninstall();
  };
}

/** Runs `body`; `cleanup` runs when it ends (either way) or when a signal ends the command. */
export async function withCleanup<T>(cleanup: () => void, body: () => T | Promise<T>): Promise<T> {
  const done = onInterrupt(cleanup);
  try {
    return await body();
  } finally {
    done();
    cleanup();
  }
}
