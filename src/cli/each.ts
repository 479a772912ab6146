// Docker's verbs over several objects (rm, kill, stop, start, wait, pause, network rm…): one
// line per object, the command going on past a failure.
import { NeedsNamespace } from "../store/rootless";

/**
 * `act` for each ref (in turn, or all at once with `parallel`: stop's grace periods overlap):
 * its line printed (what `act` returns, else the ref); a failure printed as one line while the
 * others go on, and exit 1 when any failed. NeedsNamespace (the rootless fast path) ends the
 * command at once: main.ts runs it again inside.
 */
export async function eachRef(refs: string[], act: (ref: string) => Promise<string | void> | string | void, o: { parallel?: boolean } = {}): Promise<void> {
  let failed = 0;
  const one = async (ref: string) => {
    try {
      const line = await act(ref);
      console.log(line ?? ref);
    } catch (e) {
      if (e instanceof NeedsNamespace) throw e;
      failed++;
      process.stderr.write(`tsd: ${(e as Error).message}\n`);
    }
  };
  if (o.parallel) await Promise.all(refs.map(one));
  else for (const ref of refs) await one(ref);
  if (failed > 0) process.exitCode = 1;
}
