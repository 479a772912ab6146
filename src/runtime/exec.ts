// `exec` (being written).
import { TsdError } from "../errors";
import type { RuntimeGlobals } from "./globals";

export async function execCommand(_g: RuntimeGlobals, _argv: string[]): Promise<number> {
  throw new TsdError("exec: not yet implemented", 1);
}
