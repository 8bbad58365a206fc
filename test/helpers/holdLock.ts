/**
 * A second process that takes the database's write lock: `bun test/helpers/holdLock.ts <db file> <ms>`.
 * Prints "held" once `BEGIN EXCLUSIVE` and a write went through, holds them for <ms>, commits,
 * prints "released" and exits.
 */
import { Database } from "bun:sqlite";

const [file, ms] = process.argv.slice(2);
const db = new Database(file!);
db.exec("PRAGMA busy_timeout = 5000");
db.exec("BEGIN EXCLUSIVE");
db.run("INSERT INTO signature_nonces (namespace, nonce, expires_at) VALUES (?, ?, 0)", [
  "lock-holder",
  `n-${process.pid}-${Date.now()}`,
]);
console.log("held");
await Bun.sleep(Number(ms));
db.exec("COMMIT");
console.log("released");
db.close();
