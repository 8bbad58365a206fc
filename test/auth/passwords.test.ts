import { expect, test } from "bun:test";
import { hashPassword, verifyPassword } from "../../src/auth/passwords.ts";

test("passwords are Argon2id with OWASP's baseline parameters; other parameter sets still verify", async () => {
  const hash = await hashPassword("correct horse battery staple");
  expect(hash).toStartWith("$argon2id$v=19$m=19456,t=2,p=1$");
  expect(await verifyPassword("correct horse battery staple", hash)).toBe(true);
  expect(await verifyPassword("wrong horse battery staple", hash)).toBe(false);
  const bunDefault = await Bun.password.hash("older account", { algorithm: "argon2id" });
  expect(await verifyPassword("older account", bunDefault)).toBe(true);
  expect(await verifyPassword("anything", null)).toBe(false);
});
