/**
 * A local fake of the WeCom server API on 127.0.0.1, speaking the real wire protocol:
 * gettoken, message/send, kf/sync_msg, kf/send_msg, media/upload (multipart, parsed for real).
 * It issues and checks access tokens (errcodes
 * 41001/40014/42001 like the platform), records every request, and has knobs for the failure
 * modes the adapter must survive (token expiry mid-stream, paging, transient errors).
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type LocalServer, listenLocally } from './local-server.ts';
import { parseMultipart } from './multipart.ts';

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
  at: number;
}

/** One accepted media/upload: what the client really put in the multipart body. */
export interface FakeUpload {
  type: string;
  filename: string;
  contentType: string;
  bytes: Buffer;
  length: number;
  /** The secret whose token made the call (app or kf). */
  secret: string;
  mediaId: string;
}

const MB = 1024 * 1024;
/** The platform's documented upload limits; every file must have at least 5 bytes. */
const UPLOAD_LIMITS: Record<string, number> = {
  image: 10 * MB,
  voice: 2 * MB,
  video: 10 * MB,
  file: 20 * MB,
};

export interface FakeKfMessage {
  msgid: string;
  open_kfid: string;
  external_userid?: string;
  send_time: number;
  origin: number;
  msgtype: string;
  [k: string]: unknown;
}

export interface FakeWeComOptions {
  corpId: string;
  /** Secrets gettoken accepts (app secret, kf secret). */
  secrets: string[];
  tokenTtlSec?: number;
  /** Delay of gettoken answers, to widen the race window of concurrent fetches. */
  gettokenDelayMs?: number;
  /** Largest sync_msg page the fake returns, whatever `limit` asks for. */
  maxSyncPage?: number;
}

export class FakeWeComApi {
  readonly requests: RecordedRequest[] = [];
  /** Bodies of message/send and kf/send_msg calls that were accepted (what users actually got). */
  readonly delivered: { path: string; body: Record<string, unknown> }[] = [];
  /** kf messages per open_kfid, in platform order. */
  readonly kfLog = new Map<string, FakeKfMessage[]>();
  /** Callback tokens sync_msg refuses (expired after their 10 minutes). */
  readonly staleKfTokens = new Set<string>();
  /** Accepted media/upload calls, in order. */
  readonly uploads: FakeUpload[] = [];
  /** Users message/send reports in `invaliduser`. */
  readonly invalidUsers = new Set<string>();
  gettokenCalls = 0;
  #local: LocalServer | undefined;
  #tokens = new Map<string, { secret: string; expiresAt: number; revoked: boolean }>();
  #expireNext = 0;
  #failSync: number[] = [];
  #failSend: number[] = [];
  #syncCalls = 0;
  #msgSeq = 0;
  readonly #o: Required<FakeWeComOptions>;
  baseUrl = '';

  constructor(opts: FakeWeComOptions) {
    this.#o = { tokenTtlSec: 7200, gettokenDelayMs: 0, maxSyncPage: 1000, ...opts };
  }

  async start(): Promise<this> {
    this.#local = await listenLocally((req, res) => this.#handle(req, res));
    this.baseUrl = this.#local.origin;
    return this;
  }

  async close(): Promise<void> {
    await this.#local?.close();
  }

  /** The next `n` API calls with an otherwise valid token get 42001 and the token is revoked. */
  expireTokenOnNextCall(n = 1): void {
    this.#expireNext += n;
  }

  /** Make the given (1-based, counted from now) sync_msg calls fail with errcode -1. */
  failSyncCalls(...nth: number[]): void {
    this.#failSync.push(...nth.map((n) => this.#syncCalls + n));
  }

  /** The next message/send or kf/send_msg call answers with this errcode instead of sending. */
  failNextSend(errcode: number): void {
    this.#failSend.push(errcode);
  }

  calls(path: string): RecordedRequest[] {
    return this.requests.filter((r) => r.path === path);
  }

  /** Append customer text messages for one open_kfid; returns their msgids. */
  addKfTexts(openKfId: string, externalUserId: string, texts: string[]): string[] {
    const log = this.kfLog.get(openKfId) ?? [];
    this.kfLog.set(openKfId, log);
    return texts.map((content) => {
      const msgid = `kfmsg_${++this.#msgSeq}_${randomBytes(3).toString('hex')}`;
      log.push({
        msgid,
        open_kfid: openKfId,
        external_userid: externalUserId,
        send_time: Math.floor(Date.now() / 1000),
        origin: 3,
        msgtype: 'text',
        text: { content },
      });
      return msgid;
    });
  }

  addKfRaw(openKfId: string, m: FakeKfMessage): void {
    const log = this.kfLog.get(openKfId) ?? [];
    this.kfLog.set(openKfId, log);
    log.push(m);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const query = Object.fromEntries(url.searchParams);
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    if (url.pathname === '/cgi-bin/media/upload') {
      this.requests.push({
        method: req.method ?? '',
        path: url.pathname,
        query,
        body: undefined,
        at: Date.now(),
      });
      const tokenError = this.#checkToken(query.access_token);
      if (tokenError) return send(res, tokenError);
      return send(res, this.#upload(query, req.headers['content-type'] ?? '', raw));
    }
    const text = raw.toString('utf8');
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      return send(res, { errcode: 47001, errmsg: 'data format error' });
    }
    this.requests.push({ method: req.method ?? '', path: url.pathname, query, body, at: Date.now() });

    if (url.pathname === '/cgi-bin/gettoken') return this.#gettoken(query, res);
    const tokenError = this.#checkToken(query.access_token);
    if (tokenError) return send(res, tokenError);
    const b = (body ?? {}) as Record<string, unknown>;
    if (
      (url.pathname === '/cgi-bin/message/send' || url.pathname === '/cgi-bin/kf/send_msg') &&
      this.#failSend.length > 0
    ) {
      return send(res, { errcode: this.#failSend.shift(), errmsg: 'injected failure' });
    }
    switch (url.pathname) {
      case '/cgi-bin/message/send': {
        const out = this.#messageSend(b);
        if (out.errcode === 0) this.delivered.push({ path: url.pathname, body: b });
        return send(res, out);
      }
      case '/cgi-bin/kf/send_msg':
        if (typeof b.touser !== 'string' || typeof b.open_kfid !== 'string')
          return send(res, { errcode: 40003, errmsg: 'invalid touser' });
        this.delivered.push({ path: url.pathname, body: b });
        return send(res, { errcode: 0, errmsg: 'ok', msgid: `kfsend_${++this.#msgSeq}` });
      case '/cgi-bin/kf/sync_msg':
        return send(res, this.#syncMsg(b));
      default:
        res
          .writeHead(404, { 'content-type': 'application/json' })
          .end(JSON.stringify({ errcode: 404, errmsg: 'not found' }));
    }
  }

  async #gettoken(q: Record<string, string>, res: ServerResponse): Promise<void> {
    this.gettokenCalls++;
    if (this.#o.gettokenDelayMs > 0) await new Promise((r) => setTimeout(r, this.#o.gettokenDelayMs));
    if (q.corpid !== this.#o.corpId) return send(res, { errcode: 40013, errmsg: 'invalid corpid' });
    if (!q.corpsecret || !this.#o.secrets.includes(q.corpsecret))
      return send(res, { errcode: 40001, errmsg: 'invalid credential' });
    const token = `tok_${this.gettokenCalls}_${randomBytes(8).toString('hex')}`;
    this.#tokens.set(token, {
      secret: q.corpsecret,
      expiresAt: Date.now() + this.#o.tokenTtlSec * 1000,
      revoked: false,
    });
    send(res, { errcode: 0, errmsg: 'ok', access_token: token, expires_in: this.#o.tokenTtlSec });
  }

  #checkToken(token: string | undefined): { errcode: number; errmsg: string } | undefined {
    if (!token) return { errcode: 41001, errmsg: 'access_token missing' };
    const t = this.#tokens.get(token);
    if (!t) return { errcode: 40014, errmsg: 'invalid access_token' };
    if (t.revoked || t.expiresAt <= Date.now()) return { errcode: 42001, errmsg: 'access_token expired' };
    if (this.#expireNext > 0) {
      this.#expireNext--;
      t.revoked = true;
      return { errcode: 42001, errmsg: 'access_token expired' };
    }
    return undefined;
  }

  #messageSend(b: Record<string, unknown>): Record<string, unknown> {
    if (typeof b.touser !== 'string' || typeof b.agentid !== 'number')
      return { errcode: 40003, errmsg: 'invalid touser/agentid' };
    const content =
      (b.text as { content?: unknown } | undefined)?.content ??
      (b.markdown as { content?: unknown } | undefined)?.content;
    if ((b.msgtype === 'text' || b.msgtype === 'markdown') && typeof content !== 'string')
      return { errcode: 44004, errmsg: 'empty content' };
    if (typeof content === 'string' && Buffer.byteLength(content) > 2048)
      return { errcode: 45002, errmsg: 'content size out of limit' };
    const invalid = b.touser.split('|').filter((u) => this.invalidUsers.has(u));
    return { errcode: 0, errmsg: 'ok', invaliduser: invalid.join('|'), msgid: `msg_${++this.#msgSeq}` };
  }

  /** @see https://developer.work.weixin.qq.com/document/path/90253 (the wire format the fake checks) */
  #upload(q: Record<string, string>, contentType: string, raw: Buffer): Record<string, unknown> {
    const limit = UPLOAD_LIMITS[q.type ?? ''];
    if (limit === undefined) return { errcode: 40004, errmsg: 'invalid media type' };
    if (!/^multipart\/form-data\b/i.test(contentType))
      return { errcode: 41005, errmsg: 'media data missing' };
    const parts = parseMultipart(raw, contentType);
    if (!parts) return { errcode: 47001, errmsg: 'data format error' };
    const media = parts.find((p) => p.name === 'media' && p.filename !== undefined);
    if (!media?.filename) return { errcode: 41005, errmsg: 'media data missing' };
    if (media.data.length < 5 || media.data.length > limit)
      return { errcode: 40006, errmsg: 'invalid file size' };
    const mediaId = `media_${q.type}_${++this.#msgSeq}_${randomBytes(4).toString('hex')}`;
    this.uploads.push({
      type: q.type ?? '',
      filename: media.filename,
      contentType: media.contentType ?? '',
      bytes: media.data,
      length: media.data.length,
      secret: this.#tokens.get(q.access_token ?? '')?.secret ?? '',
      mediaId,
    });
    return {
      errcode: 0,
      errmsg: '',
      type: q.type,
      media_id: mediaId,
      created_at: String(Math.floor(Date.now() / 1000)),
    };
  }

  #syncMsg(b: Record<string, unknown>): Record<string, unknown> {
    this.#syncCalls++;
    if (this.#failSync.includes(this.#syncCalls)) return { errcode: -1, errmsg: 'system busy' };
    if (typeof b.token === 'string' && this.staleKfTokens.has(b.token))
      return { errcode: 95007, errmsg: 'invalid msg token' };
    const openKfId = typeof b.open_kfid === 'string' ? b.open_kfid : '';
    const log = this.kfLog.get(openKfId) ?? [];
    let offset = 0;
    if (typeof b.cursor === 'string' && b.cursor) {
      const decoded = decodeCursor(b.cursor, openKfId);
      if (decoded === undefined) return { errcode: 95000, errmsg: 'invalid cursor' };
      offset = decoded;
    }
    const limit = Math.min(typeof b.limit === 'number' ? b.limit : 1000, 1000, this.#o.maxSyncPage);
    const page = log.slice(offset, offset + limit);
    const next = offset + page.length;
    return {
      errcode: 0,
      errmsg: 'ok',
      next_cursor: encodeCursor(next, openKfId),
      has_more: next < log.length ? 1 : 0,
      msg_list: page,
    };
  }
}

/** Opaque to the client, like the platform's: base64url of the offset bound to the account. */
function encodeCursor(offset: number, openKfId: string): string {
  return Buffer.from(JSON.stringify({ o: offset, k: openKfId })).toString('base64url');
}

function decodeCursor(cursor: string, openKfId: string): number | undefined {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { o?: unknown; k?: unknown };
    return typeof v.o === 'number' && v.k === openKfId ? v.o : undefined;
  } catch {
    return undefined;
  }
}

function send(res: ServerResponse, body: unknown): void {
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
}
