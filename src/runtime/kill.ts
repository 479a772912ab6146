// `kill` (being written).
import { TsdError } from "../errors";
import type { RuntimeGlobals } from "./globals";

export async function killCommand(_g: RuntimeGlobals, _argv: string[]): Promise<number> {
  throw new TsdError("kill: not yet implemented", 1);
}
