/**
 * Local fakes of the two HTTP ends of the Taobao adapter, each checking TOP signatures with its
 * own implementation of the algorithm (not the adapter's):
 *
 * - FakeTopGateway: `POST /router/rest` (form-encoded) for taobao.trade.fullinfo.get and
 *   taobao.trades.sold.get, answering `<method>_response` or `error_response` (25 invalid
 *   signature, 27 invalid session, 7 call limit…) with 19-digit trade ids as bare JSON numbers.
 * - FakeBridge: the Qianniu bridge's reply callback; checks app_key/timestamp/sign over the query
 *   and the raw body, records what it accepted, fails on demand. `signedRequest` builds what the
 *   bridge POSTs to the hub.
 */
import { createHash, createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export function fakeTopSign(
  params: Record<string, string>,
  secret: string,
  method: string,
  body = '',
): string {
  const text =
    Object.keys(params)
      .filter((k) => k !== 'sign' && params[k] !== '')
      .sort()
      .map((k) => k + params[k])
      .join('') + body;
  if (method === 'md5')
    return createHash('md5')
      .update(secret + text + secret, 'utf8')
      .digest('hex')
      .toUpperCase();
  const algo = method === 'hmac' ? 'md5' : 'sha256';
  return createHmac(algo, secret).update(text, 'utf8').digest('hex').toUpperCase();
}

/** `yyyy-MM-dd HH:mm:ss` in GMT+8. */
export function gmt8(date: Date): string {
  return new Date(date.getTime() + 8 * 3_600_000).toISOString().slice(0, 19).replace('T', ' ');
}

abstract class FakeHttp {
  baseUrl = '';
  #server: Server | undefined;
  async start(): Promise<this> {
    this.#server = createServer((req, res) => {
      void readBody(req)
        .then((body) => this.handle(req, body, res))
        .catch((err: unknown) => res.writeHead(500).end(String(err)));
    });
    await new Promise<void>((r) => this.#server!.listen(0, '127.0.0.1', r));
    this.baseUrl = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this;
  }
  async close(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise<void>((r) => (this.#server ? this.#server.close(() => r()) : r()));
  }
  protected abstract handle(req: IncomingMessage, body: string, res: ServerResponse): unknown;
}

export interface FakeTrade {
  tid: string;
  buyer_nick: string;
  status: string;
  payment: string;
  title: string;
}

export class FakeTopGateway extends FakeHttp {
  readonly calls: Record<string, string>[] = [];
  failNextCode: { code: number; msg: string; sub_code?: string } | undefined;

  constructor(
    readonly appKey: string,
    readonly secret: string,
    readonly session: string,
    readonly trades: FakeTrade[],
  ) {
    super();
  }

  protected handle(req: IncomingMessage, body: string, res: ServerResponse): unknown {
    const p = Object.fromEntries(new URLSearchParams(body));
    this.calls.push(p);
    const fail = (code: number, msg: string, sub_code?: string) =>
      send(
        res,
        200,
        JSON.stringify({
          error_response: {
            code,
            msg,
            ...(sub_code ? { sub_code, sub_msg: msg } : {}),
            request_id: 'fake-req',
          },
        }),
      );
    if (req.url !== '/router/rest' || req.method !== 'POST') return send(res, 404, '{}');
    if (p.app_key !== this.appKey) return fail(29, 'Invalid app Key');
    if (!p.sign || fakeTopSign(p, this.secret, p.sign_method ?? 'md5') !== p.sign)
      return fail(25, 'Invalid signature');
    if (p.session !== this.session) return fail(27, 'Invalid session');
    if (this.failNextCode) {
      const f = this.failNextCode;
      this.failNextCode = undefined;
      return fail(f.code, f.msg, f.sub_code);
    }
    // Ids written as bare numbers, as TOP does: 19 digits do not survive a plain JSON.parse.
    const trade = (t: FakeTrade) =>
      `{"tid":${t.tid},"buyer_nick":${JSON.stringify(t.buyer_nick)},"status":"${t.status}","payment":"${t.payment}","orders":{"order":[{"title":${JSON.stringify(t.title)},"num":1}]}}`;
    if (p.method === 'taobao.trade.fullinfo.get') {
      const t = this.trades.find((x) => x.tid === p.tid);
      if (!t) return fail(15, 'Remote service error', 'isv.trade-not-exist');
      return send(res, 200, `{"trade_fullinfo_get_response":{"trade":${trade(t)},"request_id":"fake-req"}}`);
    }
    if (p.method === 'taobao.trades.sold.get') {
      const found = this.trades.filter((t) => t.buyer_nick === p.buyer_nick);
      return send(
        res,
        200,
        `{"trades_sold_get_response":{"total_results":${found.length},"trades":{"trade":[${found.map(trade).join(',')}]}}}`,
      );
    }
    fail(22, 'Invalid method');
  }
}

export class FakeBridge extends FakeHttp {
  readonly accepted: {
    query: Record<string, string>;
    body: Record<string, unknown>;
    idempotencyKey?: string;
  }[] = [];
  readonly rejected: string[] = [];
  #fail: number[] = [];

  constructor(
    readonly appKey: string,
    readonly secret: string,
    readonly signMethod = 'hmac-sha256',
  ) {
    super();
  }

  get callbackUrl(): string {
    return `${this.baseUrl}/qianniu/reply`;
  }

  failNext(...statuses: number[]): void {
    this.#fail.push(...statuses);
  }

  /** What the bridge POSTs to the hub: a signed query and the exact body. */
  signedRequest(
    body: unknown,
    opts: { secret?: string; now?: Date; appKey?: string; signMethod?: string } = {},
  ): { query: string; body: string } {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    const params: Record<string, string> = {
      app_key: opts.appKey ?? this.appKey,
      timestamp: gmt8(opts.now ?? new Date()),
      sign_method: opts.signMethod ?? this.signMethod,
    };
    params.sign = fakeTopSign(params, opts.secret ?? this.secret, params.sign_method!, text);
    return { query: new URLSearchParams(params).toString(), body: text };
  }

  protected handle(req: IncomingMessage, body: string, res: ServerResponse): unknown {
    const url = new URL(req.url ?? '/', 'http://fake');
    const query = Object.fromEntries(url.searchParams);
    if (url.pathname !== '/qianniu/reply') return send(res, 404, '{}');
    const failure = this.#fail.shift();
    if (failure) return send(res, failure, '{"success":false}');
    const ts = query.timestamp ?? '';
    if (query.app_key !== this.appKey || query.sign_method !== this.signMethod)
      return this.#reject(res, 'app_key or sign_method');
    if (Math.abs(Date.parse(`${ts.replace(' ', 'T')}+08:00`) - Date.now()) > 600_000)
      return this.#reject(res, 'timestamp');
    if (fakeTopSign(query, this.secret, this.signMethod, body) !== query.sign)
      return this.#reject(res, 'sign');
    this.accepted.push({
      query,
      body: JSON.parse(body),
      idempotencyKey: req.headers['idempotency-key'] as string | undefined,
    });
    send(res, 200, JSON.stringify({ success: true, msg_id: `qn-${this.accepted.length}` }));
  }

  #reject(res: ServerResponse, why: string): void {
    this.rejected.push(why);
    send(res, 401, JSON.stringify({ success: false, error: why }));
  }
}

function send(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(body);
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
