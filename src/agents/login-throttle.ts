/**
 * Slows down password guessing: after `maxFailures` failed logins for one name (or from one
 * address) within the window, further attempts are refused until the window passes. In memory,
 * per ingress process: a speed bump, not an account lock-out an attacker could use against staff.
 */
export class LoginThrottle {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly maxFailures = 5,
    private readonly windowMs = 5 * 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Milliseconds until one of these keys may try again; 0 when allowed. */
  retryAfter(keys: string[]): number {
    const t = this.now();
    let wait = 0;
    for (const key of keys) {
      const recent = this.recent(key, t);
      if (recent.length >= this.maxFailures) wait = Math.max(wait, recent[0]! + this.windowMs - t);
    }
    return wait;
  }

  fail(keys: string[]): void {
    const t = this.now();
    for (const key of keys) this.failures.set(key, [...this.recent(key, t), t]);
    if (this.failures.size > 10_000) this.prune(t);
  }

  succeed(keys: string[]): void {
    for (const key of keys) this.failures.delete(key);
  }

  private recent(key: string, t: number): number[] {
    return (this.failures.get(key) ?? []).filter((at) => at > t - this.windowMs);
  }

  private prune(t: number): void {
    for (const [key, times] of this.failures)
      if (!times.some((at) => at > t - this.windowMs)) this.failures.delete(key);
  }
}
