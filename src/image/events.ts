// Image events (`tsd events`) as Docker's daemon logs them (moby daemon/images/image_events.go):
// the actor is the reference (pull, push) or the image id (tag, untag, delete, load, save,
// import), and `name` the reference or id; the image's labels come first.
import type { Database } from "bun:sqlite";
import { recordEvent } from "../store/events";

export function imageEvent(db: Database, action: string, actorId: string, name: string): void {
  let labels: Record<string, string> = {};
  try {
    const id = actorId.startsWith("sha256:") ? actorId.slice(7) : undefined;
    const row = (id ? db.query("SELECT config FROM images WHERE id = ?").get(id) : db.query("SELECT i.config FROM images i JOIN tags t ON t.image_id = i.id WHERE t.name = ?").get(name)) as { config: string } | null;
    labels = ((JSON.parse(row?.config ?? "{}") as { config?: { Labels?: Record<string, string> } }).config?.Labels ?? {}) as Record<string, string>;
  } catch {
    // No labels then.
  }
  recordEvent(db, "image", action, actorId, { ...labels, name });
}
