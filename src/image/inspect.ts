// `tsd image inspect`: Docker's image JSON (templates: src/format/inspect.ts).
import type { Database } from "bun:sqlite";
import { familiarName, parseReference } from "./reference";
import { repoDigests, type ImageRecord } from "./store";

export function imageInspect(db: Database, image: ImageRecord): Record<string, unknown> {
  const tags = (db.query("SELECT name FROM tags WHERE image_id = ? ORDER BY name").all(image.id) as { name: string }[]).map((t) =>
    familiarName(parseReference(t.name)),
  );
  const digests = repoDigests(db, image.id).map((d) => `${familiarName(parseReference(d.repository)).replace(/:latest$/, "")}@${d.digest}`);
  const c = image.config;
  return {
    Id: `sha256:${image.id}`,
    RepoTags: tags,
    RepoDigests: digests,
    Parent: "",
    Comment: "",
    Created: c.created ?? "",
    Author: (c as { author?: string }).author ?? "",
    Config: c.config ?? {},
    Architecture: c.architecture ?? "",
    Os: c.os ?? "",
    Size: image.size,
    RootFS: { Type: c.rootfs.type, Layers: c.rootfs.diff_ids },
    Metadata: { LastTagTime: new Date(image.loadedAt).toISOString() },
  };
}
