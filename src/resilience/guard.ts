/**
 * The one layer every call outside the process goes through (Dify, LLMs, embeddings, the order
 * database, HTTP APIs): a bulkhead, then retries with exponential backoff, then the target's
 * circuit breaker, then a per-attempt timeout, all cockatiel policies. Each attempt counts for the
 * breaker, so a flapping target opens it; an open breaker fails the call at once (no slot taken,
 * no retry, no waiting), which lets the workflow step's `fallback` answer straight away.
 *
 * Failures come out as `SourceError`s whose message says what happened and to which target.
 */
import {
  BrokenCircuitError,
  type BulkheadPolicy,
  BulkheadRejectedError,
  bulkhead,
  ExponentialBackoff,
  handleWhen,
  retry,
  TaskCancelledError,
  TimeoutStrategy,
  timeout,
} from 'cockatiel';
import type { Logger } from 'pino';
import { SwitchboardError } from '../errors.ts';
import type { BreakerRegistry, BreakerStateName } from './breakers.ts';
import type { CallSettings } from './config.ts';
import { CallerAbortError, isTimeoutReason, SourceError } from './errors.ts';

/** Does this failure say the target is unhealthy? Bad requests and callers giving up for other reasons do not. */
export function countsForBreaker(err: unknown): boolean {
  if (err instanceof CallerAbortError) return err.wasTimeout;
  if (err instanceof SourceError) return err.countsForBreaker;
  if (err instanceof BrokenCircuitError || err instanceof BulkheadRejectedError) return false;
  // Timeouts, network errors and anything unexpected from a client library: the target's doing.
  return true;
}

/** Worth another attempt? Only transient failures, and never once the breaker has opened. */
function retryable(err: unknown): boolean {
  if (err instanceof BrokenCircuitError || err instanceof CallerAbortError) return false;
  if (err instanceof TaskCancelledError) return true;
  if (err instanceof SwitchboardError) return err.retryable;
  return err instanceof TypeError; // fetch's "fetch failed" (connection refused, reset)
}

/** Guards external calls; one instance per hub process, sharing the hub's `BreakerRegistry`. */
export class Resilience {
  readonly #bulkheads = new Map<string, { policy: BulkheadPolicy; limit: number; queue: number }>();

  constructor(
    readonly breakers: BreakerRegistry,
    private readonly logger: Logger,
  ) {}

  /** State of a target's breaker (`closed` when never called). */
  state(target: string): BreakerStateName {
    return this.breakers.state(target);
  }

  /**
   * Run `fn` against `target` under `settings`. `fn` receives the attempt's signal (aborted on the
   * attempt's timeout or when `signal` aborts) and must pass it on to fetch or the driver.
   * When `signal` aborts, the call rejects with `signal.reason`.
   */
  async call<T>(
    target: string,
    settings: CallSettings,
    fn: (signal: AbortSignal, attempt: number) => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T> {
    signal?.throwIfAborted();
    const breaker = this.breakers.for(target, settings.breaker, countsForBreaker);
    const attemptTimeout = timeout(settings.timeoutMs, TimeoutStrategy.Aggressive);
    const retries = retry(handleWhen(retryable), {
      maxAttempts: settings.retries,
      backoff: new ExponentialBackoff({
        initialDelay: settings.backoffMs,
        maxDelay: settings.backoffMs * 16,
      }),
    });
    if (settings.retries > 0) {
      retries.onRetry((r) =>
        this.logger.info(
          {
            target,
            attempt: r.attempt,
            delayMs: Math.round(r.delay),
            err: 'error' in r ? r.error.message : undefined,
          },
          'retrying a failed source call',
        ),
      );
    }
    try {
      return await this.#bulkhead(target, settings).execute(
        ({ signal: slot }) =>
          retries.execute(
            ({ attempt, signal: attemptsSignal }) =>
              breaker.execute(
                ({ signal: inner }) =>
                  attemptTimeout
                    .execute(({ signal: attemptSignal }) => fn(attemptSignal, attempt), inner)
                    .catch((err: unknown) => {
                      // Tell the breaker whose fault it was: cockatiel reports a caller's abort as a timeout too.
                      if (signal?.aborted)
                        throw new CallerAbortError(signal.reason, isTimeoutReason(signal.reason));
                      throw err;
                    }),
                attemptsSignal,
              ),
            slot,
          ),
        signal,
      );
    } catch (err) {
      throw this.#translate(target, settings, err, signal);
    }
  }

  #bulkhead(target: string, settings: CallSettings): BulkheadPolicy {
    const current = this.#bulkheads.get(target);
    if (current && current.limit === settings.concurrency && current.queue === settings.queue)
      return current.policy;
    const policy = bulkhead(settings.concurrency, settings.queue);
    this.#bulkheads.set(target, { policy, limit: settings.concurrency, queue: settings.queue });
    return policy;
  }

  #translate(target: string, settings: CallSettings, err: unknown, signal: AbortSignal | undefined): unknown {
    if (signal?.aborted) return signal.reason;
    if (err instanceof CallerAbortError) return err.reason;
    if (err instanceof SourceError) return err;
    if (err instanceof BrokenCircuitError)
      return new SourceError(
        target,
        'circuit_open',
        'circuit breaker is open after repeated failures; not called',
      );
    if (err instanceof BulkheadRejectedError)
      return new SourceError(
        target,
        'bulkhead_full',
        `too many calls in flight (${settings.concurrency} running, ${settings.queue} waiting); not called`,
      );
    if (err instanceof TaskCancelledError)
      return new SourceError(target, 'timeout', `no answer within ${settings.timeoutMs}ms`, {
        retryable: true,
      });
    const message = err instanceof Error ? describeNetworkError(err) : String(err);
    return new SourceError(target, 'network', message, { retryable: true, cause: err });
  }
}

/** fetch says only "fetch failed"; the reason (ECONNREFUSED 127.0.0.1:9) is in `cause`. */
function describeNetworkError(err: Error): string {
  const cause = err.cause as { code?: string; message?: string } | undefined;
  if (err.message === 'fetch failed' && cause)
    return `request failed: ${cause.message ?? cause.code ?? 'network error'}`;
  return err.message;
}
