/**
 * A local fake of the Douyin Open API on 127.0.0.1: `/oauth/client_token/` (JSON),
 * `/oauth/refresh_token/` (form), `/im/send/msg/?open_id=` (JSON, `access-token` header), with the
 * platform's `{data:{error_code, description}, extra, message}` envelope and documented codes
 * (28001008 token expired, 10010 refresh token expired, 28003018 rate too high).
 *
 * Plus `signDouyinEvent`, which signs a webhook body the way Douyin does (sha1(secret + body)).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type LocalServer, listenLocally } from './local-server.ts';

export interface DouyinSendRecord {
  openId: string | null;
  accessToken: string | undefined;
  body: Record<string, any>;
}

export class FakeDouyinOpenApi {
  readonly requests: { path: string; body: unknown }[] = [];
  /** Accepted im/send/msg calls (what users received). */
  readonly delivered: DouyinSendRecord[] = [];
  tokenCalls = 0;
  baseUrl = '';
  readonly #clientKey: string;
  readonly #clientSecret: string;
  /** Refresh tokens the fake accepts → open_id they belong to. */
  readonly refreshTokens = new Map<string, string>();
  readonly expiredRefreshTokens = new Set<string>();
  #tokens = new Set<string>();
  #failSend: { status: number; body: unknown }[] = [];
  #local: LocalServer | undefined;

  constructor(opts: { clientKey: string; clientSecret: string }) {
    this.#clientKey = opts.clientKey;
    this.#clientSecret = opts.clientSecret;
  }

  async start(): Promise<this> {
    this.#local = await listenLocally((req, res) => this.#handle(req, res));
    this.baseUrl = this.#local.origin;
    return this;
  }

  async close(): Promise<void> {
    await this.#local?.close();
  }

  /** Every token issued so far stops working (as after expiry or revocation). */
  expireAllTokens(): void {
    this.#tokens.clear();
  }

  failNextSend(...failures: { status: number; body: unknown }[]): void {
    this.#failSend.push(...failures);
  }

  static apiError(code: number, description: string): { status: number; body: unknown } {
    return {
      status: 200,
      body: {
        data: { error_code: code, description },
        extra: { error_code: code, description, logid: 'fake' },
      },
    };
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const raw = await readBody(req);
    const type = req.headers['content-type'] ?? '';
    const body: Record<string, any> = type.includes('x-www-form-urlencoded')
      ? Object.fromEntries(new URLSearchParams(raw))
      : raw
        ? JSON.parse(raw)
        : {};
    this.requests.push({ path: url.pathname, body });
    const ok = (data: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
      json(res, 200, { data: { error_code: 0, description: '', ...data }, message: 'success', ...extra });
    const fail = (code: number, description: string) =>
      json(res, 200, { data: { error_code: code, description }, message: 'error' });

    if (url.pathname === '/oauth/client_token/' && req.method === 'POST') {
      this.tokenCalls++;
      if (!type.includes('application/json')) return fail(2100005, 'content-type must be application/json');
      if (
        body.client_key !== this.#clientKey ||
        body.client_secret !== this.#clientSecret ||
        body.grant_type !== 'client_credential'
      ) {
        return fail(10013, 'invalid client_key or client_secret');
      }
      return ok({ access_token: this.#issue('clt'), expires_in: 7200 });
    }
    if (url.pathname === '/oauth/refresh_token/' && req.method === 'POST') {
      this.tokenCalls++;
      if (!type.includes('x-www-form-urlencoded'))
        return fail(2100005, 'content-type must be form-urlencoded');
      if (this.expiredRefreshTokens.has(body.refresh_token)) return fail(10010, 'refresh_token expired');
      const openId = this.refreshTokens.get(body.refresh_token);
      if (body.client_key !== this.#clientKey || body.grant_type !== 'refresh_token' || !openId)
        return fail(10007, 'invalid refresh_token');
      // Douyin documents expires_in as a number here but shows a string in one sample: send a string.
      return ok({
        access_token: this.#issue('act'),
        expires_in: '1296000',
        refresh_token: body.refresh_token,
        open_id: openId,
        scope: 'im.direct_message',
      });
    }
    if (url.pathname === '/im/send/msg/' && req.method === 'POST') {
      const token = req.headers['access-token'] as string | undefined;
      const failure = this.#failSend.shift();
      if (failure) return json(res, failure.status, failure.body);
      if (!token || !this.#tokens.has(token)) {
        return json(res, 200, {
          data: { error_code: 28001008, description: 'access_token过期,请刷新或重新授权' },
          extra: { error_code: 28001008 },
        });
      }
      this.delivered.push({ openId: url.searchParams.get('open_id'), accessToken: token, body });
      return json(res, 200, {
        data: { error_code: 0, description: '' },
        extra: { error_code: 0, description: '' },
        msg_id: `@srv${this.delivered.length}`,
      });
    }
    json(res, 404, { data: { error_code: 28001017, description: 'unknown URI' } });
  }

  #issue(prefix: string): string {
    const t = `${prefix}.${randomBytes(12).toString('hex')}`;
    this.#tokens.add(t);
    return t;
  }
}

/** Headers and body of a webhook call signed as Douyin signs it. */
export function signDouyinEvent(
  body: string,
  clientSecret: string,
  msgId = `msg-${randomBytes(4).toString('hex')}`,
) {
  const signature = createHash('sha1')
    .update(clientSecret + body, 'utf8')
    .digest('hex');
  return {
    headers: { 'content-type': 'application/json', 'x-douyin-signature': signature, 'msg-id': msgId },
    body,
  };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (data += c));
    req.on('end', () => resolve(data));
    req.on('error', reject);
  });
}
