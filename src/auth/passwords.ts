/** Argon2id via Bun.password (the spec's choice); a dummy verify keeps timing similar for unknown accounts. */
export function hashPassword(password: string): Promise<string> {
  return Bun.password.hash(password, { algorithm: "argon2id" });
}

// Made at load (off the main thread) so even the first unknown-account login costs one verify, not a hash too.
const dummyHash = hashPassword("not-a-real-password-used-for-timing");

export async function verifyPassword(password: string, hash: string | null): Promise<boolean> {
  if (hash === null) {
    await Bun.password.verify(password, await dummyHash);
    return false;
  }
  return Bun.password.verify(password, hash);
}
