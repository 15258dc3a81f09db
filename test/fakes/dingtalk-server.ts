/**
 * A local fake of DingTalk on 127.0.0.1 speaking the real wire protocol:
 * - Stream gateway: `POST /v1.0/gateway/connections/open` (single-use tickets, 90 s) and the
 *   WebSocket `GET /connect?ticket=` with downstream frames and upstream ACKs as documented;
 *   like the platform, un-acknowledged callbacks are pushed again on the next connection;
 * - OpenAPI: `POST /v1.0/oauth2/accessToken`, `/v1.0/robot/oToMessages/batchSend`,
 *   `/v1.0/robot/groupMessages/send` (checks `x-acs-dingtalk-access-token`);
 * - session webhooks: `POST /robot/sendBySession?session=…` (expirable).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';

export interface Frame {
  code?: number;
  type?: string;
  headers: Record<string, string>;
  message?: string;
  data: string;
}

export interface FakeConnection {
  id: string;
  ws: WebSocket;
  /** Frames the client sent (ACKs, ping replies). */
  received: Frame[];
  open: boolean;
}

export interface RecordedCall {
  path: string;
  query: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

export class FakeDingTalk extends EventEmitter {
  readonly calls: RecordedCall[] = [];
  readonly connections: FakeConnection[] = [];
  /** Callback frames not acknowledged yet, by messageId. */
  readonly pending = new Map<string, Frame>();
  /** messageIds acknowledged with code 200, in order. */
  readonly acked: string[] = [];
  /** Session ids that answer "expired". */
  readonly expiredSessions = new Set<string>();
  /** Answer the next N open-connection calls with HTTP 503. */
  failOpens = 0;
  /** Reject the next API call's token with 401 once (token revoked mid-stream). */
  revokeTokenOnce = false;
  baseUrl = '';
  #server: Server | undefined;
  #wss: WebSocketServer | undefined;
  #tickets = new Map<string, { clientId: string; expiresAt: number }>();
  #tokens = new Set<string>();
  tokenFetches = 0;

  constructor(readonly app: { clientId: string; clientSecret: string }) {
    super();
  }

  async start(): Promise<this> {
    this.#wss = new WebSocketServer({ noServer: true });
    this.#server = createServer((req, res) => {
      void this.#http(req, res).catch((err: unknown) => res.writeHead(500).end(String(err)));
    });
    this.#server.on('upgrade', (req, socket, head) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const ticket = url.searchParams.get('ticket') ?? '';
      const t = this.#tickets.get(ticket);
      this.#tickets.delete(ticket); // single use
      if (url.pathname !== '/connect' || !t || t.expiresAt < Date.now()) {
        socket.end('HTTP/1.1 401 Unauthorized\r\n\r\n');
        return;
      }
      this.#wss!.handleUpgrade(req, socket, head, (ws) => this.#onConnection(ws));
    });
    await new Promise<void>((r) => this.#server!.listen(0, '127.0.0.1', r));
    this.baseUrl = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    for (const c of this.connections) c.ws.terminate();
    this.#wss?.close();
    this.#server?.closeAllConnections();
    await new Promise<void>((r) => (this.#server ? this.#server.close(() => r()) : r()));
  }

  get gatewayUrl(): string {
    return `${this.baseUrl}/v1.0/gateway/connections/open`;
  }

  openConnections(): FakeConnection[] {
    return this.connections.filter((c) => c.open);
  }

  /** Push a robot message to the newest open connection; returns the frame's messageId. */
  pushRobotMessage(data: Record<string, unknown>): string {
    const messageId = `mid-${randomUUID()}`;
    const frame: Frame = {
      type: 'CALLBACK',
      headers: {
        appId: 'app',
        connectionId: '',
        contentType: 'application/json',
        messageId,
        time: String(Date.now()),
        topic: '/v1.0/im/bot/messages/get',
      },
      data: JSON.stringify(data),
    };
    this.pending.set(messageId, frame);
    this.#sendToNewest(frame);
    return messageId;
  }

  ping(messageId = `ping-${randomUUID()}`): string {
    this.#sendToNewest({
      type: 'SYSTEM',
      headers: { topic: 'ping', messageId, contentType: 'application/json', time: String(Date.now()) },
      data: JSON.stringify({ opaque: messageId }),
    } as Frame & { specVersion?: string });
    return messageId;
  }

  /** The server-side "disconnect" announcement (the platform closes ~10 s later). */
  announceDisconnect(): void {
    this.#sendToNewest({
      type: 'SYSTEM',
      headers: { topic: 'disconnect', contentType: 'application/json' },
      data: '{"reason":"rebalance"}',
    });
  }

  /** Drop every open socket without a close handshake (network failure). */
  dropAll(): void {
    for (const c of this.openConnections()) c.ws.terminate();
  }

  /** Resolve when `n` connections have been opened in total. */
  async waitForConnections(n: number, timeoutMs = 5000): Promise<void> {
    await waitFor(() => this.connections.length >= n, timeoutMs, `${n} connection(s)`);
  }

  #sendToNewest(frame: Frame & { specVersion?: string }): void {
    const c = this.openConnections().at(-1);
    if (!c) throw new Error('fake dingtalk: no open stream connection');
    const out = { specVersion: '1.0', ...frame, headers: { ...frame.headers, connectionId: c.id } };
    c.ws.send(JSON.stringify(out));
  }

  #onConnection(ws: WebSocket): void {
    const conn: FakeConnection = { id: `conn-${this.connections.length + 1}`, ws, received: [], open: true };
    this.connections.push(conn);
    ws.on('message', (raw) => {
      const frame = JSON.parse(String(raw)) as Frame;
      conn.received.push(frame);
      const id = frame.headers?.messageId;
      if (frame.code === 200 && id && this.pending.has(id)) {
        this.pending.delete(id);
        this.acked.push(id);
        this.emit('ack', id);
      }
    });
    ws.on('close', () => {
      conn.open = false;
      this.emit('closed', conn);
    });
    // Like the platform: what was pushed and never acknowledged comes again on the new connection.
    for (const frame of this.pending.values())
      ws.send(
        JSON.stringify({
          specVersion: '1.0',
          ...frame,
          headers: { ...frame.headers, connectionId: conn.id },
        }),
      );
    this.emit('connection', conn);
  }

  async #http(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    this.calls.push({
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      body,
    });

    if (url.pathname === '/v1.0/gateway/connections/open') {
      if (this.failOpens > 0) {
        this.failOpens--;
        return json(res, 503, { code: 'ServiceUnavailable', message: 'try later' });
      }
      if (body.clientId !== this.app.clientId || body.clientSecret !== this.app.clientSecret) {
        return json(res, 401, { code: 'InvalidAuthentication', message: 'bad client' });
      }
      const ticket = randomUUID();
      this.#tickets.set(ticket, { clientId: this.app.clientId, expiresAt: Date.now() + 90_000 });
      return json(res, 200, { endpoint: `${this.baseUrl.replace('http', 'ws')}/connect`, ticket });
    }
    if (url.pathname === '/v1.0/oauth2/accessToken') {
      this.tokenFetches++;
      if (body.appKey !== this.app.clientId || body.appSecret !== this.app.clientSecret) {
        return json(res, 400, { code: 'invalidClientIdOrSecret', message: 'bad app' });
      }
      const token = `dt_${randomBytes(8).toString('hex')}`;
      this.#tokens.add(token);
      return json(res, 200, { accessToken: token, expireIn: 7200 });
    }
    if (url.pathname === '/robot/sendBySession') {
      const session = url.searchParams.get('session') ?? '';
      if (this.expiredSessions.has(session))
        return json(res, 200, { errcode: 300001, errmsg: 'session expired' });
      return json(res, 200, { errcode: 0, errmsg: 'ok' });
    }
    if (url.pathname.startsWith('/v1.0/robot/')) {
      const token = String(req.headers['x-acs-dingtalk-access-token'] ?? '');
      if (!this.#tokens.has(token) || this.revokeTokenOnce) {
        if (this.revokeTokenOnce) {
          this.revokeTokenOnce = false;
          this.#tokens.delete(token);
        }
        return json(res, 401, { code: 'InvalidAuthentication', message: '不合法的access_token' });
      }
      if (url.pathname === '/v1.0/robot/oToMessages/batchSend') {
        return json(res, 200, {
          processQueryKey: `pq-${randomUUID()}`,
          invalidStaffIdList: [],
          flowControlledStaffIdList: [],
        });
      }
      if (url.pathname === '/v1.0/robot/groupMessages/send')
        return json(res, 200, { processQueryKey: `pq-${randomUUID()}` });
    }
    json(res, 404, { code: 'NotFound', message: url.pathname });
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

export async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A robot message body as DingTalk sends it (fields per the Stream / receive-message docs). */
export function robotMessage(
  over: Record<string, unknown> = {},
  fakeBase = 'http://127.0.0.1:1',
): Record<string, unknown> {
  return {
    conversationId: 'cidSingle001',
    chatbotCorpId: 'dingcorp',
    chatbotUserId: '$:LWCP_v1:$bot',
    msgId: `msg${randomBytes(8).toString('hex')}`,
    senderNick: '张三',
    isAdmin: false,
    senderStaffId: 'staff001',
    sessionWebhookExpiredTime: Date.now() + 90 * 60_000,
    createAt: Date.now(),
    senderCorpId: 'dingcorp',
    conversationType: '1',
    senderId: '$:LWCP_v1:$sender',
    sessionWebhook: `${fakeBase}/robot/sendBySession?session=s-${randomBytes(4).toString('hex')}`,
    robotCode: 'dingrobot',
    msgtype: 'text',
    text: { content: ' 你好 ' },
    ...over,
  };
}
