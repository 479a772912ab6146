// Container events (`tsd events`) as Docker's daemon writes them (moby daemon/events.go
// LogContainerEventWithAttributes): the actor is the container id, its attributes the
// container's labels, then `image` and `name`, then the event's own (exitCode, signal …).
import type { Database } from "bun:sqlite";
import { recordEvent } from "../store/events";
import { decodeOptions } from "./options";

interface Actor {
  id: string;
  name: string;
  image_ref: string;
  options: string;
}

function actorOf(db: Database, id: string): Actor | undefined {
  try {
    return (db.query("SELECT id, name, image_ref, options FROM containers WHERE id = ?").get(id) as Actor | null) ?? undefined;
  } catch {
    return undefined;
  }
}

/** The event's attributes (pure): labels first, so image/name/extra win, as Docker's. */
export function containerAttributes(c: Actor, extra: Record<string, string> = {}): Record<string, string> {
  let labels: Record<string, string> = {};
  try {
    labels = decodeOptions(c.options).labels ?? {};
  } catch {
    // Options this tsd cannot read: the event keeps image and name.
  }
  return { ...labels, image: c.image_ref, name: c.name, ...extra };
}

/** Docker's volume mount events at a start: one per volume the container mounts. */
export function volumeMountEvents(db: Database, id: string): void {
  const actor = actorOf(db, id);
  if (!actor) return;
  try {
    for (const v of decodeOptions(actor.options).volumes) {
      if (!v.volume) continue;
      recordEvent(db, "volume", "mount", v.volume, { container: id, destination: v.destination, driver: "local", propagation: "", "read/write": String(!v.readonly) });
    }
  } catch {
    // Options this tsd cannot read: no mount events.
  }
}

/** Records `action` for the container `id` (or the row given); never throws. */
export function containerEvent(db: Database, c: string | Actor, action: string, extra: Record<string, string> = {}): void {
  const actor = typeof c === "string" ? actorOf(db, c) : c;
  if (!actor) return;
  recordEvent(db, "container", action, actor.id, containerAttributes(actor, extra));
}
