/**
 * How a call outside the process failed, in words ops staff can act on. The `code` says why
 * (`circuit_open`, `timeout`, `bad_response`…) and ends up in the step record and the logs.
 */
import { SwitchboardError } from '../errors.ts';

export type SourceErrorCode =
  /** The target's breaker is open: not called at all. */
  | 'circuit_open'
  /** Too many calls to the target in flight and waiting: not called. */
  | 'bulkhead_full'
  /** No answer within the source's timeout. */
  | 'timeout'
  /** The target answered with an error status. */
  | 'http_status'
  /** The target answered, but not with what its API documents (not JSON, wrong shape). */
  | 'bad_response'
  /** Connection refused, reset, DNS… */
  | 'network'
  /** The source is switched off or not configured in hub.yaml. */
  | 'disabled'
  /** The answer was empty (an LLM that said nothing). */
  | 'empty'
  /** The target reported a failure of its own (a Dify workflow that failed, a database error). */
  | 'remote_error';

/** A failed call to an external source (Dify, an LLM, embeddings, the order database, an HTTP API). */
export class SourceError extends SwitchboardError {
  /** Whether this failure says the target is unhealthy (and so moves its breaker towards open). */
  readonly countsForBreaker: boolean;
  /** The HTTP status the target answered with, for `http_status` errors. */
  readonly remoteStatus?: number;

  constructor(
    readonly target: string,
    code: SourceErrorCode,
    message: string,
    opts: { retryable?: boolean; countsForBreaker?: boolean; cause?: unknown; remoteStatus?: number } = {},
  ) {
    super(code, `${target}: ${message}`, {
      retryable: opts.retryable ?? false,
      cause: opts.cause,
      status: 502,
    });
    this.countsForBreaker = opts.countsForBreaker ?? opts.retryable ?? false;
    this.remoteStatus = opts.remoteStatus;
  }
}

/** The caller gave up (its step timed out, the run was aborted): not the target's fault unless it was a timeout. */
export class CallerAbortError extends Error {
  constructor(
    readonly reason: unknown,
    /** True when the caller gave up because the target was too slow (a step or run timeout). */
    readonly wasTimeout: boolean,
  ) {
    super(reason instanceof Error ? reason.message : 'aborted');
    this.name = 'CallerAbortError';
  }
}

/** An abort reason that means "too slow": the engine's step/run timeouts and `AbortSignal.timeout`. */
export function isTimeoutReason(reason: unknown): boolean {
  if (reason instanceof SwitchboardError)
    return reason.code === 'step_timeout' || reason.code === 'run_timeout';
  return reason instanceof Error && reason.name === 'TimeoutError';
}
