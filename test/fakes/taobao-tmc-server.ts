/**
 * A local fake of the TMC message service on 127.0.0.1 (WebSocket, binary frames).
 *
 * It behaves as the third-party clients describe the real one: a CONNECT frame carrying
 * app_key/group_name/timestamp/sign is answered by a CONNECTACK with a token (or refused); data is
 * pushed as SEND frames (__kind 3, topic, content JSON text, id as i64, time, nick, userid); a
 * message stays pending until the client confirms its id; pending messages are pushed again when a
 * client asks (pull request) on a new connection — the "resume" after a reconnect — or after the
 * client handed them back as failed (SENDACK, __kind 20).
 *
 * The sign is recomputed here independently of the adapter's code (plain md5), so a wrong
 * implementation on either side shows. Frames use the adapter's codec, which its own tests pin.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';
import {
  decodeFrame,
  encodeFrame,
  MessageType,
  type TmcFrame,
  type TmcValue,
} from '../../src/channels/taobao/tmc-codec.ts';

export interface FakeTmcMessage {
  id: bigint;
  topic: string;
  content: string;
  nick: string;
  userId: bigint;
  time: Date;
}

interface Session {
  ws: WebSocket;
  token: string;
  group: string;
  /** Ids pushed on this connection and not confirmed yet: not pushed again on the same connection. */
  inflight: Set<bigint>;
}

export class FakeTmcServer {
  url = '';
  readonly connects: Record<string, TmcValue>[] = [];
  readonly confirms: { id: string; format: string; token: string | undefined }[] = [];
  readonly refused: string[] = [];
  /** Messages the client handed back as failed (SENDACK, __kind 20). */
  readonly failures: { id: string; msg: unknown }[] = [];
  pulls = 0;
  /** Push pending messages right behind the CONNECTACK (same tick), without waiting for a pull. */
  pushOnConnect = false;
  /** Clock used for the handshake's timestamp window (ms). */
  now = () => Date.now();
  readonly #apps: Map<string, string>;
  readonly #pending = new Map<bigint, FakeTmcMessage & { group: string }>();
  readonly #published = new Map<bigint, FakeTmcMessage & { group: string }>();
  readonly #sessions = new Set<Session>();
  #seq = 0n;
  #wss: WebSocketServer | undefined;

  constructor(apps: Record<string, string>) {
    this.#apps = new Map(Object.entries(apps));
  }

  async start(): Promise<this> {
    this.#wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((r) => this.#wss!.once('listening', () => r()));
    this.url = `ws://127.0.0.1:${(this.#wss.address() as AddressInfo).port}/`;
    this.#wss.on('connection', (ws) => this.#onConnection(ws));
    return this;
  }

  async close(): Promise<void> {
    for (const s of this.#sessions) s.ws.terminate();
    for (const ws of this.#wss?.clients ?? []) ws.terminate();
    await new Promise<void>((r) => (this.#wss ? this.#wss.close(() => r()) : r()));
  }

  /** Publish an event to a group; pushed at once to a connected client of that group. */
  publish(
    topic: string,
    content: Record<string, unknown> | string,
    opts: { group?: string; nick?: string } = {},
  ): bigint {
    // Real TMC ids exceed 2^53, hence bigint here and i64 on the wire.
    const id = 3_000_000_000_000_000_000n + ++this.#seq;
    const text = typeof content === 'string' ? content : JSON.stringify(content);
    const msg = {
      id,
      topic,
      content: text,
      nick: opts.nick ?? 'shop-nick',
      userId: 2_200_000_000_001n,
      time: new Date(),
      group: opts.group ?? 'default',
    };
    this.#pending.set(id, msg);
    this.#published.set(id, msg);
    for (const s of this.#sessions) if (s.group === msg.group) this.#push(s, msg);
    return id;
  }

  /** Push an already published (even confirmed) message again: TMC's at-least-once delivery. */
  pushAgain(id: bigint): void {
    const msg = this.#published.get(id);
    if (!msg) throw new Error(`no message ${id}`);
    this.#pending.set(id, msg);
    for (const s of this.#sessions) if (s.group === msg.group) this.#push(s, msg);
  }

  /** Messages not confirmed yet. */
  pendingIds(): string[] {
    return [...this.#pending.keys()].map(String);
  }

  sessions(): number {
    return this.#sessions.size;
  }

  /** Cut every connection without a close handshake (network loss). */
  dropConnections(): void {
    for (const s of this.#sessions) s.ws.terminate();
  }

  /** Send raw bytes to every connected client (malformed-frame tests). */
  sendRaw(data: Buffer): void {
    for (const s of this.#sessions) s.ws.send(data, { binary: true });
  }

  #onConnection(ws: WebSocket): void {
    let session: Session | undefined;
    ws.on('message', (data: Buffer) => {
      let frame: TmcFrame;
      try {
        frame = decodeFrame(data);
      } catch {
        ws.close(1002, 'bad frame');
        return;
      }
      if (!session) {
        session = this.#handshake(ws, frame);
        return;
      }
      if (frame.token !== session.token) return;
      const kind = frame.content.__kind;
      const kindNum = typeof kind === 'number' ? kind : typeof kind === 'string' ? Number(kind) : undefined;
      if (frame.messageType === MessageType.SENDACK && kindNum === 20) {
        const id = frame.content.id;
        this.failures.push({ id: String(id), msg: frame.content.msg });
        // Pushed again on the next pull request.
        if (typeof id === 'bigint') session.inflight.delete(id);
        return;
      }
      if (frame.messageType !== MessageType.SEND) return;
      if (kindNum === 1) {
        this.pulls++;
        for (const msg of this.#pending.values())
          if (msg.group === session.group && !session.inflight.has(msg.id)) this.#push(session, msg);
      } else if (kindNum === 2) {
        const id = frame.content.id;
        const format = typeof id;
        this.confirms.push({ id: String(id), format, token: frame.token });
        if (typeof id === 'bigint' || typeof id === 'number' || typeof id === 'string') {
          const key = BigInt(id);
          this.#pending.delete(key);
          session.inflight.delete(key);
        }
      }
    });
    ws.on('close', () => {
      if (session) this.#sessions.delete(session);
    });
  }

  #handshake(ws: WebSocket, frame: TmcFrame): Session | undefined {
    const c = frame.content;
    this.connects.push(c);
    const refuse = (why: string) => {
      this.refused.push(why);
      ws.send(
        encodeFrame({
          protocolVersion: 2,
          messageType: MessageType.CONNECTACK,
          statusCode: 401,
          statusPhrase: why,
          content: {},
        }),
        { binary: true },
      );
      ws.close(1008, why);
      return undefined;
    };
    if (frame.messageType !== MessageType.CONNECT) return refuse('expected CONNECT');
    const [appKey, group, timestamp, sign] = [c.app_key, c.group_name, c.timestamp, c.sign].map((v) =>
      typeof v === 'string' ? v : '',
    );
    const secret = this.#apps.get(appKey ?? '');
    if (!secret) return refuse('unknown app_key');
    if (Math.abs(this.now() - Number(timestamp)) > 10 * 60_000) return refuse('timestamp expired');
    const expected = createHash('md5')
      .update(`${secret}app_key${appKey}group_name${group}timestamp${timestamp}${secret}`)
      .digest('hex')
      .toUpperCase();
    if (sign !== expected) return refuse('invalid sign');
    const session: Session = { ws, token: randomUUID(), group: group || 'default', inflight: new Set() };
    this.#sessions.add(session);
    ws.send(
      encodeFrame({
        protocolVersion: 2,
        messageType: MessageType.CONNECTACK,
        flag: 1,
        token: session.token,
        content: {},
      }),
      { binary: true },
    );
    if (this.pushOnConnect) {
      for (const msg of this.#pending.values()) if (msg.group === session.group) this.#push(session, msg);
    }
    return session;
  }

  #push(s: Session, m: FakeTmcMessage): void {
    s.inflight.add(m.id);
    const frame: TmcFrame = {
      protocolVersion: 2,
      messageType: MessageType.SEND,
      content: {
        __kind: { byte: 3 },
        topic: m.topic,
        content: m.content,
        id: m.id,
        time: m.time,
        nick: m.nick,
        userid: m.userId,
      },
    };
    s.ws.send(encodeFrame(frame), { binary: true });
  }
}
