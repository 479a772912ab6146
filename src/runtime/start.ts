// PLACEHOLDER on branch h/rt-verbs: rt-core writes the real `start` (RUNTIME.md); at the merge
// rt-core's file replaces this one whole. Same entry point: startCommand(globals, argv).
import { TsdError } from "../errors";
import type { RuntimeGlobals } from "./globals";

export async function startCommand(_g: RuntimeGlobals, _argv: string[]): Promise<number> {
  throw new TsdError("start: not yet implemented on this branch (rt-core's)", 1);
}
