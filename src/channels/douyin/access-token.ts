/**
 * The token the reply API is called with, cached in Redis for every hub process
 * (shared AccessTokenCache: single flight, replaced before it expires, invalidated on rejection).
 *
 * - client_token: `POST /oauth/client_token/` (JSON), valid 2 h.
 * - user access_token: `POST /oauth/refresh_token/` (form) with the refresh token from the
 *   one-time OAuth authorization, valid 15 days. A refresh token Douyin hands back replaces the
 *   configured one (kept in Redis); an expired refresh token (error 10010) needs a new authorization.
 *
 * @see https://developer.open-douyin.com/docs/resource/zh-CN/dop/develop/openapi/account-permission/client-token
 * @see https://developer.open-douyin.com/docs/resource/zh-CN/dop/develop/openapi/account-permission/refresh-access-token
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { ChannelSendError } from '../../errors.ts';
import { AccessTokenCache, type FetchedToken } from '../shared/access-token.ts';
import { httpJson } from '../shared/http.ts';
import { redisKey } from '../shared/keys.ts';
import type { DouyinConfig } from './config.ts';

/**
 * Error codes meaning "this token is no longer good": 28001008 (status-code page), 2190008 and
 * 10008 (authorization doc); 2190002 and 28001003 ("invalid token") from memory, unverified.
 */
export const TOKEN_ERRORS = new Set([28001008, 2190008, 2190002, 10008, 28001003]);
/** The refresh token itself expired: only a new user authorization helps. */
const REFRESH_EXPIRED = 10010;

interface DouyinEnvelope {
  data?: {
    access_token?: string;
    expires_in?: number | string;
    refresh_token?: string;
    error_code?: number;
    description?: string;
  };
  message?: string;
}

export class DouyinTokens {
  readonly cache: AccessTokenCache;
  readonly #config: DouyinConfig;
  readonly #redis: Redis;
  readonly #refreshKey: string;

  constructor(config: DouyinConfig, redis: Redis, keyPrefix: string) {
    this.#config = config;
    this.#redis = redis;
    const kind = config.auth.kind;
    // Keyed by app and credential (a hash, never the secret): two instances of one app share it.
    const credential = config.auth.kind === 'user' ? config.auth.refreshToken : config.clientSecret;
    const tag = createHash('sha256').update(credential).digest('hex').slice(0, 12);
    this.#refreshKey = redisKey(keyPrefix, 'douyin', config.clientKey, 'refresh-token', tag);
    this.cache = new AccessTokenCache({
      redis,
      key: redisKey(keyPrefix, 'douyin', config.clientKey, `${kind}-token`, tag),
      fetch: () => (kind === 'user' ? this.#fetchUserToken() : this.#fetchClientToken()),
    });
  }

  get(): Promise<string> {
    return this.cache.get();
  }

  invalidate(bad: string): Promise<void> {
    return this.cache.invalidate(bad);
  }

  async #fetchClientToken(): Promise<FetchedToken> {
    /** @see https://developer.open-douyin.com/docs/resource/zh-CN/dop/develop/openapi/account-permission/client-token */
    const res = await httpJson(`${this.#config.apiBase}/oauth/client_token/`, {
      body: {
        client_key: this.#config.clientKey,
        client_secret: this.#config.clientSecret,
        grant_type: 'client_credential',
      },
      timeoutMs: this.#config.requestTimeout,
    });
    return this.#tokenFrom(res.status, res.json as DouyinEnvelope, 'client_token');
  }

  async #fetchUserToken(): Promise<FetchedToken> {
    if (this.#config.auth.kind !== 'user') throw new Error('unreachable');
    const refreshToken = (await this.#redis.get(this.#refreshKey)) ?? this.#config.auth.refreshToken;
    const form = new URLSearchParams({
      client_key: this.#config.clientKey,
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
    });
    let status: number;
    let json: unknown;
    try {
      /** @see https://developer.open-douyin.com/docs/resource/zh-CN/dop/develop/openapi/account-permission/refresh-access-token */
      const res = await fetch(`${this.#config.apiBase}/oauth/refresh_token/`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: form.toString(),
        signal: AbortSignal.timeout(this.#config.requestTimeout),
      });
      status = res.status;
      json = await res.json().catch(() => undefined);
    } catch (err) {
      throw new ChannelSendError('douyin: refresh_token request failed', { retryable: true, cause: err });
    }
    const env = json as DouyinEnvelope;
    const token = this.#tokenFrom(status, env, 'refresh_token');
    const next = env.data?.refresh_token;
    if (next && next !== refreshToken) {
      // Kept for 30 days, the documented lifetime of a refresh token.
      await this.#redis.set(this.#refreshKey, next, 'EX', 30 * 86_400);
    }
    return token;
  }

  #tokenFrom(status: number, env: DouyinEnvelope | undefined, what: string): FetchedToken {
    const data = env?.data;
    const code = data?.error_code ?? 0;
    if (status >= 500 || status === 429) {
      throw new ChannelSendError(`douyin ${what}: HTTP ${status}`, { retryable: true });
    }
    if (code === REFRESH_EXPIRED) {
      throw new ChannelSendError(
        'douyin: the refresh token expired; the account must authorize the app again',
        { retryable: false },
      );
    }
    if (status !== 200 || code !== 0 || !data?.access_token) {
      throw new ChannelSendError(
        `douyin ${what}: HTTP ${status}, error ${code} ${data?.description ?? env?.message ?? ''}`.trim(),
        {
          retryable: false,
        },
      );
    }
    const expires = Number(data.expires_in);
    return {
      token: data.access_token,
      expiresInSec: Number.isFinite(expires) && expires > 0 ? expires : 7200,
    };
  }
}
