/**
 * The TMC (淘宝消息服务) binary frame, one per WebSocket binary message. Little-endian throughout:
 *
 *   u8  protocol version (2)
 *   u8  message type        0 CONNECT · 1 CONNECTACK · 2 SEND · 3 SENDACK
 *   headers, each a u16 type:
 *     0 end of headers
 *     1 custom         counted string name, u8 value format, value
 *     2 status code    i32
 *     3 status phrase  counted string
 *     4 flag           i32
 *     5 token          counted string
 *   counted string = i32 byte length + UTF-8 bytes
 *   value formats: 0 void · 1 counted string · 2 byte · 3 i16 · 4 i32 · 5 i64 · 6 date (i64 ms) · 7 i32 length + bytes
 *
 * No official spec is public: the layout was learnt from third-party clients (tmcpy3,
 * taobao-tmc-python, tmc.js — all mirroring the Java SDK's MessageIO) and is pinned by two frames
 * from their tests (a CONNECTACK and a pull request). Pure functions; malformed input throws TmcCodecError.
 */
import { topSign } from './top-sign.ts';

export const TMC_PROTOCOL_VERSION = 2;
export const MessageType = { CONNECT: 0, CONNECTACK: 1, SEND: 2, SENDACK: 3 } as const;
export const HeaderType = { END: 0, CUSTOM: 1, STATUS_CODE: 2, STATUS_PHRASE: 3, FLAG: 4, TOKEN: 5 } as const;
export const ValueFormat = {
  VOID: 0,
  STRING: 1,
  BYTE: 2,
  INT16: 3,
  INT32: 4,
  INT64: 5,
  DATE: 6,
  BYTES: 7,
} as const;
/** `__kind` custom header: what a SEND/SENDACK frame is about. */
export const MessageKind = { NONE: 0, PULL_REQUEST: 1, CONFIRM: 2, DATA: 3, FAILED: 20 } as const;

/** A decoded value; `{ int16 }` / `{ byte }` only force a format when encoding. */
export type TmcValue = null | string | number | bigint | Date | Buffer | { int16: number } | { byte: number };

export interface TmcFrame {
  protocolVersion: number;
  messageType: number;
  statusCode?: number;
  statusPhrase?: string;
  flag?: number;
  token?: string;
  content: Record<string, TmcValue>;
}

export class TmcCodecError extends Error {
  override readonly name = 'TmcCodecError';
}

export function encodeFrame(frame: TmcFrame): Buffer {
  const w = new Writer();
  w.u8(frame.protocolVersion);
  w.u8(frame.messageType);
  if (frame.statusCode !== undefined) w.u16(HeaderType.STATUS_CODE).i32(frame.statusCode);
  if (frame.statusPhrase !== undefined) w.u16(HeaderType.STATUS_PHRASE).str(frame.statusPhrase);
  if (frame.flag !== undefined) w.u16(HeaderType.FLAG).i32(frame.flag);
  if (frame.token !== undefined) w.u16(HeaderType.TOKEN).str(frame.token);
  for (const [name, value] of Object.entries(frame.content)) {
    w.u16(HeaderType.CUSTOM).str(name);
    writeValue(w, value);
  }
  w.u16(HeaderType.END);
  return w.done();
}

export function decodeFrame(data: Uint8Array): TmcFrame {
  const r = new Reader(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  const frame: TmcFrame = { protocolVersion: r.u8(), messageType: r.u8(), content: {} };
  for (;;) {
    const type = r.u16();
    if (type === HeaderType.END) return frame;
    switch (type) {
      case HeaderType.CUSTOM: {
        const name = r.str();
        frame.content[name] = readValue(r);
        break;
      }
      case HeaderType.STATUS_CODE:
        frame.statusCode = r.i32();
        break;
      case HeaderType.STATUS_PHRASE:
        frame.statusPhrase = r.str();
        break;
      case HeaderType.FLAG:
        frame.flag = r.i32();
        break;
      case HeaderType.TOKEN:
        frame.token = r.str();
        break;
      default:
        // Headers carry no length: an unknown one cannot be skipped.
        throw new TmcCodecError(`unknown header type ${type} at offset ${r.offset - 2}`);
    }
  }
}

function writeValue(w: Writer, v: TmcValue): void {
  if (v === null) w.u8(ValueFormat.VOID);
  else if (typeof v === 'string') w.u8(ValueFormat.STRING).str(v);
  else if (typeof v === 'bigint') w.u8(ValueFormat.INT64).i64(v);
  else if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new TmcCodecError(`TMC values are integers, got ${v}`);
    if (v >= -0x80000000 && v <= 0x7fffffff) w.u8(ValueFormat.INT32).i32(v);
    else w.u8(ValueFormat.INT64).i64(BigInt(v));
  } else if (v instanceof Date) w.u8(ValueFormat.DATE).i64(BigInt(v.getTime()));
  else if (Buffer.isBuffer(v)) w.u8(ValueFormat.BYTES).i32(v.length).raw(v);
  else if ('int16' in v) w.u8(ValueFormat.INT16).i16(v.int16);
  else w.u8(ValueFormat.BYTE).u8(v.byte);
}

function readValue(r: Reader): TmcValue {
  const format = r.u8();
  switch (format) {
    case ValueFormat.VOID:
      return null;
    case ValueFormat.STRING:
      return r.str();
    case ValueFormat.BYTE:
      return r.u8();
    case ValueFormat.INT16:
      return r.i16();
    case ValueFormat.INT32:
      return r.i32();
    case ValueFormat.INT64:
      return r.i64();
    case ValueFormat.DATE:
      return new Date(Number(r.i64()));
    case ValueFormat.BYTES:
      return r.raw(r.len());
    default:
      throw new TmcCodecError(`unknown value format ${format} at offset ${r.offset - 1}`);
  }
}

class Reader {
  offset = 0;
  constructor(private readonly buf: Buffer) {}
  #need(n: number): number {
    if (this.offset + n > this.buf.length) {
      throw new TmcCodecError(
        `frame truncated: need ${n} bytes at offset ${this.offset}, have ${this.buf.length - this.offset}`,
      );
    }
    const at = this.offset;
    this.offset += n;
    return at;
  }
  u8 = () => this.buf.readUInt8(this.#need(1));
  u16 = () => this.buf.readUInt16LE(this.#need(2));
  i16 = () => this.buf.readInt16LE(this.#need(2));
  i32 = () => this.buf.readInt32LE(this.#need(4));
  i64 = () => this.buf.readBigInt64LE(this.#need(8));
  /** A length prefix; a negative one (Java's "null") reads as empty. */
  len = () => Math.max(0, this.i32());
  raw = (n: number) => Buffer.from(this.buf.subarray(this.#need(n), this.offset));
  str = () => {
    const n = this.len();
    return this.buf.toString('utf8', this.#need(n), this.offset);
  };
}

class Writer {
  #parts: Buffer[] = [];
  #push(size: number, write: (b: Buffer) => void): this {
    const b = Buffer.alloc(size);
    write(b);
    this.#parts.push(b);
    return this;
  }
  u8 = (v: number) => this.#push(1, (b) => b.writeUInt8(v));
  u16 = (v: number) => this.#push(2, (b) => b.writeUInt16LE(v));
  i16 = (v: number) => this.#push(2, (b) => b.writeInt16LE(v));
  i32 = (v: number) => this.#push(4, (b) => b.writeInt32LE(v));
  i64 = (v: bigint) => this.#push(8, (b) => b.writeBigInt64LE(v));
  raw = (v: Buffer) => {
    this.#parts.push(v);
    return this;
  };
  str = (v: string) => {
    const bytes = Buffer.from(v, 'utf8');
    return this.i32(bytes.length).raw(bytes);
  };
  done = () => Buffer.concat(this.#parts);
}

// ── The client's frames ────────────────────────────────────────────────────────────────────

/** Handshake sign: the TOP md5 signature over app_key, group_name and timestamp (ms). */
export function tmcConnectSign(
  appKey: string,
  groupName: string,
  timestamp: number | string,
  secret: string,
): string {
  return topSign({ app_key: appKey, group_name: groupName, timestamp: String(timestamp) }, secret, 'md5');
}

export function connectFrame(p: {
  appKey: string;
  groupName: string;
  secret: string;
  timestamp: number;
  sdk: string;
}): TmcFrame {
  return {
    protocolVersion: TMC_PROTOCOL_VERSION,
    messageType: MessageType.CONNECT,
    flag: 1,
    content: {
      timestamp: String(p.timestamp),
      app_key: p.appKey,
      sdk: p.sdk,
      sign: tmcConnectSign(p.appKey, p.groupName, p.timestamp, p.secret),
      group_name: p.groupName,
    },
  };
}

/** Acknowledge one pushed message; the id goes back in the format it came in (an i64). */
export function confirmFrame(token: string, id: TmcValue): TmcFrame {
  return {
    protocolVersion: TMC_PROTOCOL_VERSION,
    messageType: MessageType.SEND,
    token,
    // Small kinds go out as a byte, as the Node and Python clients in production do.
    content: { __kind: { byte: MessageKind.CONFIRM }, id },
  };
}

/** Tell TMC a message could not be handled, so it is pushed again later (instead of waiting it out). */
export function failedFrame(token: string, id: TmcValue, reason: string): TmcFrame {
  return {
    protocolVersion: TMC_PROTOCOL_VERSION,
    messageType: MessageType.SENDACK,
    token,
    content: { __kind: { byte: MessageKind.FAILED }, id, msg: reason },
  };
}

/** Ask the server to push what is waiting for this group (after a reconnect, and periodically). */
export function pullRequestFrame(token: string): TmcFrame {
  return {
    protocolVersion: TMC_PROTOCOL_VERSION,
    messageType: MessageType.SEND,
    token,
    content: { __kind: { byte: MessageKind.PULL_REQUEST } },
  };
}
