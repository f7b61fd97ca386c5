import argon2 from 'argon2';

/** argon2id with the OWASP-recommended minimum cost (19 MiB, 2 passes). */
const OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, OPTIONS);
}

let decoy: Promise<string> | undefined;

/**
 * Verifies a password. With no stored hash (unknown user) it still verifies against a
 * decoy hash, so a wrong email and a wrong password take the same time.
 */
export async function verifyPassword(hash: string | undefined, password: string): Promise<boolean> {
  decoy ??= hashPassword('decoy-password-that-never-matches');
  const target = hash ?? (await decoy);
  try {
    const ok = await argon2.verify(target, password);
    return ok && hash !== undefined;
  } catch {
    return false;
  }
}
