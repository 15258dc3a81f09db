/**
 * A local fake of the Telegram Bot API on 127.0.0.1, speaking the real wire protocol
 * (`POST /bot<token>/<method>`, JSON in, `{ok, result}` / `{ok:false, error_code, description,
 * parameters}` out). telegraf's client is pointed at it with `apiRoot`.
 *
 * getUpdates behaves like Telegram's: updates with an id below the requested `offset` are
 * forgotten for good, the rest are returned again until confirmed that way; an empty queue is held
 * open for `timeout` seconds; while a webhook is set it answers 409. Failures can be scripted per method.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type LocalServer, listenLocally } from './local-server.ts';

export interface BotApiCall {
  method: string;
  body: Record<string, any>;
  at: number;
}

export interface ScriptedFailure {
  status: number;
  body: Record<string, unknown>;
}

export class FakeBotApi {
  readonly calls: BotApiCall[] = [];
  /** Messages the bot "sent" (sendMessage/sendPhoto/sendDocument accepted). */
  readonly sent: BotApiCall[] = [];
  webhookUrl = '';
  webhookSecret: string | undefined;
  apiRoot = '';
  readonly #token: string;
  readonly #username: string;
  #local: LocalServer | undefined;
  #updates: Record<string, unknown>[] = [];
  #waiters: (() => void)[] = [];
  #failures = new Map<string, ScriptedFailure[]>();
  #messageSeq = 100;

  constructor(opts: { token: string; username?: string }) {
    this.#token = opts.token;
    this.#username = opts.username ?? 'switchboard_test_bot';
  }

  async start(): Promise<this> {
    this.#local = await listenLocally((req, res) => this.#handle(req, res));
    this.apiRoot = this.#local.origin;
    return this;
  }

  async close(): Promise<void> {
    for (const w of this.#waiters.splice(0)) w();
    await this.#local?.close();
  }

  /** Queue an update for getUpdates (wakes a held long poll). */
  pushUpdate(update: Record<string, unknown>): void {
    this.#updates.push(update);
    for (const w of this.#waiters.splice(0)) w();
  }

  /** Updates Telegram still holds (not yet confirmed by an offset). */
  pendingUpdates(): Record<string, unknown>[] {
    return [...this.#updates];
  }

  /** The next call(s) of `method` fail with this HTTP status and body, in order. */
  failNext(method: string, ...failures: ScriptedFailure[]): void {
    this.#failures.set(method, [...(this.#failures.get(method) ?? []), ...failures]);
  }

  static floodControl(retryAfter: number): ScriptedFailure {
    return {
      status: 429,
      body: {
        ok: false,
        error_code: 429,
        description: `Too Many Requests: retry after ${retryAfter}`,
        parameters: { retry_after: retryAfter },
      },
    };
  }

  static error(code: number, description: string): ScriptedFailure {
    return { status: code, body: { ok: false, error_code: code, description } };
  }

  callsOf(method: string): BotApiCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const m = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(req.url ?? '');
    const raw = await readBody(req);
    if (!m) return json(res, 404, { ok: false, error_code: 404, description: 'Not Found' });
    const [, token, method] = m as unknown as [string, string, string];
    const body = raw.length > 0 ? (JSON.parse(raw) as Record<string, any>) : {};
    const call = { method, body, at: Date.now() };
    this.calls.push(call);
    if (token !== this.#token)
      return json(res, 401, { ok: false, error_code: 401, description: 'Unauthorized' });
    const failure = this.#failures.get(method)?.shift();
    if (failure) return json(res, failure.status, failure.body);
    const ok = (result: unknown) => json(res, 200, { ok: true, result });
    switch (method) {
      case 'getMe':
        return ok({
          id: Number(this.#token.split(':')[0]),
          is_bot: true,
          first_name: 'Bot',
          username: this.#username,
        });
      case 'setWebhook':
        this.webhookUrl = String(body.url ?? '');
        this.webhookSecret = body.secret_token;
        return ok(true);
      case 'deleteWebhook':
        this.webhookUrl = '';
        if (body.drop_pending_updates) this.#updates = [];
        return ok(true);
      case 'sendChatAction':
        return ok(true);
      case 'sendMessage':
      case 'sendPhoto':
      case 'sendDocument':
        if (
          method === 'sendMessage' &&
          (typeof body.text !== 'string' || body.text.length === 0 || body.text.length > 4096)
        ) {
          return json(res, 400, {
            ok: false,
            error_code: 400,
            description: 'Bad Request: message text is empty or too long',
          });
        }
        this.sent.push(call);
        return ok({
          message_id: ++this.#messageSeq,
          date: Math.floor(Date.now() / 1000),
          chat: { id: body.chat_id, type: 'private' },
        });
      case 'getUpdates':
        if (this.webhookUrl) {
          return json(res, 409, {
            ok: false,
            error_code: 409,
            description:
              "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
          });
        }
        return ok(await this.#getUpdates(body, req));
      default:
        return json(res, 404, { ok: false, error_code: 404, description: 'Not Found: method not found' });
    }
  }

  async #getUpdates(body: Record<string, any>, req: IncomingMessage): Promise<unknown[]> {
    const offset = typeof body.offset === 'number' ? body.offset : 0;
    // An offset confirms every update below it: Telegram forgets them.
    this.#updates = this.#updates.filter((u) => (u.update_id as number) >= offset);
    if (this.#updates.length === 0 && body.timeout > 0) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, body.timeout * 1000);
        const wake = () => {
          clearTimeout(t);
          resolve();
        };
        this.#waiters.push(wake);
        req.once('close', wake);
      });
    }
    return this.#updates.slice(0, typeof body.limit === 'number' ? body.limit : 100);
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return;
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
