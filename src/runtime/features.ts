// `features` (being written).
import { TsdError } from "../errors";
import type { RuntimeGlobals } from "./globals";

export async function featuresCommand(_g: RuntimeGlobals, _argv: string[]): Promise<number> {
  throw new TsdError("features: not yet implemented", 1);
}
