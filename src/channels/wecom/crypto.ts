/**
 * WeCom callback crypto (加解密方案): signature check and envelope opening.
 *
 * `@wecom/crypto` does the SHA-1 signature and the AES-256-CBC decryption, but it checks neither
 * the signature against anything nor the receive id, and it trusts the length field. This module
 * adds what a verifier must: constant-time signature comparison, strict base64, the declared
 * `msg_len` against what was actually decrypted, and `receiveid === corpId`.
 *
 * @see https://developer.work.weixin.qq.com/document/path/90968 (加解密方案说明)
 */
import { createDecipheriv, timingSafeEqual } from 'node:crypto';
import { decrypt, getSignature } from '@wecom/crypto';
import { VerificationError } from '../../errors.ts';

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Constant-time `msg_signature` check over sort(token, timestamp, nonce, encrypt). */
export function signatureMatches(
  token: string,
  timestamp: string,
  nonce: string,
  encrypt: string,
  signature: string,
): boolean {
  const expected = Buffer.from(getSignature(token, timestamp, nonce, encrypt), 'utf8');
  // WeCom sends lowercase hex; normalising case keeps the comparison byte-exact and constant-time.
  const given = Buffer.from(signature.toLowerCase(), 'utf8');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * Query decoders turn a raw `+` into a space; WeCom's base64 (echostr, Encrypt) never contains
 * spaces, so put the pluses back before anything else.
 */
export function restoreBase64(value: string): string {
  return value.replaceAll(' ', '+');
}

/**
 * Decrypt `encrypt` and return the message, after checking its structure and that it was meant
 * for `receiveId`. Any failure is a `VerificationError`: a payload that passed the signature but
 * does not open is either forged with a leaked token or not for us.
 */
export function openEnvelope(encodingAESKey: string, encrypt: string, receiveId: string): string {
  const cipher = Buffer.from(encrypt, 'base64');
  // AES blocks are 16 bytes; the smallest valid plaintext (16 random + 4 length + pad) is 32.
  if (!BASE64.test(encrypt) || encrypt.length % 4 !== 0 || cipher.length < 32 || cipher.length % 16 !== 0) {
    throw new VerificationError('wecom: ciphertext is not valid base64 AES blocks');
  }
  let opened: { message: string; id: string };
  try {
    opened = decrypt(encodingAESKey, encrypt);
  } catch (err) {
    throw new VerificationError('wecom: ciphertext does not decrypt', { cause: err });
  }
  const declared = declaredLength(encodingAESKey, cipher);
  // 20 header bytes + message + receive id must fit in what was sent; the library would silently
  // truncate a lying length field, so compare what it returned with what the header claims.
  if (declared + 20 > cipher.length || Buffer.byteLength(opened.message, 'utf8') !== declared) {
    throw new VerificationError('wecom: message length field does not match the decrypted payload');
  }
  const got = Buffer.from(opened.id, 'utf8');
  const want = Buffer.from(receiveId, 'utf8');
  if (got.length !== want.length || !timingSafeEqual(got, want)) {
    throw new VerificationError('wecom: receive id does not match this corp');
  }
  return opened.message;
}

/** The big-endian `msg_len` at offset 16 of the plaintext; only the first two blocks are needed. */
function declaredLength(encodingAESKey: string, cipher: Buffer): number {
  const key = Buffer.from(`${encodingAESKey}=`, 'base64');
  const decipher = createDecipheriv('aes-256-cbc', key, key.subarray(0, 16));
  decipher.setAutoPadding(false);
  const head = decipher.update(cipher.subarray(0, 32));
  return head.readUInt32BE(16);
}
