// Test images made by tools we did not write (busybox-static, GNU tar, umoci, skopeo), built by
// test/fixtures/make-images.sh into one cache dir shared by every test file and run.
// The script is cached on its inputs and serialises concurrent callers on DIR/.lock (flock),
// so parallel test processes neither race nor rebuild; within a process it runs once.
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";

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

/** An OCI layout tar's single-image parts, unpacked once into `work`/oci-layout: the config's
 *  bytes and the first layer's bytes (gzip, as umoci wrote it) with its digest. */
export async function ociLayoutParts(layoutTar: string, work: string): Promise<{ configBytes: Buffer<ArrayBuffer>; layer: Buffer<ArrayBuffer>; layerDigest: string }> {
  const dir = join(work, "oci-layout");
  if (!existsSync(dir)) {
    mkdirSync(dir);
    const r = Bun.spawnSync(["tar", "-xf", layoutTar, "-C", dir], { stderr: "pipe" });
    if (r.exitCode !== 0) throw new Error(`tar -xf ${layoutTar} exited ${r.exitCode}: ${r.stderr}`);
  }
  const blob = (d: string) => readFileSync(join(dir, "blobs", "sha256", d.slice(7)));
  const index = JSON.parse(readFileSync(join(dir, "index.json"), "utf8"));
  const manifest = JSON.parse(blob(index.manifests[0].digest).toString());
  return { configBytes: blob(manifest.config.digest), layer: blob(manifest.layers[0].digest), layerDigest: manifest.layers[0].digest };
}
