// OWASP's Argon2id baseline (19 MiB, 2 passes): Bun's default takes 64 MiB per hash, which
// kept a small server's RSS near 200 MiB after a few sign-ins. Parameters live in each hash,
// so hashes made with other settings still verify.
const ARGON2 = { algorithm: "argon2id", memoryCost: 19_456, timeCost: 2 } as const;

/** Argon2id via Bun.password (the spec's choice); a dummy verify keeps timing similar for unknown accounts. */
export function hashPassword(password: string): Promise<string> {
  return Bun.password.hash(password, ARGON2);
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
