/**
 * WeCom server API client: access token per (corp, secret) shared through Redis, one transparent
 * token refresh when the platform says the token expired, and errcodes mapped to retry semantics.
 *
 * JSON calls (`post`) and multipart uploads (`uploadMedia`) share that one token path.
 *
 * @see https://developer.work.weixin.qq.com/document/path/91039 (获取access_token)
 * @see https://developer.work.weixin.qq.com/document/path/90313 (全局错误码)
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { ChannelSendError } from '../../errors.ts';
import { AccessTokenCache } from '../shared/access-token.ts';
import { type HttpJsonResponse, httpJson, redactUrl, retryAfterSec } from '../shared/http.ts';
import { redisKey } from '../shared/keys.ts';

/** 40014 invalid access_token, 42001 access_token expired: fetch a new one and try once more. */
const TOKEN_ERRCODES = new Set([40014, 42001]);
/** -1 system busy; 45009 API frequency limit; 45033 concurrency limit: the platform asks us to wait. */
const RETRY_AFTER: ReadonlyMap<number, number> = new Map([
  [-1, 2],
  [45009, 60],
  [45033, 2],
]);

/** A WeCom API answer with a non-zero errcode. */
export class WeComApiError extends ChannelSendError {
  readonly errcode: number;
  constructor(path: string, errcode: number, errmsg: string) {
    const wait = RETRY_AFTER.get(errcode);
    const hint = errcode === 60020 ? " (add the hub egress IP to the app's trusted IP list)" : '';
    super(`wecom ${path}: errcode ${errcode} ${errmsg}${hint}`, {
      retryable: wait !== undefined || TOKEN_ERRCODES.has(errcode),
      retryAfterSec: wait,
    });
    this.errcode = errcode;
  }
}

export interface WeComApiOptions {
  apiBase: string;
  corpId: string;
  redis: Redis;
  keyPrefix: string;
  timeoutMs: number;
}

export interface WeComResult {
  errcode: number;
  errmsg?: string;
  [k: string]: unknown;
}

/** Temporary media types of `media/upload`. */
export type WeComMediaType = 'image' | 'voice' | 'video' | 'file';

/** One file for `media/upload`; `filename` is what recipients see for a file message. */
export interface MediaFile {
  bytes: Uint8Array<ArrayBuffer>;
  filename: string;
  contentType: string;
}

export interface UploadedMedia extends WeComResult {
  type: string;
  media_id: string;
  created_at: string;
}

/** Short, stable stand-in for a secret in Redis keys (the secret itself never goes to Redis). */
export function secretHash(secret: string): string {
  return createHash('sha256').update(secret).digest('hex').slice(0, 16);
}

export class WeComApi {
  readonly #o: WeComApiOptions;
  readonly #tokens = new Map<string, AccessTokenCache>();

  constructor(opts: WeComApiOptions) {
    this.#o = opts;
  }

  /** The token cache of one secret (app secret, or the 微信客服 secret). */
  tokens(secret: string): AccessTokenCache {
    let cache = this.#tokens.get(secret);
    if (!cache) {
      cache = new AccessTokenCache({
        redis: this.#o.redis,
        key: redisKey(this.#o.keyPrefix, 'wecom', 'token', this.#o.corpId, secretHash(secret)),
        fetch: () => this.#fetchToken(secret),
      });
      this.#tokens.set(secret, cache);
    }
    return cache;
  }

  /**
   * POST `path?access_token=…` with a JSON body. Refreshes the token once on 40014/42001, throws
   * `WeComApiError` on any other non-zero errcode.
   */
  post<T extends WeComResult>(path: string, body: unknown, secret: string, signal?: AbortSignal): Promise<T> {
    return this.#withToken<T>(path, {}, secret, (url) =>
      httpJson(url, { body, timeoutMs: this.#o.timeoutMs, signal }),
    );
  }

  /**
   * Upload temporary media (valid 3 days): multipart/form-data with one file part named `media`.
   * Same token handling and errcode mapping as `post`.
   *
   * @see https://developer.work.weixin.qq.com/document/path/90253 (上传临时素材)
   */
  async uploadMedia(
    type: WeComMediaType,
    file: MediaFile,
    secret: string,
    opts: { timeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<UploadedMedia> {
    const path = '/cgi-bin/media/upload';
    const timeoutMs = opts.timeoutMs ?? this.#o.timeoutMs;
    // A fresh form per attempt: a retried request must not reuse a consumed body.
    const data = await this.#withToken<UploadedMedia>(path, { type }, secret, (url) =>
      httpJson(url, { form: mediaForm(file), timeoutMs, signal: opts.signal }),
    );
    if (typeof data.media_id !== 'string' || data.media_id.length === 0) {
      throw new ChannelSendError(`wecom ${path}: answer without media_id`, { retryable: false });
    }
    return data;
  }

  /** One call with a token in the query; on 40014/42001 a new token and exactly one more try. */
  async #withToken<T extends WeComResult>(
    path: string,
    query: Record<string, string>,
    secret: string,
    request: (url: string) => Promise<HttpJsonResponse>,
  ): Promise<T> {
    const tokens = this.tokens(secret);
    const extra = new URLSearchParams(query).toString();
    for (let attempt = 0; ; attempt++) {
      const token = await tokens.get();
      const url = `${this.#o.apiBase}${path}?access_token=${encodeURIComponent(token)}${extra ? `&${extra}` : ''}`;
      const res = await request(url);
      const data = checkHttp(url, res.status, res.json, res.headers) as T;
      if (TOKEN_ERRCODES.has(data.errcode) && attempt === 0) {
        await tokens.invalidate(token);
        continue;
      }
      if (data.errcode !== 0) throw new WeComApiError(path, data.errcode, data.errmsg ?? '');
      return data;
    }
  }

  /** @see https://developer.work.weixin.qq.com/document/path/91039 */
  async #fetchToken(secret: string): Promise<{ token: string; expiresInSec: number }> {
    const url = `${this.#o.apiBase}/cgi-bin/gettoken?corpid=${encodeURIComponent(this.#o.corpId)}&corpsecret=${encodeURIComponent(secret)}`;
    const res = await httpJson(url, { timeoutMs: this.#o.timeoutMs });
    const data = checkHttp(url, res.status, res.json, res.headers) as WeComResult & {
      access_token?: string;
      expires_in?: number;
    };
    if (data.errcode !== 0 || !data.access_token) {
      throw new WeComApiError('/cgi-bin/gettoken', data.errcode, data.errmsg ?? 'no access_token');
    }
    return { token: data.access_token, expiresInSec: data.expires_in ?? 7200 };
  }
}

function checkHttp(url: string, status: number, json: unknown, headers: Headers): WeComResult {
  if (status >= 500 || status === 429) {
    throw new ChannelSendError(`wecom ${redactUrl(url)}: HTTP ${status}`, {
      retryable: true,
      retryAfterSec: retryAfterSec(headers),
    });
  }
  if (json === null || typeof json !== 'object' || typeof (json as WeComResult).errcode !== 'number') {
    // WeCom answers 200 with an errcode for every API failure; anything else is a broken proxy or
    // a wrong apiBase, which a retry will not fix by itself but a config fix + DLQ replay will.
    throw new ChannelSendError(`wecom ${redactUrl(url)}: HTTP ${status} without a WeCom JSON body`, {
      retryable: status >= 500,
    });
  }
  return json as WeComResult;
}

function mediaForm(file: MediaFile): FormData {
  const form = new FormData();
  form.append('media', new Blob([file.bytes], { type: file.contentType }), file.filename);
  return form;
}
