// `spec` (being written).
import { TsdError } from "../errors";
import type { RuntimeGlobals } from "./globals";

export async function specCommand(_g: RuntimeGlobals, _argv: string[]): Promise<number> {
  throw new TsdError("spec: not yet implemented", 1);
}
