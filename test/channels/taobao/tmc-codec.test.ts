/**
 * The TMC frame codec: byte-exact against the two frames found in third-party test code, every
 * value format round-trips, and malformed input is a TmcCodecError, never a crash or a wrong value.
 */
import { describe, expect, it } from 'vitest';
import {
  confirmFrame,
  connectFrame,
  decodeFrame,
  encodeFrame,
  failedFrame,
  MessageType,
  pullRequestFrame,
  TmcCodecError,
  type TmcFrame,
  tmcConnectSign,
} from '../../../src/channels/taobao/tmc-codec.ts';
import { vectors } from './helpers.ts';

const F = vectors.tmcFrames_thirdParty;
const S = vectors.tmcConnectSign_selfComputed;

describe('decode/encode against recorded frames', () => {
  it('CONNECTACK: flag 1 and the token, and re-encodes to the same bytes', () => {
    const bytes = Buffer.from(F.connectAck.hex, 'hex');
    const frame = decodeFrame(bytes);
    expect(frame).toEqual({
      protocolVersion: 2,
      messageType: MessageType.CONNECTACK,
      flag: 1,
      token: F.connectAck.token,
      content: {},
    });
    expect(encodeFrame(frame).equals(bytes)).toBe(true);
  });

  it('a client pull request: token plus __kind as a counted string', () => {
    const bytes = Buffer.from(F.pullRequest.hex, 'hex');
    const frame = decodeFrame(bytes);
    expect(frame).toEqual({
      protocolVersion: 2,
      messageType: MessageType.SEND,
      token: F.pullRequest.token,
      content: { __kind: '1' },
    });
    expect(encodeFrame(frame).equals(bytes)).toBe(true);
  });
});

describe('round trips', () => {
  it('every value format survives encode → decode', () => {
    const frame: TmcFrame = {
      protocolVersion: 2,
      messageType: MessageType.SEND,
      statusCode: 200,
      statusPhrase: 'ok',
      flag: 3,
      token: 'tok',
      content: {
        nothing: null,
        text: '退款申请 ✓',
        empty: '',
        small: 7,
        negative: -5,
        big: 3_000_000_000_000_000_001n,
        when: new Date('2024-05-01T12:00:00.123Z'),
        bytes: Buffer.from([0, 1, 254, 255]),
      },
    };
    expect(decodeFrame(encodeFrame(frame))).toEqual(frame);
  });

  it('forced formats: int16 and byte encode as such and decode as numbers', () => {
    const bytes = encodeFrame({
      protocolVersion: 2,
      messageType: 2,
      content: { a: { int16: -2 }, b: { byte: 200 } },
    });
    // name "a" → format 3 (i16) → fe ff ; name "b" → format 2 (byte) → c8
    expect(bytes.toString('hex')).toBe(
      '0202' + '0100' + '01000000' + '61' + '03' + 'feff' + '0100' + '01000000' + '62' + '02' + 'c8' + '0000',
    );
    expect(decodeFrame(bytes).content).toEqual({ a: -2, b: 200 });
  });

  it('numbers beyond i32 go out as i64 and come back as bigint', () => {
    expect(
      decodeFrame(encodeFrame({ protocolVersion: 2, messageType: 2, content: { n: 2 ** 40 } })).content.n,
    ).toBe(2n ** 40n);
  });

  it('refuses non-integer numbers', () => {
    expect(() => encodeFrame({ protocolVersion: 2, messageType: 2, content: { n: 1.5 } })).toThrow(
      TmcCodecError,
    );
  });
});

describe('malformed input', () => {
  const good = Buffer.from(F.connectAck.hex, 'hex');

  it('every truncation of a valid frame is a TmcCodecError', () => {
    for (let n = 0; n < good.length; n++) {
      expect(() => decodeFrame(good.subarray(0, n)), `${n} bytes`).toThrow(TmcCodecError);
    }
  });

  it('a length prefix larger than the frame is refused, not read past the end', () => {
    const lying = Buffer.from(good);
    lying.writeInt32LE(1_000_000, 10); // the token's length
    expect(() => decodeFrame(lying)).toThrow(/truncated/);
  });

  it('unknown header types and value formats are refused', () => {
    expect(() => decodeFrame(Buffer.from('0202090000', 'hex'))).toThrow(/unknown header type 9/);
    expect(() => decodeFrame(Buffer.from('0202010001000000613f0000', 'hex'))).toThrow(
      /unknown value format 63/,
    );
  });
});

describe('client frames', () => {
  it('the connect sign matches the self-computed vector (TOP md5 over app_key, group_name, timestamp)', () => {
    expect(tmcConnectSign('12345678', 'default', 1451620800000, 'helloworld')).toBe(S.sign);
  });

  it('CONNECT carries flag 1 and the signed handshake fields', () => {
    const frame = connectFrame({
      appKey: '12345678',
      groupName: 'default',
      secret: 'helloworld',
      timestamp: 1451620800000,
      sdk: 'x',
    });
    expect(decodeFrame(encodeFrame(frame))).toEqual({
      protocolVersion: 2,
      messageType: MessageType.CONNECT,
      flag: 1,
      content: {
        timestamp: '1451620800000',
        app_key: '12345678',
        sdk: 'x',
        sign: S.sign,
        group_name: 'default',
      },
    });
  });

  it('confirm sends the id back as received (i64), with __kind 2; pull has __kind 1', () => {
    expect(decodeFrame(encodeFrame(confirmFrame('t', 3_000_000_000_000_000_001n)))).toEqual({
      protocolVersion: 2,
      messageType: MessageType.SEND,
      token: 't',
      content: { __kind: 2, id: 3_000_000_000_000_000_001n },
    });
    expect(decodeFrame(encodeFrame(pullRequestFrame('t'))).content).toEqual({ __kind: 1 });
  });

  it('__kind goes out as a byte (value format 2), like the production Node/Python clients', () => {
    // SEND, token "t", custom "__kind" = byte 1, end
    expect(encodeFrame(pullRequestFrame('t')).toString('hex')).toBe(
      '0202' + '0500' + '01000000' + '74' + '0100' + '06000000' + '5f5f6b696e64' + '02' + '01' + '0000',
    );
  });

  it('a failed ack is a SENDACK with __kind 20, the id and a reason', () => {
    expect(decodeFrame(encodeFrame(failedFrame('t', 7n, 'busy')))).toEqual({
      protocolVersion: 2,
      messageType: MessageType.SENDACK,
      token: 't',
      content: { __kind: 20, id: 7n, msg: 'busy' },
    });
  });
});
