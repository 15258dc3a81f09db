/**
 * DingTalk OpenAPI client (api.dingtalk.com): app access token shared through Redis, one
 * transparent refresh when the token is refused, HTTP errors mapped to retry semantics.
 *
 * @see https://open.dingtalk.com/document/orgapp/obtain-the-access_token-of-an-internal-app
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { ChannelSendError } from '../../errors.ts';
import { AccessTokenCache } from '../shared/access-token.ts';
import { httpJson, retryAfterSec } from '../shared/http.ts';
import { redisKey } from '../shared/keys.ts';

export interface DingTalkApiOptions {
  apiBase: string;
  clientId: string;
  clientSecret: string;
  redis: Redis;
  keyPrefix: string;
  timeoutMs: number;
}

/** New-style API error body: `{ code, message, requestid }`. */
interface ApiError {
  code?: string;
  message?: string;
}

export class DingTalkApi {
  readonly tokens: AccessTokenCache;
  readonly #o: DingTalkApiOptions;

  constructor(opts: DingTalkApiOptions) {
    this.#o = opts;
    const secretHash = createHash('sha256').update(opts.clientSecret).digest('hex').slice(0, 16);
    this.tokens = new AccessTokenCache({
      redis: opts.redis,
      key: redisKey(opts.keyPrefix, 'dingtalk', 'token', opts.clientId, secretHash),
      fetch: () => this.#fetchToken(),
    });
  }

  /** POST `path` with the `x-acs-dingtalk-access-token` header; one refresh on a refused token. */
  async post<T>(path: string, body: unknown, signal?: AbortSignal): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const token = await this.tokens.get();
      const res = await httpJson(`${this.#o.apiBase}${path}`, {
        body,
        headers: { 'x-acs-dingtalk-access-token': token },
        timeoutMs: this.#o.timeoutMs,
        signal,
      });
      if (res.status >= 200 && res.status < 300) return res.json as T;
      const err = (res.json ?? {}) as ApiError;
      if (isTokenError(res.status, err) && attempt === 0) {
        await this.tokens.invalidate(token);
        continue;
      }
      const retryable =
        res.status === 429 || res.status >= 500 || isThrottle(err) || isTokenError(res.status, err);
      throw new ChannelSendError(
        `dingtalk ${path}: HTTP ${res.status} ${err.code ?? ''} ${err.message ?? res.text.slice(0, 200)}`,
        {
          retryable,
          retryAfterSec:
            retryAfterSec(res.headers) ?? (isThrottle(err) || res.status === 429 ? 60 : undefined),
        },
      );
    }
  }

  /** @see https://open.dingtalk.com/document/orgapp/obtain-the-access_token-of-an-internal-app */
  async #fetchToken(): Promise<{ token: string; expiresInSec: number }> {
    const res = await httpJson(`${this.#o.apiBase}/v1.0/oauth2/accessToken`, {
      body: { appKey: this.#o.clientId, appSecret: this.#o.clientSecret },
      timeoutMs: this.#o.timeoutMs,
    });
    const data = (res.json ?? {}) as { accessToken?: string; expireIn?: number } & ApiError;
    if (res.status !== 200 || !data.accessToken) {
      throw new ChannelSendError(
        `dingtalk accessToken: HTTP ${res.status} ${data.code ?? ''} ${data.message ?? ''}`,
        {
          retryable: res.status >= 500 || res.status === 429,
        },
      );
    }
    return { token: data.accessToken, expiresInSec: data.expireIn ?? 7200 };
  }
}

function isTokenError(status: number, err: ApiError): boolean {
  return status === 401 || /InvalidAuthentication|accessToken|token/i.test(err.code ?? '');
}

function isThrottle(err: ApiError): boolean {
  return /Throttling|QpsLimit|FlowControl/i.test(err.code ?? '');
}
