/**
 * One error base for the whole hub. `retryable` decides what the queue does with a failure:
 * retryable errors back off and try again, the rest become BullMQ `UnrecoverableError`s and go
 * straight to the dead-letter queue. `status` is what an HTTP route answers when it surfaces one.
 */
export class SwitchboardError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  readonly status: number;
  readonly details?: Record<string, unknown>;

  constructor(
    code: string,
    message: string,
    opts: { retryable?: boolean; status?: number; cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = opts.retryable ?? false;
    this.status = opts.status ?? 500;
    this.details = opts.details;
  }
}

/** A webhook whose signature, token or timestamp does not check out: 401, nothing queued. */
export class VerificationError extends SwitchboardError {
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super('bad_signature', message, { status: 401, ...opts });
  }
}

/** A payload that is not what the platform documents. `field` names the offending field. */
export class PayloadError extends SwitchboardError {
  constructor(message: string, opts: { field?: string; status?: number; cause?: unknown } = {}) {
    super('bad_payload', message, {
      status: opts.status ?? 400,
      cause: opts.cause,
      details: opts.field ? { field: opts.field } : undefined,
    });
  }
}

export class NotFoundError extends SwitchboardError {
  constructor(message: string) {
    super('not_found', message, { status: 404 });
  }
}

/** Redis (or the store) cannot take the message right now: answer 503 so the platform retries. */
export class UnavailableError extends SwitchboardError {
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super('unavailable', message, { status: 503, retryable: true, ...opts });
  }
}

/** A channel's send API failed. Retryable unless the platform said the request itself is wrong. */
export class ChannelSendError extends SwitchboardError {
  /** Seconds the platform asked us to wait (Telegram's `retry_after`, HTTP `Retry-After`). */
  readonly retryAfterSec?: number;
  constructor(message: string, opts: { retryable: boolean; retryAfterSec?: number; cause?: unknown }) {
    super('send_failed', message, { retryable: opts.retryable, status: 502, cause: opts.cause });
    this.retryAfterSec = opts.retryAfterSec;
  }
}

/** Config or workflow file error with a position: prints as `file:line:col message`. */
export class ConfigError extends SwitchboardError {
  constructor(readonly issues: ConfigIssue[]) {
    super('bad_config', issues.map(formatConfigIssue).join('\n'));
  }
}

export interface ConfigIssue {
  file: string;
  line: number;
  col: number;
  message: string;
}

export function formatConfigIssue(issue: ConfigIssue): string {
  return `${issue.file}:${issue.line}:${issue.col} ${issue.message}`;
}

export function isRetryable(err: unknown): boolean {
  return err instanceof SwitchboardError ? err.retryable : true;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
