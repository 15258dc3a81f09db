/**
 * The resilience layer every source call goes through: per-attempt timeout, retries with backoff
 * for transient failures only, a breaker per target that opens after K counted failures (and then
 * fails calls without making them), recovers through half-open, and a bulkhead.
 */
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { registry } from '../../src/metrics.ts';
import { BreakerRegistry } from '../../src/resilience/breakers.ts';
import type { CallSettings } from '../../src/resilience/config.ts';
import { SourceError } from '../../src/resilience/errors.ts';
import { Resilience } from '../../src/resilience/guard.ts';
import { StepTimeoutError } from '../../src/workflows/index.ts';
import { captureLogger } from '../workflows/helpers.ts';

const BASE: CallSettings = {
  timeoutMs: 1000,
  retries: 0,
  backoffMs: 10,
  concurrency: 10,
  queue: 10,
  breaker: {},
};

function guard(consecutiveFailures = 3, halfOpenAfter = 200) {
  const { logger, records } = captureLogger();
  const breakers = new BreakerRegistry({ consecutiveFailures, halfOpenAfter }, logger);
  return { r: new Resilience(breakers, logger), breakers, records };
}

const fail500 = () =>
  Promise.reject(new SourceError('t', 'http_status', 'answered HTTP 500', { retryable: true }));

describe('Resilience', () => {
  it('retries transient failures with backoff, then succeeds', async () => {
    const { r } = guard();
    let calls = 0;
    const value = await r.call('retry-ok', { ...BASE, retries: 2 }, async () => {
      calls++;
      if (calls < 3)
        throw new SourceError('retry-ok', 'http_status', 'answered HTTP 503', { retryable: true });
      return 'ok';
    });
    expect(value).toBe('ok');
    expect(calls).toBe(3);
  });

  it('does not retry, nor count for the breaker, a request the target rejected as bad (4xx)', async () => {
    const { r, breakers } = guard(2);
    let calls = 0;
    const bad = async () => {
      calls++;
      throw new SourceError('bad-req', 'http_status', 'answered HTTP 400: invalid_param', {
        retryable: false,
      });
    };
    for (let i = 0; i < 4; i++)
      await expect(r.call('bad-req', { ...BASE, retries: 3 }, bad)).rejects.toThrow('HTTP 400');
    expect(calls).toBe(4);
    expect(breakers.state('bad-req')).toBe('closed');
  });

  it('opens after K failures, then fails at once without calling; half-open lets one trial through and recovers', async () => {
    // Half-open after 1 s: long enough that a busy machine cannot reach it before the refused call.
    const { r, breakers, records } = guard(3, 1000);
    let calls = 0;
    const failing = () => {
      calls++;
      return fail500();
    };
    for (let i = 0; i < 3; i++) await expect(r.call('flaky', BASE, failing)).rejects.toThrow('HTTP 500');
    expect(breakers.state('flaky')).toBe('open');
    expect(breakers.states()).toMatchObject({ flaky: 'open' });
    expect(await registry.getSingleMetricAsString('switchboard_breaker_open')).toMatch(
      /switchboard_breaker_open\{target="flaky"\} 1/,
    );

    const started = performance.now();
    const err = await r.call('flaky', BASE, failing).catch((e: unknown) => e);
    // Refused at once; the bound only has to be far below any timeout, with room for a busy machine.
    expect(performance.now() - started).toBeLessThan(250);
    expect(err).toBeInstanceOf(SourceError);
    expect(err).toMatchObject({
      code: 'circuit_open',
      message: 'flaky: circuit breaker is open after repeated failures; not called',
    });
    expect(calls).toBe(3);

    await sleep(1100);
    expect(await r.call('flaky', BASE, async () => 'back')).toBe('back');
    expect(breakers.state('flaky')).toBe('closed');
    const transitions = records
      .filter((x) => x.msg === 'circuit breaker state changed' && x.target === 'flaky')
      .map((x) => x.state);
    expect(transitions).toEqual(['open', 'half-open', 'closed']);
  });

  it('an attempt that takes too long is cut at the timeout, and its signal is aborted', async () => {
    const { r } = guard();
    let aborted = false;
    const started = performance.now();
    const err = await r
      .call('slow', { ...BASE, timeoutMs: 80 }, (signal) => {
        signal.addEventListener('abort', () => {
          aborted = true;
        });
        return new Promise(() => {});
      })
      .catch((e: unknown) => e);
    expect(performance.now() - started).toBeLessThan(300);
    expect(err).toMatchObject({ code: 'timeout', message: 'slow: no answer within 80ms' });
    expect(aborted).toBe(true);
  });

  it('a caller that gives up because its step timed out counts against the target; a plain cancel does not', async () => {
    const { r, breakers } = guard(2);
    const hang = (signal: AbortSignal) =>
      new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))));
    for (let i = 0; i < 3; i++) {
      const c = new AbortController();
      setTimeout(() => c.abort(new Error('shutting down')), 20);
      await expect(r.call('cancelled', BASE, hang, c.signal)).rejects.toThrow('shutting down');
    }
    expect(breakers.state('cancelled')).toBe('closed');
    for (let i = 0; i < 2; i++) {
      const c = new AbortController();
      setTimeout(() => c.abort(new StepTimeoutError('dify', 20)), 20);
      await expect(r.call('too-slow', BASE, hang, c.signal)).rejects.toThrow('timed out after 20ms');
    }
    expect(breakers.state('too-slow')).toBe('open');
  });

  it('the bulkhead refuses calls beyond its slots and queue at once', async () => {
    const { r } = guard();
    const settings = { ...BASE, concurrency: 1, queue: 0 };
    const first = r.call('narrow', settings, () => sleep(100, 'first'));
    const started = performance.now();
    await expect(r.call('narrow', settings, async () => 'second')).rejects.toMatchObject({
      code: 'bulkhead_full',
    });
    // Refused at once, not after the first call's 100 ms.
    expect(performance.now() - started).toBeLessThan(90);
    expect(await first).toBe('first');
  });

  it('network errors are retried and reported with their cause', async () => {
    const { r } = guard();
    const port = await closedPort();
    let calls = 0;
    const err = await r
      .call('down', { ...BASE, retries: 1 }, async () => {
        calls++;
        return fetch(`http://127.0.0.1:${port}/`);
      })
      .catch((e: unknown) => e);
    expect(calls).toBe(2);
    expect(err).toMatchObject({ code: 'network' });
    expect((err as Error).message).toMatch(/^down: request failed: .*ECONNREFUSED/);
  });
});

/** A port nothing listens on (fetch refuses well-known "bad" ports such as 1 outright). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}
