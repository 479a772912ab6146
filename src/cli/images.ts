import { defineCommand } from "citty";
import { cittyArgs, parseFlags, type FlagSpec } from "./flags";
import { context } from "./context";
import { UsageError } from "./globals";
import { listImages, repoDigests } from "../image/store";
import { familiarRepository, parseReference, type Reference } from "../image/reference";
import { humanDuration, humanSize, table } from "../format";

const flags = {
  quiet: { kind: "bool", short: "q", description: "Only show image IDs" },
  "no-trunc": { kind: "bool", description: "Don't truncate output" },
  digests: { kind: "bool", description: "Show digests" },
  all: { kind: "bool", short: "a", description: "Show all images (the default; intermediate images do not exist here)" },
  format: { kind: "string", description: "Format output: 'json' or 'table'", valueHint: "FORMAT" },
  filter: { kind: "list", short: "f", description: "Filter output: dangling=true|false, reference=PATTERN", valueHint: "FILTER" },
} satisfies FlagSpec;

/** `--filter` as docker images takes it: dangling=BOOL and reference=GLOB (on REPO[:TAG]). */
export function imageFilter(filters: string[]): (row: { repository: string; tag: string }) => boolean {
  const tests = filters.map((f) => {
    const eq = f.indexOf("=");
    const key = eq < 0 ? f : f.slice(0, eq);
    const value = eq < 0 ? "" : f.slice(eq + 1);
    if (key === "dangling") {
      if (value !== "true" && value !== "false") throw new UsageError(`invalid filter "${f}": dangling takes true or false`);
      return (r: { repository: string; tag: string }) => (r.repository === "<none>") === (value === "true");
    }
    if (key === "reference") {
      const re = new RegExp(`^${value.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*").replace(/\?/g, ".")}$`);
      return (r: { repository: string; tag: string }) => re.test(r.repository) || re.test(`${r.repository}:${r.tag}`);
    }
    throw new UsageError(`invalid filter "${f}": tsd images filters on dangling=BOOL and reference=PATTERN`);
  });
  return (r) => tests.every((t) => t(r));
}

export default defineCommand({
  meta: { name: "images", description: "List images" },
  args: { ...cittyArgs(flags), repository: { type: "positional", required: false, description: "REPOSITORY[:TAG]" } },
  run({ rawArgs }) {
    const { flags: f, positionals } = parseFlags("images", flags, rawArgs);
    if (positionals.length > 1) throw new UsageError(`"tsd images" accepts at most 1 argument: tsd images [OPTIONS] [REPOSITORY[:TAG]]`);
    if (f.format && f.format !== "json" && f.format !== "table") throw new UsageError(`unsupported --format "${f.format}": use json or table`);
    const { db } = context();
    const filter = positionals[0] ? parseReference(positionals[0]) : undefined;
    const filterHasTag = positionals[0] ? /:[^/]*$/.test(positionals[0]) : false;
    interface Row {
      id: string;
      created: string;
      createdAt: string;
      size: string;
      ref: Reference | undefined;
      repository: string;
      tag: string;
      digest: string;
    }
    const rows = listImages(db).flatMap(({ image, tags }): Row[] => {
      const id = f["no-trunc"] ? `sha256:${image.id}` : image.id.slice(0, 12);
      const created = image.created ? `${humanDuration(Date.now() - Date.parse(image.created))} ago` : "N/A";
      const digests = repoDigests(db, image.id);
      const base = { id, created, createdAt: image.created ?? "", size: humanSize(image.size) };
      const named = tags.map((t) => {
        const ref = parseReference(t);
        const repo = `${ref.domain}/${ref.path}`;
        return { ...base, ref, repository: familiarRepository(ref), tag: ref.tag ?? "<none>", digest: digests.find((d) => d.repository === repo)?.digest ?? "<none>" };
      });
      // Pulled by digest only: one row per repository, no tag.
      const byDigest = digests
        .filter((d) => !named.some((n) => `${n.ref.domain}/${n.ref.path}` === d.repository))
        .map((d) => {
          const ref = parseReference(d.repository);
          return { ...base, ref, repository: familiarRepository(ref), tag: "<none>", digest: d.digest };
        });
      const all = [...named, ...byDigest];
      if (all.length === 0) return [{ ...base, ref: undefined, repository: "<none>", tag: "<none>", digest: "<none>" }];
      return all;
    });
    const keep = imageFilter(f.filter);
    const shown = (
      filter ? rows.filter((r) => r.ref && r.ref.domain === filter.domain && r.ref.path === filter.path && (!filterHasTag || r.tag === filter.tag)) : rows
    ).filter(keep);
    if (f.quiet) {
      const ids = [...new Set(shown.map((r) => r.id))];
      if (ids.length) console.log(ids.join("\n"));
    } else if (f.format === "json") {
      for (const r of shown) {
        console.log(
          JSON.stringify({
            Containers: "N/A",
            CreatedAt: r.createdAt,
            CreatedSince: r.created,
            Digest: r.digest,
            ID: r.id,
            Repository: r.repository,
            SharedSize: "N/A",
            Size: r.size,
            Tag: r.tag,
            UniqueSize: "N/A",
            VirtualSize: r.size,
          }),
        );
      }
    } else if (f.digests) {
      console.log(table(["REPOSITORY", "TAG", "DIGEST", "IMAGE ID", "CREATED", "SIZE"], shown.map((r) => [r.repository, r.tag, r.digest, r.id, r.created, r.size])));
    } else {
      console.log(table(["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"], shown.map((r) => [r.repository, r.tag, r.id, r.created, r.size])));
    }
  },
});
