// `ps` (being written).
import { TsdError } from "../errors";
import type { RuntimeGlobals } from "./globals";

export async function psCommand(_g: RuntimeGlobals, _argv: string[]): Promise<number> {
  throw new TsdError("ps: not yet implemented", 1);
}
