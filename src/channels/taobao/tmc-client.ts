/**
 * TMC (淘宝消息服务) client: one WebSocket per app and group, speaking the binary frames of
 * tmc-codec.ts.
 *
 *   standby ──lease──▶ connecting ──CONNECTACK(token)──▶ connected ──close / no pong──▶ backoff ─┐
 *      ▲                    │ refused / timeout                                                  │
 *      └──── lease lost ◀───┴────────────────────────────────────────────────────────────────────┘
 *
 * Connected, it asks for waiting messages at once (so a reconnect resumes the backlog) and every
 * `pullInterval`, pings every `heartbeat`, and hands pushes to `onMessage` one at a time, in
 * arrival order. A message is confirmed only when `onMessage` resolved true — after the hub
 * queued it; otherwise it is reported failed, and TMC pushes it again. One process per app and
 * group holds the connection (Redis lease).
 *
 * @see https://open.taobao.com/doc.htm?docId=101663&docType=1 (消息服务使用说明)
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import WebSocket from 'ws';
import { errorMessage } from '../../errors.ts';
import { Lease } from '../shared/redis-lock.ts';
import {
  confirmFrame,
  connectFrame,
  decodeFrame,
  encodeFrame,
  failedFrame,
  MessageType,
  pullRequestFrame,
  type TmcFrame,
} from './tmc-codec.ts';
import { pushOf, type TmcPush } from './tmc-push.ts';

export type { TmcPush } from './tmc-push.ts';

export type TmcState = 'idle' | 'standby' | 'connecting' | 'connected' | 'backoff' | 'stopped';

export interface TmcClientOptions {
  url: string;
  appKey: string;
  appSecret: string;
  groupName: string;
  /** `sdk` field of the handshake. */
  sdk: string;
  redis: Redis;
  leaseKey: string;
  leaseTtlMs: number;
  pullIntervalMs: number;
  heartbeatMs: number;
  handshakeTimeoutMs: number;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  logger: Logger;
  now?: () => number;
  /** Resolve true to confirm the message (it is safely queued), false to let TMC push it again. */
  onMessage(push: TmcPush): Promise<boolean>;
}

/** A connection that lived this long was healthy: the next failure starts the backoff over. */
const HEALTHY_AFTER_MS = 10_000;

export class TmcClient {
  readonly #o: TmcClientOptions;
  #state: TmcState = 'idle';
  #stopping = false;
  #loop: Promise<void> | undefined;
  #lease: Lease | undefined;
  #socket: WebSocket | undefined;
  #wake: () => void = () => {};
  #lastError: string | undefined;
  /** Handshakes that succeeded; messages confirmed and handed back as failed (tests, metrics). */
  connections = 0;
  confirmed = 0;
  failed = 0;

  constructor(opts: TmcClientOptions) {
    this.#o = opts;
  }

  get state(): TmcState {
    return this.#state;
  }

  start(): void {
    if (this.#loop) return;
    this.#stopping = false;
    this.#loop = this.#run().catch((err: unknown) => {
      this.#o.logger.error({ err }, 'tmc client loop crashed');
      this.#state = 'stopped';
    });
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    this.#wake();
    this.#socket?.close(1000, 'stopping');
    await this.#loop;
    this.#loop = undefined;
    await this.#lease?.release();
    this.#lease = undefined;
    this.#state = 'stopped';
  }

  /** Standby is healthy: another process holds the connection for this app and group. */
  health(): { ok: boolean; detail: string } {
    const ok = this.#state === 'connected' || this.#state === 'standby';
    return { ok, detail: !ok && this.#lastError ? `${this.#state}: ${this.#lastError}` : this.#state };
  }

  async #run(): Promise<void> {
    let failures = 0;
    while (!this.#stopping) {
      if (!this.#lease?.held) {
        this.#lease =
          (await Lease.tryAcquire({
            redis: this.#o.redis,
            key: this.#o.leaseKey,
            ttlMs: this.#o.leaseTtlMs,
            onLost: (reason) => {
              this.#o.logger.warn({ reason }, 'tmc lease lost; disconnecting');
              this.#socket?.terminate();
              this.#wake();
            },
          }).catch(() => null)) ?? undefined;
        if (!this.#lease) {
          this.#state = 'standby';
          await this.#sleep(Math.max(100, Math.floor(this.#o.leaseTtlMs / 3)));
          continue;
        }
      }
      this.#state = 'connecting';
      const openedAt = Date.now();
      try {
        await this.#session();
      } catch (err) {
        this.#lastError = errorMessage(err);
        this.#o.logger.warn({ err: this.#lastError }, 'tmc connection failed');
      }
      if (this.#stopping) break;
      failures = Date.now() - openedAt > HEALTHY_AFTER_MS ? 1 : failures + 1;
      this.#state = 'backoff';
      const exp = Math.min(this.#o.reconnectMaxMs, this.#o.reconnectMinMs * 2 ** (failures - 1));
      await this.#sleep(exp / 2 + Math.random() * (exp / 2));
    }
  }

  /** One connection, from open to close. Resolves when it closed; rejects when the handshake failed. */
  async #session(): Promise<void> {
    const ws = new WebSocket(this.#o.url, { handshakeTimeout: this.#o.handshakeTimeoutMs });
    this.#socket = ws;
    const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
    ws.on('error', (err) => {
      this.#lastError = err.message;
    });
    const timers: NodeJS.Timeout[] = [];
    try {
      let chain = Promise.resolve();
      // Wired by the handshake in the same tick as the CONNECTACK: a push arriving right behind it
      // (same TCP read) must not slip through before a listener exists.
      const token = await this.#handshake(ws, (tok) => (data: Buffer, isBinary: boolean) => {
        if (!isBinary) return;
        chain = chain.then(() => this.#onFrame(ws, tok, data));
      });
      this.connections++;
      this.#lastError = undefined;
      this.#state = 'connected';
      this.#o.logger.info({ group: this.#o.groupName, connections: this.connections }, 'tmc connected');
      const pull = () => this.#sendFrame(ws, pullRequestFrame(token));
      pull(); // resume: whatever waited while we were away is pushed now
      timers.push(setInterval(pull, this.#o.pullIntervalMs));
      let alive = true;
      ws.on('pong', () => (alive = true));
      timers.push(
        setInterval(() => {
          if (!alive) return ws.terminate(); // no pong since the last ping: the link is dead
          alive = false;
          ws.ping();
        }, this.#o.heartbeatMs),
      );
      await Promise.race([closed, new Promise<void>((r) => (this.#wake = r))]);
    } finally {
      for (const t of timers) clearInterval(t);
      if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.terminate();
      this.#socket = undefined;
    }
  }

  #handshake(
    ws: WebSocket,
    dataHandler: (token: string) => (data: Buffer, isBinary: boolean) => void,
  ): Promise<string> {
    return new Promise((resolve, reject) => {
      const fail = (why: string) => {
        clearTimeout(timer);
        ws.off('message', onMessage);
        reject(new Error(why));
      };
      const timer = setTimeout(() => fail('handshake timed out'), this.#o.handshakeTimeoutMs);
      ws.once('close', (code) => fail(`closed during handshake (${code})`));
      ws.once('open', () => {
        const timestamp = (this.#o.now ?? Date.now)();
        const { appKey, appSecret: secret, groupName, sdk } = this.#o;
        this.#sendFrame(ws, connectFrame({ appKey, groupName, secret, timestamp, sdk }));
      });
      const onMessage = (data: Buffer) => {
        let frame: TmcFrame;
        try {
          frame = decodeFrame(data);
        } catch (err) {
          return fail(`unreadable handshake answer: ${errorMessage(err)}`);
        }
        if (frame.messageType !== MessageType.CONNECTACK) return;
        clearTimeout(timer);
        ws.off('message', onMessage);
        if (!frame.token || (frame.statusCode ?? 0) >= 400) {
          return reject(
            new Error(
              `handshake refused: ${frame.statusCode ?? ''} ${frame.statusPhrase ?? 'no token'}`.trim(),
            ),
          );
        }
        ws.on('message', dataHandler(frame.token));
        resolve(frame.token);
      };
      ws.on('message', onMessage);
    });
  }

  async #onFrame(ws: WebSocket, token: string, data: Buffer): Promise<void> {
    let frame: TmcFrame;
    try {
      frame = decodeFrame(data);
    } catch (err) {
      this.#o.logger.warn({ err: errorMessage(err), bytes: data.length }, 'tmc: unreadable frame ignored');
      return;
    }
    if (frame.messageType !== MessageType.SEND) {
      if ((frame.statusCode ?? 0) >= 400)
        this.#o.logger.warn(
          { status: frame.statusCode, phrase: frame.statusPhrase },
          'tmc: server reported an error',
        );
      return;
    }
    const push = pushOf(frame.content);
    if (!push) return;
    let ok = false;
    try {
      ok = await this.#o.onMessage(push);
    } catch (err) {
      this.#o.logger.error(
        { err: errorMessage(err), id: push.id, topic: push.topic },
        'tmc: message handler failed',
      );
    }
    if (ws.readyState !== WebSocket.OPEN) return; // unconfirmed: TMC pushes it again after the reconnect
    if (!ok) {
      // Not queued (Redis down, …): have TMC push it again later rather than lose it.
      this.#sendFrame(ws, failedFrame(token, push.rawId, 'not queued; retry later'));
      this.failed++;
      return;
    }
    this.#sendFrame(ws, confirmFrame(token, push.rawId));
    this.confirmed++;
  }

  #sendFrame(ws: WebSocket, frame: TmcFrame): void {
    if (ws.readyState === WebSocket.OPEN) ws.send(encodeFrame(frame), { binary: true });
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.#wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }
}
