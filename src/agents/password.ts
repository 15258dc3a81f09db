/**
 * Agent passwords, hashed with scrypt (node:crypto): a memory-hard KDF, so a leaked table is slow
 * to brute-force. The stored string carries its parameters, `scrypt$N$r$p$salt$hash`, so they
 * can be raised later without invalidating existing hashes.
 */
import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from 'node:crypto';

const PARAMS = { N: 16_384, r: 8, p: 1 } as const;
const KEY_LENGTH = 32;

function derive(password: string, salt: Buffer, opts: ScryptOptions, keyLength: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // maxmem above the default 32 MiB leaves room for N up to 2^16 at r = 8.
    scrypt(password.normalize('NFKC'), salt, keyLength, { ...opts, maxmem: 256 * 1024 * 1024 }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

/** Hash a password for storage. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, PARAMS, KEY_LENGTH);
  return ['scrypt', PARAMS.N, PARAMS.r, PARAMS.p, salt.toString('base64url'), key.toString('base64url')].join(
    '$',
  );
}

/** Constant-time check of a password against a stored hash; false for malformed hashes. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const opts = { N: Number(n), r: Number(r), p: Number(p) };
  if (!Object.values(opts).every((v) => Number.isSafeInteger(v) && v > 0) || expected.length === 0)
    return false;
  const actual = await derive(password, Buffer.from(salt, 'base64url'), opts, expected.length);
  return timingSafeEqual(actual, expected);
}

/**
 * A hash of nothing anyone can type, verified against when a login names an unknown agent, so
 * the answer takes as long as for a known one (no user enumeration through timing).
 */
export const DUMMY_HASH = `scrypt$${PARAMS.N}$${PARAMS.r}$${PARAMS.p}$AAAAAAAAAAAAAAAAAAAAAA$${'A'.repeat(43)}`;
