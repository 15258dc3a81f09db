/**
 * A small TOP API client: signed `POST /router/rest` calls (form-encoded, `format=json`), with the
 * platform's `error_response` turned into a TopApiError. Exported for the order lookup source
 * (`orders` step): trade by id, recent trades of one buyer.
 *
 * The caller passes the seller's `session` (the OAuth token of the shop that authorized the app).
 *
 * @see https://open.taobao.com/doc.htm?docId=101617&docType=1 (API 调用方法详解)
 */
import { errorMessage } from '../../errors.ts';
import { type TopSignMethod, topSign, topTimestamp } from './top-sign.ts';

export interface TopClientOptions {
  appKey: string;
  appSecret: string;
  /** Default `https://eco.taobao.com/router/rest`; tests point it at a local fake. */
  gateway?: string;
  signMethod?: TopSignMethod;
  timeoutMs?: number;
  now?: () => Date;
}

export interface TopCallOptions {
  session?: string;
  signal?: AbortSignal;
}

/** A TOP error answer (`error_response`), or a transport failure (`code` -1, retryable). */
export class TopApiError extends Error {
  override readonly name = 'TopApiError';
  constructor(
    message: string,
    readonly code: number,
    readonly subCode: string | undefined,
    readonly retryable: boolean,
    readonly requestId?: string,
  ) {
    super(message);
  }
}

/** Codes TOP documents as transient (服务不可用, 调用频率超限, …); everything else is the request's fault. */
const RETRYABLE_CODES = new Set([7, 520, 530, 1, 2]);

export class TopClient {
  readonly #o: Required<Omit<TopClientOptions, 'now'>> & { now: () => Date };

  constructor(opts: TopClientOptions) {
    this.#o = {
      appKey: opts.appKey,
      appSecret: opts.appSecret,
      gateway: opts.gateway ?? 'https://eco.taobao.com/router/rest',
      signMethod: opts.signMethod ?? 'hmac-sha256',
      timeoutMs: opts.timeoutMs ?? 10_000,
      now: opts.now ?? (() => new Date()),
    };
  }

  /** Call `method` with its business parameters; resolves with the `<method>_response` object. */
  async call<T = Record<string, unknown>>(
    method: string,
    params: Record<string, string | number | undefined>,
    opts: TopCallOptions = {},
  ): Promise<T> {
    const all: Record<string, string> = {
      method,
      app_key: this.#o.appKey,
      timestamp: topTimestamp(this.#o.now()),
      format: 'json',
      v: '2.0',
      sign_method: this.#o.signMethod,
      ...(opts.session ? { session: opts.session } : {}),
    };
    for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') all[k] = String(v);
    all.sign = topSign(all, this.#o.appSecret, this.#o.signMethod);

    let status: number;
    let json: unknown;
    try {
      const signals = [AbortSignal.timeout(this.#o.timeoutMs), ...(opts.signal ? [opts.signal] : [])];
      const res = await fetch(this.#o.gateway, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded;charset=utf-8',
          accept: 'application/json',
        },
        body: new URLSearchParams(all).toString(),
        signal: AbortSignal.any(signals),
      });
      status = res.status;
      json = parseTopJson(await res.text());
    } catch (err) {
      throw new TopApiError(`TOP ${method}: ${errorMessage(err)}`, -1, undefined, true);
    }
    const body = (json ?? {}) as Record<string, unknown>;
    const error = body.error_response as
      | { code?: number; msg?: string; sub_code?: string; sub_msg?: string; request_id?: string }
      | undefined;
    if (error) {
      const code = Number(error.code ?? -1);
      const subRetryable =
        /^isp\./.test(error.sub_code ?? '') || /service-unavailable|timeout/i.test(error.sub_code ?? '');
      throw new TopApiError(
        `TOP ${method}: ${code} ${error.msg ?? ''}${error.sub_code ? ` (${error.sub_code}: ${error.sub_msg ?? ''})` : ''}`,
        code,
        error.sub_code,
        RETRYABLE_CODES.has(code) || subRetryable,
        error.request_id,
      );
    }
    const key = `${method.replace(/^taobao\./, '').replaceAll('.', '_')}_response`;
    const result = body[key];
    if (status !== 200 || result === undefined) {
      throw new TopApiError(
        `TOP ${method}: HTTP ${status}, no ${key} in the answer`,
        -1,
        undefined,
        status >= 500,
      );
    }
    return result as T;
  }

  /**
   * One trade with its orders. `fields` per the API doc; the default covers what a CS answer needs.
   * @see https://open.taobao.com/api.htm?docId=54&docType=2 (taobao.trade.fullinfo.get)
   */
  async getTrade(
    tid: string,
    session: string,
    fields = DEFAULT_TRADE_FIELDS,
    signal?: AbortSignal,
  ): Promise<TopTrade | undefined> {
    const res = await this.call<{ trade?: TopTrade }>(
      'taobao.trade.fullinfo.get',
      { tid, fields },
      { session, signal },
    );
    return res.trade;
  }

  /**
   * Recent trades of one buyer in the seller's shop (newest first).
   * @see https://open.taobao.com/api.htm?docId=46&docType=2 (taobao.trades.sold.get)
   */
  async listTradesByBuyer(
    buyerNick: string,
    session: string,
    opts: { pageSize?: number; status?: string; fields?: string; signal?: AbortSignal } = {},
  ): Promise<{ total: number; trades: TopTrade[] }> {
    const res = await this.call<{ total_results?: number; trades?: { trade?: TopTrade[] } }>(
      'taobao.trades.sold.get',
      {
        buyer_nick: buyerNick,
        fields: opts.fields ?? DEFAULT_TRADE_FIELDS,
        page_no: 1,
        page_size: opts.pageSize ?? 5,
        status: opts.status,
      },
      { session, signal: opts.signal },
    );
    return { total: res.total_results ?? 0, trades: res.trades?.trade ?? [] };
  }
}

export const DEFAULT_TRADE_FIELDS =
  'tid,status,payment,created,pay_time,consign_time,buyer_nick,receiver_city,orders.title,orders.num,orders.status,orders.refund_status';

/**
 * JSON.parse that keeps integers of 16+ digits as strings. Trade, order and refund ids are 18–19
 * digits now, beyond 2^53: a plain parse would silently change them. Only `"key": 123…` values are
 * touched (never text inside strings); returns undefined for invalid JSON.
 */
export function parseTopJson(text: string): unknown {
  try {
    return JSON.parse(text.replace(/("[^"\\]+"\s*:\s*)(-?\d{16,})(?=\s*[,}\]])/g, '$1"$2"'));
  } catch {
    return undefined;
  }
}

/** The trade fields this hub reads; TOP returns more, kept as-is. `tid` may exceed 2^53: read it as a string. */
export interface TopTrade {
  tid?: number | string;
  status?: string;
  payment?: string;
  created?: string;
  buyer_nick?: string;
  orders?: { order?: { title?: string; num?: number; status?: string; refund_status?: string }[] };
  [k: string]: unknown;
}
