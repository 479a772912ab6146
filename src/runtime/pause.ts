// `pause` (being written).
import { TsdError } from "../errors";
import type { RuntimeGlobals } from "./globals";

export async function pauseCommand(_g: RuntimeGlobals, _argv: string[]): Promise<number> {
  throw new TsdError("pause: not yet implemented", 1);
}

export async function resumeCommand(_g: RuntimeGlobals, _argv: string[]): Promise<number> {
  throw new TsdError("pause: not yet implemented", 1);
}
