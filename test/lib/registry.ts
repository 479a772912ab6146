// A real registry for the tests: Debian's docker-registry (distribution 2.8) on 127.0.0.1 at a
// free port, with its own config and storage in a temp dir; optional htpasswd basic auth and
// TLS with a self-signed CA made by openssl. Images go in with skopeo.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface Registry {
  host: string; // 127.0.0.1:PORT
  port: number;
  dir: string;
  stop: () => Promise<void>;
}

export interface RegistryOpts {
  tls?: { cert: string; key: string };
  htpasswd?: string;
}

/** A port nothing listens on right now (bound then released by the kernel's choice). */
export function freePort(): number {
  const s = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
  const port = s.port!;
  s.stop(true);
  return port;
}

export async function startRegistry(opts: RegistryOpts = {}): Promise<Registry> {
  const dir = mkdtempSync("/dev/shm/tsd-registry-");
  for (let attempt = 0; ; attempt++) {
    const port = freePort();
    const cfg = [
      "version: 0.1",
      "log: {level: error, accesslog: {disabled: true}}",
      `storage: {filesystem: {rootdirectory: ${dir}/data}, delete: {enabled: true}}`,
      `http: {addr: "127.0.0.1:${port}", secret: tsd-test${opts.tls ? `, tls: {certificate: ${opts.tls.cert}, key: ${opts.tls.key}}` : ""}}`,
      ...(opts.htpasswd ? [`auth: {htpasswd: {realm: tsd-test, path: ${opts.htpasswd}}}`] : []),
    ].join("\n");
    writeFileSync(join(dir, "config.yml"), `${cfg}\n`);
    // Whatever happens to the test process (a failed beforeAll, a crash), the registry goes
    // with it: the kernel kills it when its parent dies (bun test's exit hooks do not run).
    const proc = Bun.spawn(["setpriv", "--pdeathsig", "KILL", "docker-registry", "serve", join(dir, "config.yml")], {
      stdout: "ignore",
      stderr: "pipe",
      stdin: "ignore",
    });
    const onExit = () => {
      proc.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    };
    process.once("exit", onExit);
    const scheme = opts.tls ? "https" : "http";
    for (let i = 0; i < 100 && proc.exitCode === null; i++) {
      try {
        const r = await fetch(`${scheme}://127.0.0.1:${port}/v2/`, { tls: { rejectUnauthorized: false } } as RequestInit);
        await r.arrayBuffer();
        return {
          host: `127.0.0.1:${port}`,
          port,
          dir,
          stop: async () => {
            process.off("exit", onExit);
            proc.kill("SIGKILL");
            await proc.exited;
            rmSync(dir, { recursive: true, force: true });
          },
        };
      } catch {
        await Bun.sleep(50);
      }
    }
    process.off("exit", onExit);
    proc.kill("SIGKILL");
    await proc.exited;
    const err = await new Response(proc.stderr).text();
    if (attempt >= 2) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`docker-registry did not start on 127.0.0.1:${port}: ${err}`);
    }
  }
}

/** skopeo copy SRC docker://DEST with TLS verification off (self-signed or plain HTTP). */
export async function skopeo(args: string[]): Promise<string> {
  const proc = Bun.spawn(["skopeo", "--insecure-policy", ...args], { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`skopeo ${args.join(" ")} exited ${code}: ${err}`);
  return out;
}

export function push(src: string, dest: string, extra: string[] = []): Promise<string> {
  return skopeo(["copy", "-q", "--dest-tls-verify=false", ...extra, src, `docker://${dest}`]);
}

export async function sh(cmd: string[], cwd?: string): Promise<string> {
  const proc = Bun.spawn(cmd, { stdout: "pipe", stderr: "pipe", stdin: "ignore", ...(cwd ? { cwd } : {}) });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`${cmd.join(" ")} exited ${code}: ${err}`);
  return out;
}

/** A CA and a server certificate for 127.0.0.1 signed by it, made with openssl. */
export async function makeCertificates(dir: string): Promise<{ ca: string; cert: string; key: string }> {
  const ca = join(dir, "ca.pem");
  const caKey = join(dir, "ca.key");
  const key = join(dir, "server.key");
  const csr = join(dir, "server.csr");
  const cert = join(dir, "server.pem");
  const ext = join(dir, "ext.cnf");
  await sh(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", caKey, "-out", ca, "-days", "2", "-subj", "/CN=tsd test CA"]);
  await sh(["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=127.0.0.1"]);
  writeFileSync(ext, "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n");
  await sh(["openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", caKey, "-CAcreateserial", "-out", cert, "-days", "2", "-extfile", ext]);
  return { ca, cert, key };
}

/** An htpasswd file with one bcrypt user, as `htpasswd -B` writes. */
export async function writeHtpasswd(path: string, user: string, password: string): Promise<void> {
  const hash = await Bun.password.hash(password, { algorithm: "bcrypt", cost: 4 });
  writeFileSync(path, `${user}:${hash}\n`);
}

export function tempDir(label: string): string {
  return mkdtempSync(join("/dev/shm", `tsd-${label}-`));
}

/** Uploads bytes as a blob of `repo` (the registry API's monolithic upload); returns its digest. */
export async function uploadBlob(host: string, repo: string, bytes: Uint8Array): Promise<string> {
  const digest = `sha256:${new Bun.CryptoHasher("sha256").update(bytes).digest("hex")}`;
  const start = await fetch(`http://${host}/v2/${repo}/blobs/uploads/`, { method: "POST" });
  await start.arrayBuffer();
  const loc = new URL(start.headers.get("location")!, `http://${host}`);
  loc.searchParams.set("digest", digest);
  const put = await fetch(loc, { method: "PUT", body: bytes, headers: { "content-type": "application/octet-stream" } });
  if (put.status !== 201) throw new Error(`PUT blob: ${put.status} ${await put.text()}`);
  return digest;
}

/** An OCI image of one config and the given layer blobs, pushed as `repo:tag`, bytes as they
 *  are (no tool recompresses or checks them): for layers a registry could hand out broken. */
export async function pushRaw(host: string, repo: string, tag: string, config: Uint8Array, layers: { bytes: Uint8Array; mediaType: string }[]): Promise<{ layers: string[] }> {
  const configDigest = await uploadBlob(host, repo, config);
  const descs = [];
  for (const l of layers) descs.push({ mediaType: l.mediaType, digest: await uploadBlob(host, repo, l.bytes), size: l.bytes.length });
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: configDigest, size: config.length },
    layers: descs,
  });
  const put = await fetch(`http://${host}/v2/${repo}/manifests/${tag}`, { method: "PUT", body: manifest, headers: { "content-type": "application/vnd.oci.image.manifest.v1+json" } });
  if (put.status !== 201) throw new Error(`PUT manifest: ${put.status} ${await put.text()}`);
  return { layers: descs.map((d) => d.digest) };
}
