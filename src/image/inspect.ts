// `tsd image inspect`: Docker's image JSON, and a small `--format` for {{.Field.Sub}} and
// {{json .Field}} templates (the forms scripts use).
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

/** Renders `{{.A.B}}` and `{{json .A}}` against `data`; other text is kept. */
export function renderTemplate(tpl: string, data: unknown): string {
  return tpl.replace(/\{\{\s*(json\s+)?\.([\w.]*)\s*\}\}/g, (_m, json: string | undefined, path: string) => {
    let v: unknown = data;
    for (const k of path.split(".").filter(Boolean)) v = v && typeof v === "object" ? (v as Record<string, unknown>)[k] : undefined;
    if (json) return JSON.stringify(v ?? null);
    if (v === undefined || v === null) return "<no value>";
    if (Array.isArray(v)) return `[${v.join(" ")}]`;
    if (typeof v === "object") return `map[${Object.entries(v).map(([k, x]) => `${k}:${typeof x === "object" ? JSON.stringify(x) : x}`).join(" ")}]`;
    return String(v);
  });
}
