/**
 * Webhook authentication: Telegram sends the `secret_token` of setWebhook back in the
 * `X-Telegram-Bot-Api-Secret-Token` header of every update. There is no body signature, so the
 * header is the whole check: compared in constant time, missing or wrong → VerificationError.
 *
 * @see https://core.telegram.org/bots/api#setwebhook (secret_token)
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { VerificationError } from '../../errors.ts';

export const SECRET_HEADER = 'x-telegram-bot-api-secret-token';

export function verifyTelegramSecret(headers: Record<string, string | undefined>, secretToken: string): void {
  const given = headers[SECRET_HEADER];
  if (!given) throw new VerificationError('telegram: X-Telegram-Bot-Api-Secret-Token header is missing');
  // Hash both sides first: timingSafeEqual needs equal lengths, and comparing digests keeps the
  // secret's length from leaking through an early length mismatch.
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(secretToken, 'utf8').digest();
  if (!timingSafeEqual(a, b)) throw new VerificationError('telegram: secret token mismatch');
}
