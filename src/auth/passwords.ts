// OWASP's Argon2id baseline (19 MiB, 2 passes): Bun's default takes 64 MiB per hash, which
// kept a small server's RSS near 200 MiB after a few sign-ins. Parameters live in each hash,
// so hashes made with other settings still verify.
const ARGON2 = { algorithm: "argon2id", memoryCost: 19_456, timeCost: 2 } as const;

/** Argon2id via Bun.password (the spec's choice); a dummy verify keeps timing similar for unknown accounts. */
export function hashPassword(password: string): Promise<string> {
  return Bun.password.hash(password, ARGON2);
}

// Made on first use, not at import: every CLI command that imports this (owner create) would
// otherwise pay for an Argon2id hash, and 19 MiB, it never uses. The promise is shared, so
// concurrent first logins hash once.
let dummyHash: Promise<string> | undefined;

export async function verifyPassword(password: string, hash: string | null): Promise<boolean> {
  if (hash === null) {
    dummyHash ??= hashPassword("not-a-real-password-used-for-timing");
    await Bun.password.verify(password, await dummyHash);
    return false;
  }
  return Bun.password.verify(password, hash);
}
