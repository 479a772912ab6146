// Go's time.Time.String() as Docker prints CreatedAt: "2006-01-02 15:04:05 -0700 MST" in local time.

const pad = (n: number, w = 2): string => String(n).padStart(w, "0");

/** The zone's abbreviation as Go prints it: "UTC", else the numeric offset ("+0200"), as Go does for zones it cannot name. */
function zoneName(d: Date, offset: string): string {
  if (d.getTimezoneOffset() === 0) return "UTC";
  const short = new Intl.DateTimeFormat("en-US", { timeZoneName: "short" }).formatToParts(d).find((p) => p.type === "timeZoneName")?.value;
  return short && /^[A-Z]{3,5}$/.test(short) ? short : offset;
}

export function goTime(d: Date): string {
  const off = -d.getTimezoneOffset();
  const sign = off < 0 ? "-" : "+";
  const offset = `${sign}${pad(Math.floor(Math.abs(off) / 60))}${pad(Math.abs(off) % 60)}`;
  const date = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return `${date} ${time} ${offset} ${zoneName(d, offset)}`;
}
