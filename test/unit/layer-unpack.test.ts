// The pure parts of src/image/layer-unpack.ts, the way pull, load and import take a layer in:
// the unpacker's message without its stdin name, and io.ts's Slots that run 3 layers at once.
import { describe, expect, test } from "bun:test";
import { unpackerMessage } from "../../src/image/layer-unpack";
import { Slots } from "../../src/io";

describe("unpackerMessage", () => {
  test("drops the unpacker's name for its stdin, keeps the rest as it is", () => {
    expect(unpackerMessage('layer "-": bad header checksum (not a tar archive, or corrupt) at byte 0')).toBe("bad header checksum (not a tar archive, or corrupt) at byte 0");
    expect(unpackerMessage('layer entry "etc/x": archive is truncated (in a file)')).toBe('layer entry "etc/x": archive is truncated (in a file)');
    expect(unpackerMessage('the layer unpacker exited 9')).toBe("the layer unpacker exited 9");
  });
});

describe("Slots", () => {
  test("runs at most n at once, the rest in arrival order, and goes on after a failure", async () => {
    const slots = new Slots(2);
    let running = 0;
    let most = 0;
    const started: number[] = [];
    const job = (i: number) =>
      slots.with(async () => {
        started.push(i);
        running++;
        most = Math.max(most, running);
        await Bun.sleep(5);
        running--;
        if (i === 1) throw new Error("one");
        return i;
      });
    const results = await Promise.allSettled([0, 1, 2, 3, 4].map(job));
    expect(most).toBe(2);
    expect(started).toEqual([0, 1, 2, 3, 4]);
    expect(results.map((r) => (r.status === "fulfilled" ? r.value : (r.reason as Error).message))).toEqual([0, "one", 2, 3, 4]);
  });
});
