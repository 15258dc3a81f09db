/** The pure parts of the hand-off policy: keywords, business hours, the low-confidence streak. */
import { describe, expect, it } from 'vitest';
import { LoginThrottle } from '../../src/agents/login-throttle.ts';
import { hashPassword, verifyPassword } from '../../src/agents/password.ts';
import { isWithinHours } from '../../src/handoff/business-hours.ts';
import { nextStreak, runConfidence } from '../../src/handoff/confidence.ts';
import { compileKeywords } from '../../src/handoff/keywords.ts';

describe('hand-off keywords', () => {
  const match = compileKeywords(['人工', '转人工', 'human', 'agent', 'real person']);
  it.each([
    ['我要转人工', '人工'],
    ['人工客服在吗', '人工'],
    ['Can I talk to a HUMAN?', 'human'],
    ['ａｇｅｎｔ please', 'agent'],
    ['a real   person please', 'real person'],
  ])('%s → %s', (text, keyword) => expect(match(text)).toBe(keyword));
  it.each(['what is your agenda', 'humane society', 'reagent prices', '', undefined])(
    '%s → no hand-off',
    (text) => expect(match(text)).toBeNull(),
  );
  it('an empty list never matches', () => expect(compileKeywords([])('human')).toBeNull());
});

describe('business hours', () => {
  const hours = {
    timezone: 'Asia/Shanghai',
    days: ['mon', 'tue', 'wed', 'thu', 'fri'] as const,
    from: '09:00',
    to: '18:00',
  };
  const at = (iso: string) => new Date(iso);
  it('uses the configured time zone', () => {
    // Monday 2025-03-03 09:30 in Shanghai is 01:30 UTC.
    expect(isWithinHours({ ...hours, days: [...hours.days] }, at('2025-03-03T01:30:00Z'))).toBe(true);
    expect(isWithinHours({ ...hours, days: [...hours.days] }, at('2025-03-03T00:30:00Z'))).toBe(false);
    expect(isWithinHours({ ...hours, days: [...hours.days] }, at('2025-03-03T10:00:00Z'))).toBe(false); // 18:00 is closed
    expect(isWithinHours({ ...hours, days: [...hours.days] }, at('2025-03-08T03:00:00Z'))).toBe(false); // Saturday
  });
  it('overnight hours belong to the day they start', () => {
    const night = { timezone: 'UTC', days: ['fri' as const], from: '22:00', to: '02:00' };
    expect(isWithinHours(night, at('2025-03-07T23:00:00Z'))).toBe(true); // Friday night
    expect(isWithinHours(night, at('2025-03-08T01:00:00Z'))).toBe(true); // Saturday early, Friday's shift
    expect(isWithinHours(night, at('2025-03-08T23:00:00Z'))).toBe(false); // Saturday night
  });
  it('no hours configured: always open', () => expect(isWithinHours(undefined)).toBe(true));
});

describe('low-confidence streak', () => {
  const rule = { runs: 3, threshold: 0.5 };
  it('reads vars.confidence first, then the last step output with a score', () => {
    expect(runConfidence({ vars: { confidence: '0.3' }, steps: [{ output: { score: 0.9 } }] })).toBe(0.3);
    expect(
      runConfidence({
        vars: {},
        steps: [{ output: { score: 0.9 } }, { output: { top: { score: 0.2 } } }, { output: 'text' }],
      }),
    ).toBe(0.2);
    expect(runConfidence({ vars: {}, steps: [{ output: { kind: 'text' } }] })).toBeUndefined();
  });
  it('counts consecutive low runs, resets on a sure one or a run without a score, ignores a re-run', () => {
    let s = nextStreak(undefined, 'm1', 0.1, rule);
    expect(s).toEqual({ streak: { count: 1, lastMessageId: 'm1' }, handoff: false });
    expect(nextStreak(s.streak, 'm1', 0.1, rule).streak.count).toBe(1); // the same job again
    s = nextStreak(s.streak, 'm2', 0.2, rule);
    expect(nextStreak(s.streak, 'm3', 0.9, rule).streak.count).toBe(0);
    expect(nextStreak(s.streak, 'm3', undefined, rule).streak.count).toBe(0);
    const third = nextStreak(s.streak, 'm3', 0.49, rule);
    expect(third).toEqual({ streak: { count: 0, lastMessageId: 'm3' }, handoff: true });
    expect(nextStreak(undefined, 'm1', 0.1, { runs: 0, threshold: 0.5 }).handoff).toBe(false);
  });
});

describe('agent credentials', () => {
  it('scrypt hashes verify, carry their parameters, and differ per salt', async () => {
    const a = await hashPassword('correct horse');
    const b = await hashPassword('correct horse');
    expect(a).toMatch(/^scrypt\$16384\$8\$1\$[\w-]+\$[\w-]+$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword('correct horse', a)).toBe(true);
    expect(await verifyPassword('wrong horse', a)).toBe(false);
    expect(await verifyPassword('x', 'md5$abc')).toBe(false);
  });
  it('the login throttle refuses after 5 failures in the window, then lets go', () => {
    let now = 0;
    const throttle = new LoginThrottle(5, 60_000, () => now);
    for (let i = 0; i < 5; i++) throttle.fail(['name:a']);
    expect(throttle.retryAfter(['name:a', 'ip:1'])).toBe(60_000);
    expect(throttle.retryAfter(['name:b'])).toBe(0);
    now = 60_001;
    expect(throttle.retryAfter(['name:a'])).toBe(0);
  });
});
