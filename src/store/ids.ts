// Random 64-hex ids (containers, networks), as Docker makes them.
export function randomId(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("hex");
}
