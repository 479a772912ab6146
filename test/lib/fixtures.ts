// Test images made by tools we did not write (busybox-static, GNU tar, umoci, skopeo), built by
// test/fixtures/make-images.sh into one cache dir shared by every test file and run.
// The script is cached on its inputs and serialises concurrent callers on DIR/.lock (flock),
// so parallel test processes neither race nor rebuild; within a process it runs once.
import { resolve } from "node:path";

export interface TestImages {
  /** The cache dir holding everything below. */
  dir: string;
  /** OCI image-layout tar (umoci), one gzip layer, Cmd ["sh"]. */
  busyboxOci: string;
  /** The same image as a `docker save` archive (skopeo), tagged busybox:latest. */
  busyboxDocker: string;
  /** OCI image-layout tar, 3 layers with a whiteout and an opaque dir; Entrypoint ["/bin/sh","-c"],
   *  Cmd ["echo from-entrypoint"], Env FOO=bar, WorkingDir /data, User 1000:1000. */
  multilayerOci: string;
  /** The plain busybox rootfs directory (read-only by convention: copy before use). */
  rootfs: string;
}

const SCRIPT = resolve(import.meta.dir, "../fixtures/make-images.sh");
const DEFAULT_DIR = "/tmp/tsd-test-images";

let pending: Promise<TestImages> | undefined;

/** Builds the test images once (TSD_TEST_IMAGES overrides the cache dir) and returns their paths. */
export function testImages(): Promise<TestImages> {
  pending ??= build(process.env.TSD_TEST_IMAGES || DEFAULT_DIR);
  return pending;
}

async function build(dir: string): Promise<TestImages> {
  const proc = Bun.spawn(["bash", SCRIPT, dir], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) {
    pending = undefined; // let a later caller retry rather than cache the failure
    throw new Error(`test/fixtures/make-images.sh ${dir} exited ${code}:\n${stdout}${stderr}`);
  }
  return {
    dir,
    busyboxOci: `${dir}/busybox-oci.tar`,
    busyboxDocker: `${dir}/busybox-docker.tar`,
    multilayerOci: `${dir}/multilayer-oci.tar`,
    rootfs: `${dir}/busybox-rootfs`,
  };
}
