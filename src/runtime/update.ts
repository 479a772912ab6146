// `update` (being written).
import { TsdError } from "../errors";
import type { RuntimeGlobals } from "./globals";

export async function updateCommand(_g: RuntimeGlobals, _argv: string[]): Promise<number> {
  throw new TsdError("update: not yet implemented", 1);
}
