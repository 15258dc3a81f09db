/** The TOP signature against the official vector, the self-computed hmac vectors, and its helpers. */
import { describe, expect, it } from 'vitest';
import { parseTopJson } from '../../../src/channels/taobao/top-client.ts';
import {
  parseTopTimestamp,
  topSign,
  topSignEquals,
  topSignString,
  topTimestamp,
} from '../../../src/channels/taobao/top-sign.ts';
import { vectors } from './helpers.ts';

const V = vectors.topApiSign_md5_official;
const H = vectors.topApiSign_hmac_selfComputed;

describe('topSign', () => {
  it('builds the documented string to sign (sorted name+value, sign excluded)', () => {
    expect(topSignString({ ...V.params, sign: 'ignored' })).toBe(V.concatenated);
  });

  it('md5 matches the official TOP vector', () => {
    expect(topSign(V.params, V.secret, 'md5')).toBe(V.expected_sign);
  });

  it('hmac (md5) and hmac-sha256 match the openssl-checked vectors', () => {
    expect(topSign(V.params, V.secret, 'hmac')).toBe(H.hmac_md5);
    expect(topSign(V.params, V.secret, 'hmac-sha256')).toBe(H.hmac_sha256);
  });

  it('does not depend on parameter order, skips empty values, and changes with any value', () => {
    const reversed = Object.fromEntries(Object.entries(V.params as Record<string, string>).reverse());
    expect(topSign({ ...reversed, empty: '' }, V.secret)).toBe(V.expected_sign);
    expect(topSign({ ...V.params, num_iid: '11223345' }, V.secret)).not.toBe(V.expected_sign);
  });

  it('appends the body after the parameters', () => {
    expect(topSignString({ b: '2', a: '1' }, '{"x":1}')).toBe('a1b2{"x":1}');
  });

  it('compares case-insensitively and refuses anything that is not the same hex', () => {
    expect(topSignEquals(V.expected_sign.toLowerCase(), V.expected_sign)).toBe(true);
    expect(topSignEquals(V.expected_sign.slice(1), V.expected_sign)).toBe(false);
    expect(topSignEquals(`${V.expected_sign.slice(0, -1)}Z`, V.expected_sign)).toBe(false);
  });
});

describe('timestamps and ids', () => {
  it('formats TOP timestamps in GMT+8 and parses them back', () => {
    const at = new Date('2016-01-01T04:00:00Z');
    expect(topTimestamp(at)).toBe('2016-01-01 12:00:00'); // the vector's timestamp
    expect(parseTopTimestamp('2016-01-01 12:00:00')?.toISOString()).toBe('2016-01-01T04:00:00.000Z');
    expect(parseTopTimestamp('2016-01-01T12:00:00')).toBeUndefined();
  });

  it('keeps 19-digit ids exact where JSON.parse would round them', () => {
    const text = '{"tid":3982135211234567890,"num":3,"note":"a \\"tid\\":1234567890123456789 inside"}';
    expect(String((JSON.parse(text) as { tid: number }).tid)).not.toBe('3982135211234567890'); // what a plain parse does
    expect(parseTopJson(text)).toEqual({
      tid: '3982135211234567890',
      num: 3,
      note: 'a "tid":1234567890123456789 inside',
    });
    expect(parseTopJson('{broken')).toBeUndefined();
  });
});
