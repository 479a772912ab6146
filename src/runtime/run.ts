// PLACEHOLDER on branch h/rt-verbs: rt-core writes the real `run` (RUNTIME.md); at the merge
// rt-core's file replaces this one whole. Same entry point: runCommand(globals, argv).
import { TsdError } from "../errors";
import type { RuntimeGlobals } from "./globals";

export async function runCommand(_g: RuntimeGlobals, _argv: string[]): Promise<number> {
  throw new TsdError("run: not yet implemented on this branch (rt-core's)", 1);
}
