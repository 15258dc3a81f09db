/** Durations in config: a number of milliseconds, or a string such as `500ms`, `3s`, `2m`, `1h`, `7d`. */
import { z } from 'zod';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/;

export function parseDuration(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  const m = DURATION.exec(value.trim());
  if (!m) return undefined;
  return Math.round(Number(m[1]) * (UNIT_MS[m[2]!] ?? 1));
}

/** zod schema: accepts `3s` or `3000`, yields milliseconds. */
export const durationSchema = z.union([z.number(), z.string()]).transform((value, ctx) => {
  const ms = parseDuration(value);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `invalid duration "${value}" (use e.g. 500ms, 3s, 2m, 1h, 7d)` });
    return z.NEVER;
  }
  return ms;
});
