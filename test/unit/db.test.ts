// The state database's own guarantees, on real SQLite files in a temp dir (no root needed).
import { afterAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { closeDb, DatabaseDamaged, openDb } from "../../src/store/db";

const dirs: string[] = [];
const fresh = () => {
  const d = mkdtempSync(join(tmpdir(), "tsd-unit-db-"));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe("the state database", () => {
  test("a database an older tsd left is copied before its schema changes; a new one is not", () => {
    const root = fresh();
    const old = new Database(join(root, "tsd.db"), { create: true });
    old.exec("CREATE TABLE containers (id TEXT PRIMARY KEY); INSERT INTO containers VALUES ('kept'); PRAGMA user_version = 4242");
    old.close();
    const db = openDb(root);
    expect(existsSync(join(root, "tsd.db.bak-4242"))).toBe(true);
    const backup = new Database(join(root, "tsd.db.bak-4242"), { readonly: true });
    expect(backup.query("SELECT id FROM containers").all()).toEqual([{ id: "kept" }]);
    backup.close();
    expect(db.query("SELECT COUNT(*) AS n FROM migrations").get()).toMatchObject({ n: expect.any(Number) });
    closeDb(root);
    const other = fresh();
    openDb(other);
    closeDb(other);
    expect(existsSync(join(other, "tsd.db.bak-0"))).toBe(false);
  });

  test("a file that is not a database is a DatabaseDamaged error naming the way out", () => {
    const root = fresh();
    writeFileSync(join(root, "tsd.db"), "garbage ".repeat(1000));
    expect(() => openDb(root)).toThrow(DatabaseDamaged);
    expect(() => openDb(root)).toThrow(/run 'tsd system repair'/);
  });
});
