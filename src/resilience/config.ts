/**
 * The resilience settings every external source accepts in hub.yaml, next to its own keys:
 *
 * ```yaml
 * sources:
 *   dify:
 *     timeout: 10s          # one attempt; the step's own `timeout:` caps the whole call
 *     retries: 0            # extra attempts after a transient failure (idempotent calls only)
 *     backoff: 200ms        # first retry delay, doubled each time
 *     concurrency: 16       # calls in flight per target (bulkhead) …
 *     queue: 64             # … and how many may wait for a slot; beyond that a call fails at once
 *     breaker: { consecutiveFailures: 3, halfOpenAfter: 30s }   # default: hub.yaml `breaker`
 * ```
 */
import { z } from 'zod';
import { durationSchema } from '../config/duration.ts';
import type { BreakerSettings } from './breakers.ts';

/** Per-source override of the hub-wide `breaker` block. */
export const breakerOverrideSchema = z.strictObject({
  consecutiveFailures: z.number().int().min(1).optional(),
  halfOpenAfter: durationSchema.optional(),
});

/** The keys, to spread into a source's `z.strictObject({...})`. All optional: defaults depend on the source. */
export const callPolicyFields = {
  timeout: durationSchema.optional(),
  retries: z.number().int().min(0).max(10).optional(),
  backoff: durationSchema.optional(),
  concurrency: z.number().int().min(1).max(10_000).optional(),
  queue: z.number().int().min(0).max(100_000).optional(),
  breaker: breakerOverrideSchema.optional(),
};

/** What a source block may say, as parsed. */
export interface CallPolicyInput {
  timeout?: number;
  retries?: number;
  backoff?: number;
  concurrency?: number;
  queue?: number;
  breaker?: Partial<BreakerSettings>;
}

/** Settings of one guarded call, every field decided. */
export interface CallSettings {
  /** Per attempt, in ms. */
  timeoutMs: number;
  /** Extra attempts after a retryable failure. 0 for calls that are not idempotent. */
  retries: number;
  backoffMs: number;
  concurrency: number;
  queue: number;
  /** Overrides of the hub-wide breaker settings for this target. */
  breaker: Partial<BreakerSettings>;
}

/** Layer settings: later entries win; `undefined` fields never override. */
export function resolveCallSettings(
  base: Omit<CallSettings, 'breaker'>,
  ...layers: (CallPolicyInput | undefined)[]
): CallSettings {
  const out: CallSettings = { ...base, breaker: {} };
  for (const layer of layers) {
    if (!layer) continue;
    if (layer.timeout !== undefined) out.timeoutMs = layer.timeout;
    if (layer.retries !== undefined) out.retries = layer.retries;
    if (layer.backoff !== undefined) out.backoffMs = layer.backoff;
    if (layer.concurrency !== undefined) out.concurrency = layer.concurrency;
    if (layer.queue !== undefined) out.queue = layer.queue;
    if (layer.breaker) out.breaker = { ...out.breaker, ...stripUndefined(layer.breaker) };
  }
  return out;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
