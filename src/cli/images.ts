import { defineCommand } from "./command";
import type { Database } from "bun:sqlite";
import { cittyArgs, parseFlags, type FlagSpec } from "./flags";
import { context } from "./context";
import { UsageError } from "./globals";
import { listImages, repoDigests } from "../image/store";
import { familiarRepository, parseReference, type Reference } from "../image/reference";
import { TsdError } from "../errors";
import { findImage, type ImageRecord } from "../image/store";
import { humanDuration, humanSize } from "../format";
import { context as formatContext, labelMethod, printList, type ListSpec } from "../format/list";
import { boolFilter, matchLabels, parseFilters, type Filters } from "../format/filters";
import { goTime } from "../format/time";
import { intermediateImages } from "../image/build/cache";

const flags = {
  quiet: { kind: "bool", short: "q", description: "Only show image IDs" },
  "no-trunc": { kind: "bool", description: "Don't truncate output" },
  digests: { kind: "bool", description: "Show digests" },
  all: { kind: "bool", short: "a", description: "Show all images (default hides intermediate images)" },
  format: { kind: "string", description: "Pretty-print images using a Go template ('table {{.Repository}}\\t{{.Tag}}'), or json", valueHint: "FORMAT" },
  filter: { kind: "list", short: "f", description: "Filter output: dangling=BOOL, label=KEY[=VALUE], before=IMAGE, since=IMAGE, reference=PATTERN", valueHint: "FILTER" },
} satisfies FlagSpec;

interface FilterRow {
  repository: string;
  tag: string;
  image: ImageRecord;
}

const IMAGE_FILTERS = ["dangling", "label", "before", "since", "reference"] as const;

function imageRef(db: Database, ref: string | undefined): ImageRecord | undefined {
  if (ref === undefined) return undefined;
  const image = findImage(db, ref);
  if (!image) throw new TsdError(`No such image: ${ref}`, 1);
  return image;
}

const createdMs = (i: ImageRecord): number => (i.created ? Date.parse(i.created) : 0);

/** `--filter` as docker images takes it (moby 20.10): dangling, label, before, since, reference (a glob on REPO[:TAG]). */
export function imageFilter(filters: string[], db?: Database): (row: FilterRow) => boolean {
  const f: Filters = parseFilters(filters, IMAGE_FILTERS);
  const dangling = (f.get("dangling") ?? []).map((v) => boolFilter("dangling", v));
  const before = db ? imageRef(db, f.get("before")?.[0]) : undefined;
  const since = db ? imageRef(db, f.get("since")?.[0]) : undefined;
  const refs = (f.get("reference") ?? []).map((v) => new RegExp(`^${v.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*").replace(/\?/g, ".")}$`));
  return (r) =>
    dangling.every((d) => (r.repository === "<none>") === d) &&
    matchLabels(f, ((r.image.config.config as { Labels?: Record<string, string> } | undefined)?.Labels ?? {}) as Record<string, string>) &&
    (!before || createdMs(r.image) < createdMs(before)) &&
    (!since || createdMs(r.image) > createdMs(since)) &&
    (refs.length === 0 || refs.some((re) => re.test(r.repository) || re.test(`${r.repository}:${r.tag}`)));
}

/** Docker's images columns (ImageContext's header map). */
const IMAGES_SPEC: ListSpec = {
  table: "{{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}",
  headers: {
    ID: "IMAGE ID", Repository: "REPOSITORY", Tag: "TAG", Digest: "DIGEST", CreatedSince: "CREATED", CreatedAt: "CREATED AT", Size: "SIZE",
    Containers: "CONTAINERS", VirtualSize: "SIZE", SharedSize: "SHARED SIZE", UniqueSize: "UNIQUE SIZE",
  },
};
const DIGESTS_TABLE = "{{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}";

export default defineCommand({
  meta: { name: "images", description: "List images" },
  args: { ...cittyArgs(flags), repository: { type: "positional", required: false, description: "REPOSITORY[:TAG]" } },
  run({ rawArgs }) {
    const { flags: f, positionals } = parseFlags("images", flags, rawArgs);
    if (positionals.length > 1) throw new UsageError(`"tsd images" accepts at most 1 argument: tsd images [OPTIONS] [REPOSITORY[:TAG]]`);
    const { db } = context();
    const filter = positionals[0] ? parseReference(positionals[0]) : undefined;
    const filterHasTag = positionals[0] ? /:[^/]*$/.test(positionals[0]) : false;
    interface Row {
      id: string;
      created: string;
      createdAt: string;
      size: string;
      image: ImageRecord;
      ref: Reference | undefined;
      repository: string;
      tag: string;
      digest: string;
    }
    // A build's intermediate images, as Docker's, only with -a.
    const hidden = f.all ? new Set<string>() : intermediateImages(db);
    const rows = listImages(db).filter(({ image, tags }) => tags.length > 0 || !hidden.has(image.id)).flatMap(({ image, tags }): Row[] => {
      const id = f["no-trunc"] ? `sha256:${image.id}` : image.id.slice(0, 12);
      const created = image.created ? `${humanDuration(Date.now() - Date.parse(image.created))} ago` : "N/A";
      const digests = repoDigests(db, image.id);
      const base = { id, created, createdAt: image.created ? goTime(new Date(image.created)) : "", size: humanSize(image.size), image };
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
    const keep = imageFilter(f.filter, db);
    const shown = (
      filter ? rows.filter((r) => r.ref && r.ref.domain === filter.domain && r.ref.path === filter.path && (!filterHasTag || r.tag === filter.tag)) : rows
    ).filter(keep);
    if (f.quiet) {
      const ids = [...new Set(shown.map((r) => r.id))];
      if (ids.length) console.log(ids.join("\n"));
    } else {
      const table = `table ${f.digests ? DIGESTS_TABLE : IMAGES_SPEC.table}`;
      const format = f.format === undefined || f.format === "table" ? table : f.format;
      const labels = (r: Row) => ((r.image.config.config as { Labels?: Record<string, string> } | undefined)?.Labels ?? {}) as Record<string, string>;
      const rowsOut = shown.map((r) =>
        formatContext("*formatter.imageContext", {
          Containers: "N/A", CreatedAt: r.createdAt, CreatedSince: r.created, Digest: r.digest, ID: r.id, Repository: r.repository,
          SharedSize: "N/A", Size: r.size, Tag: r.tag, UniqueSize: "N/A", VirtualSize: r.size,
        }, { Label: labelMethod(labels(r)) }),
      );
      printList(format, rowsOut, IMAGES_SPEC);
    }
  },
});
