/**
 * DingTalk Stream mode: hold one WebSocket per app, through the real `dingtalk-stream` SDK.
 *
 * The SDK's own connection handling is not enough for a hub: `connect()` never rejects, it retries
 * every second forever, and a `disconnect()` during that retry window is undone (see the protocol
 * notes). So the SDK is used for one connection at a time (`autoReconnect: false`, a fresh client
 * per connection so a late ACK can never land on the wrong socket) and this class owns the loop:
 *
 *   standby ──lease acquired──▶ connecting ──open──▶ connected ──socket closed──▶ backoff ─┐
 *      ▲                            │ failed                                               │
 *      └──────── lease lost ◀───────┴──────────────────────────────────────────────────────┘
 *
 * Only one process per app holds the stream: a Redis lease, renewed while connected; losing it
 * (taken over, Redis unreachable for a whole ttl) closes the socket at once and goes to standby.
 *
 * @see https://open.dingtalk.com/document/direction/stream-mode-protocol-access-description
 */
import { DWClient, type DWClientDownStream, TOPIC_ROBOT } from 'dingtalk-stream';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type WebSocket from 'ws';
import { Lease } from '../shared/redis-lock.ts';
import { redirectGateway } from './sdk-gateway.ts';

export type StreamState = 'idle' | 'standby' | 'connecting' | 'connected' | 'backoff' | 'stopped';

export interface DingTalkStreamOptions {
  clientId: string;
  clientSecret: string;
  /** Override of the SDK's gateway URL (tests, proxies). */
  gatewayUrl?: string;
  redis: Redis;
  leaseKey: string;
  leaseTtlMs: number;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  keepAlive: boolean;
  logger: Logger;
  /** Handle one robot callback frame; resolve `true` to acknowledge it, `false` to let DingTalk retry. */
  onRobotMessage(frame: DWClientDownStream): Promise<boolean>;
}

const CLOSED = 'switchboard:closed';
/** A connection that lived this long was healthy: the next failure starts the backoff over. */
const HEALTHY_AFTER_MS = 10_000;

/** The SDK client, plus a `CLOSED` event with the reason (the SDK keeps its socket private). */
class StreamClient extends DWClient {
  override async _connect(): Promise<void> {
    await super._connect();
    // biome-ignore lint/complexity/useLiteralKeys: `socket` is TS-private in the SDK; element access is the escape hatch.
    const socket = this['socket'] as WebSocket | undefined;
    socket?.once('close', (code: number) => this.emit(CLOSED, `socket closed (${code})`));
  }

  override onSystem(downstream: DWClientDownStream): void {
    super.onSystem(downstream);
    // DingTalk announces a server-side close ~10 s ahead; leave now and reconnect elsewhere.
    if (downstream.headers.topic === 'disconnect') this.disconnect();
  }
}

export class DingTalkStream {
  readonly #o: DingTalkStreamOptions;
  #state: StreamState = 'idle';
  #stopping = false;
  #loop: Promise<void> | undefined;
  #lease: Lease | undefined;
  #wake: () => void = () => {};
  #wakeup: Promise<void> = this.#newWakeup();
  /** Successful connections so far (tests, metrics). */
  connections = 0;

  constructor(opts: DingTalkStreamOptions) {
    this.#o = opts;
  }

  get state(): StreamState {
    return this.#state;
  }

  /** Start the loop in the background; returns at once. */
  async start(): Promise<void> {
    if (this.#loop) return;
    if (this.#o.gatewayUrl) await redirectGateway(this.#o.clientId, this.#o.gatewayUrl);
    this.#stopping = false;
    this.#loop = this.#run().catch((err: unknown) => {
      this.#o.logger.error({ err }, 'dingtalk stream loop crashed');
      this.#setState('stopped');
    });
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    this.#wake();
    await this.#loop;
    this.#loop = undefined;
    this.#setState('stopped');
  }

  /** Standby is healthy: another process holds the stream for this app. */
  health(): { ok: boolean; detail: string } {
    return { ok: this.#state === 'connected' || this.#state === 'standby', detail: this.#state };
  }

  async #run(): Promise<void> {
    let failures = 0;
    while (!this.#stopping) {
      if (!this.#lease?.held) {
        this.#lease = undefined;
        const lease = await Lease.tryAcquire({
          redis: this.#o.redis,
          key: this.#o.leaseKey,
          ttlMs: this.#o.leaseTtlMs,
          onLost: (reason) => {
            this.#o.logger.warn({ reason }, 'dingtalk stream lease lost; disconnecting');
            this.#wake();
          },
        }).catch((err: unknown) => {
          this.#o.logger.warn({ err }, 'dingtalk stream: cannot reach Redis for the lease');
          return null;
        });
        if (!lease) {
          this.#setState('standby');
          await this.#sleep(Math.max(100, Math.floor(this.#o.leaseTtlMs / 3)));
          continue;
        }
        this.#lease = lease;
      }

      this.#setState('connecting');
      const client = this.#newClient();
      const closed = new Promise<string>((resolve) => client.once(CLOSED, resolve));
      const openedAt = Date.now();
      await client.connect(); // never rejects; `connected` tells
      if (!client.connected) {
        failures++;
        await this.#backoff(failures, 'connect failed');
        continue;
      }
      this.connections++;
      this.#setState('connected', { connections: this.connections });
      // A stop or a lost lease during connect() fired its wake-up before this wait: re-check.
      const reason =
        this.#stopping || !this.#lease?.held
          ? 'interrupted'
          : await Promise.race([closed, this.#wakeup.then(() => 'interrupted')]);
      client.disconnect();
      if (this.#stopping) break;
      if (!this.#lease?.held) continue; // → standby
      if (Date.now() - openedAt >= HEALTHY_AFTER_MS) failures = 0;
      failures++;
      await this.#backoff(failures, reason);
    }
    await this.#lease?.release();
    this.#lease = undefined;
  }

  #newClient(): StreamClient {
    const client = new StreamClient({
      clientId: this.#o.clientId,
      clientSecret: this.#o.clientSecret,
      keepAlive: this.#o.keepAlive,
      ua: 'switchboard',
    });
    // One connection per client: our loop reconnects (see the header). Robot callbacks only:
    // no EVENT subscription, so the SDK never auto-acknowledges something we did not store.
    client.config.autoReconnect = false;
    client.config.subscriptions.length = 0;
    client.registerCallbackListener(TOPIC_ROBOT, (frame) => {
      void this.#o
        .onRobotMessage(frame)
        .catch((err: unknown) => {
          this.#o.logger.error(
            { err, messageId: frame.headers.messageId },
            'dingtalk robot message handler failed',
          );
          return false;
        })
        .then((ack) => {
          // ACK only after the message is safely queued; the socket may be gone by now, then
          // DingTalk redelivers on the next connection and the hub's dedupe answers `duplicate`.
          if (!ack) return;
          try {
            client.socketCallBackResponse(frame.headers.messageId, null);
          } catch (err) {
            this.#o.logger.warn(
              { err, messageId: frame.headers.messageId },
              'dingtalk: could not send the ACK',
            );
          }
        });
    });
    return client;
  }

  async #backoff(failures: number, reason: string): Promise<void> {
    const cap = Math.min(this.#o.reconnectMaxMs, this.#o.reconnectMinMs * 2 ** Math.min(failures - 1, 20));
    // Full jitter above the minimum, so a fleet that lost DingTalk together does not return together.
    const delay =
      this.#o.reconnectMinMs + Math.floor(Math.random() * Math.max(0, cap - this.#o.reconnectMinMs));
    this.#setState('backoff', { reason, failures, delayMs: delay });
    await this.#sleep(delay);
  }

  #setState(next: StreamState, extra: Record<string, unknown> = {}): void {
    if (next === this.#state && next !== 'backoff') return;
    this.#o.logger.info({ from: this.#state, to: next, ...extra }, `dingtalk stream ${next}`);
    this.#state = next;
  }

  #newWakeup(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#wake = () => {
        this.#wakeup = this.#newWakeup();
        resolve();
      };
    });
  }

  #sleep(ms: number): Promise<void> {
    if (this.#stopping) return Promise.resolve();
    let timer: NodeJS.Timeout | undefined;
    return Promise.race([new Promise<void>((r) => (timer = setTimeout(r, ms))), this.#wakeup]).finally(() =>
      clearTimeout(timer),
    );
  }
}
