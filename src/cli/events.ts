// `tsd events [--since T] [--until T] [--filter K=V] [--format TEMPLATE|json]`: Docker 20.10's
// events from tsd's event log (src/store/events.ts, src/system/events.ts). Without --until it
// follows until SIGINT/SIGTERM (exit 0) or --until.
import { defineCommand } from "./command";
import { cittyArgs, parseFlags, type FlagSpec } from "./flags";
import { context } from "./context";
import { UsageError } from "./globals";
import { TsdError } from "../errors";
import { GoStruct, parse, TemplateError } from "../format/template";
import { parseTimeArg } from "../container/logs";
import { eventFilter, eventJson, eventMessage, prettyEvent, streamEvents } from "../system/events";
import type { EventRecord } from "../store/events";

const flags = {
  filter: { kind: "list", short: "f", description: "Filter output based on conditions provided", valueHint: "FILTER" },
  format: { kind: "string", description: "Format the output using the given Go template", valueHint: "FORMAT" },
  since: { kind: "string", description: "Show all events created since timestamp", valueHint: "TIME" },
  until: { kind: "string", description: "Stream events until this timestamp", valueHint: "TIME" },
} satisfies FlagSpec;

/** A --since/--until value in ns since the epoch (RFC 3339, Unix seconds with a fraction, or a duration). */
export function timeArg(flag: string, text: string, now: number): bigint {
  const m = /^(\d+)\.(\d{1,9})$/.exec(text);
  if (m) return BigInt(m[1]!) * 1000000000n + BigInt(m[2]!.padEnd(9, "0"));
  const frac = /\.(\d{4,9})(?=Z|[+-]\d\d:\d\d$)/.exec(text);
  const ms = BigInt(parseTimeArg(flag, text, now));
  return frac ? (ms / 1000n) * 1000000000n + BigInt(frac[1]!.padEnd(9, "0")) : ms * 1000000n;
}

function renderer(format: string | undefined): (e: EventRecord) => string {
  if (format === undefined || format === "") return (e) => prettyEvent(e);
  if (format === "json") return eventJson;
  let tpl: ReturnType<typeof parse>;
  try {
    tpl = parse(format.replaceAll("\\t", "\t").replaceAll("\\n", "\n"));
  } catch (e) {
    if (e instanceof TemplateError) throw new TsdError(`template parsing error: ${e.message}`, 1);
    throw e;
  }
  return (e) => {
    const m = eventMessage(e);
    // The template sees Go's field names (Status, ID, From, Scope, Time, TimeNano); JSON the tags.
    const fields = { Status: m.status ?? "", ID: m.id ?? "", From: m.from ?? "", Type: m.Type, Action: m.Action, Actor: m.Actor, Scope: m.scope, Time: m.time, TimeNano: m.timeNano };
    const data = new GoStruct("events.Message", fields, {}, m);
    try {
      return tpl.execute(data, { lenient: (x) => x === m.Actor.Attributes });
    } catch (err) {
      if (err instanceof TemplateError) throw new TsdError(`template: ${err.message}`, 1);
      throw err;
    }
  };
}

export default defineCommand({
  meta: { name: "events", description: "Get real time events from the server" },
  args: cittyArgs(flags),
  async run({ rawArgs }) {
    const { flags: f, positionals } = parseFlags("events", flags, rawArgs);
    if (positionals.length > 0) throw new UsageError(`"tsd events" accepts no arguments`);
    const now = Date.now();
    const since = f.since === undefined ? undefined : timeArg("since", f.since, now);
    const until = f.until === undefined ? undefined : timeArg("until", f.until, now);
    const include = eventFilter(f.filter);
    const render = renderer(f.format);
    const { db } = context();
    let stop = false;
    const onSignal = () => {
      stop = true;
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    try {
      await streamEvents(db, { ...(since !== undefined ? { since } : {}), ...(until !== undefined ? { until } : {}), include, stopped: () => stop }, (e) => console.log(render(e)));
    } finally {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    }
  },
});
