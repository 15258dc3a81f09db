/**
 * One circuit breaker per external target (a channel instance's send API, a Dify app, an LLM
 * endpoint …), built on cockatiel. cockatiel over opossum: it composes breaker, timeout, retry
 * and bulkhead as small policies with AbortSignal support, has no dependencies, and its 3.x line
 * runs on Node 20 (opossum 10 and cockatiel 4 need Node 22).
 *
 * An open breaker fails calls at once (`BrokenCircuitError`), so callers fall back or back off
 * instead of waiting on a dead dependency. Transitions are logged and exported as a metric.
 */
import {
  BrokenCircuitError,
  type CircuitBreakerPolicy,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  handleAll,
  handleWhen,
} from 'cockatiel';
import type { Logger } from 'pino';
import { metrics } from '../metrics.ts';

export interface BreakerSettings {
  consecutiveFailures: number;
  halfOpenAfter: number;
}

export type BreakerStateName = 'closed' | 'open' | 'half-open' | 'isolated';

const STATE_NAMES: Record<CircuitState, BreakerStateName> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half-open',
  [CircuitState.Isolated]: 'isolated',
};

export class BreakerRegistry {
  private readonly breakers = new Map<string, CircuitBreakerPolicy>();

  constructor(
    private readonly defaults: BreakerSettings,
    private readonly logger: Logger,
  ) {}

  /**
   * The breaker of `target`, created on first use. `settings` and `countsAsFailure` apply only at
   * creation. `countsAsFailure` keeps errors that say nothing about the target's health (a 400 for
   * one bad request, a caller's own cancellation) from opening the circuit; default: every error.
   */
  for(
    target: string,
    settings: Partial<BreakerSettings> = {},
    countsAsFailure?: (err: Error) => boolean,
  ): CircuitBreakerPolicy {
    let breaker = this.breakers.get(target);
    if (!breaker) {
      const s = { ...this.defaults, ...settings };
      breaker = circuitBreaker(countsAsFailure ? handleWhen(countsAsFailure) : handleAll, {
        halfOpenAfter: s.halfOpenAfter,
        breaker: new ConsecutiveBreaker(s.consecutiveFailures),
      });
      breaker.onStateChange((state) => {
        const name = STATE_NAMES[state];
        metrics.breakerState.set({ target }, state === CircuitState.Closed ? 0 : 1);
        this.logger.warn({ target, state: name }, 'circuit breaker state changed');
      });
      metrics.breakerState.set({ target }, 0);
      this.breakers.set(target, breaker);
    }
    return breaker;
  }

  /** The state of one target's breaker; `closed` for a target never called. */
  state(target: string): BreakerStateName {
    const breaker = this.breakers.get(target);
    return breaker ? STATE_NAMES[breaker.state] : 'closed';
  }

  /** Every breaker's state, for /readyz detail. */
  states(): Record<string, BreakerStateName> {
    return Object.fromEntries([...this.breakers].map(([target, b]) => [target, STATE_NAMES[b.state]]));
  }
}

export function isBrokenCircuit(err: unknown): boolean {
  return err instanceof BrokenCircuitError;
}
