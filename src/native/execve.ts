// execve(2) through libc (bun has none): rootless tsd replaces itself with nsenter, which joins
// the user's namespaces and execs tsd again there (src/system/rootless-enter.ts).
import { ptr } from "bun:ffi";
import { cstr, errno, libc } from "./libc";

/** A NULL-terminated char*[] and the buffers it points into (kept alive by the caller). */
function cArray(strings: string[]): { array: BigUint64Array; keep: Buffer[] } {
  const keep = strings.map(cstr);
  const array = new BigUint64Array(strings.length + 1);
  keep.forEach((b, i) => (array[i] = BigInt(ptr(b))));
  return { array, keep };
}

/** Replaces this process with `path argv` and `env`; returns only the errno of a failure. */
export function execve(path: string, argv: string[], env: Record<string, string>): number {
  const file = cstr(path);
  const args = cArray(argv);
  const envs = cArray(Object.entries(env).map(([k, v]) => `${k}=${v}`));
  libc().execve(file, args.array, envs.array);
  const failed = errno();
  void args.keep;
  void envs.keep;
  return failed;
}
