/**
 * URL attachments → WeCom media ids. WeCom sends images and files only by `media_id`, so a URL is
 * downloaded (timed, capped at the type's upload limit), uploaded as temporary media, and the
 * media id remembered in Redis per (corp, secret, url) for 2.5 days — WeCom keeps it 3 — so a size
 * chart sent to a thousand customers is downloaded and uploaded once.
 *
 * @see https://developer.work.weixin.qq.com/document/path/90253 (上传临时素材)
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { ChannelSendError, errorMessage } from '../../errors.ts';
import { httpUrl, urlFileName } from '../shared/attachment-links.ts';
import { retryAfterSec } from '../shared/http.ts';
import { redisKey } from '../shared/keys.ts';
import { type MediaFile, secretHash, type WeComApi, type WeComMediaType } from './api.ts';

/** The media types a reply sends: jpg/png as `image`, everything else as `file`. */
export type SendableMediaType = Extract<WeComMediaType, 'image' | 'file'>;

export interface ResolvedMedia {
  type: SendableMediaType;
  mediaId: string;
}

const MB = 1024 * 1024;
/** Documented upload limits; every file must also have at least `WECOM_MEDIA_MIN_BYTES`. */
export const WECOM_MEDIA_MAX_BYTES: Readonly<Record<WeComMediaType, number>> = {
  image: 10 * MB,
  voice: 2 * MB,
  video: 10 * MB,
  file: 20 * MB,
};
export const WECOM_MEDIA_MIN_BYTES = 5;
/** A temporary media id lives 3 days; stop using it half a day early. */
export const MEDIA_CACHE_TTL_SEC = 2.5 * 86_400;
/** The only image formats `image` uploads accept. */
const IMAGE_MIMES = new Set(['image/jpeg', 'image/png']);

export interface WeComMediaOptions {
  api: WeComApi;
  redis: Redis;
  keyPrefix: string;
  corpId: string;
  /** Download timeout, and upload timeout. */
  timeoutMs: number;
}

export interface UrlAttachment {
  url: string;
  mime?: string;
  name?: string;
}

export class WeComMedia {
  readonly #o: WeComMediaOptions;
  /**
   * In-process single flight: concurrent replies with the same URL share one download + upload.
   * Followers share the leader's abort signal too; if it is aborted they fail retryably and retry.
   */
  readonly #inflight = new Map<string, Promise<ResolvedMedia>>();

  constructor(opts: WeComMediaOptions) {
    this.#o = opts;
  }

  /** The media id of `attachment` for the app behind `secret`: from the cache, else uploaded now. */
  resolve(attachment: UrlAttachment, secret: string, signal?: AbortSignal): Promise<ResolvedMedia> {
    const key = this.cacheKey(attachment, secret);
    let pending = this.#inflight.get(key);
    if (!pending) {
      pending = this.#resolve(key, attachment, secret, signal).finally(() => this.#inflight.delete(key));
      this.#inflight.set(key, pending);
    }
    return pending;
  }

  /** `<prefix>:wecom:media:<corp>:<secret hash>:<hash of url + declared mime>`. */
  cacheKey(attachment: UrlAttachment, secret: string): string {
    // The declared mime is part of the key: it decides image vs file, so it decides the media id.
    const urlHash = createHash('sha256')
      .update(`${attachment.url}\n${attachment.mime ?? ''}`)
      .digest('hex')
      .slice(0, 32);
    return redisKey(this.#o.keyPrefix, 'wecom', 'media', this.#o.corpId, secretHash(secret), urlHash);
  }

  async #resolve(
    key: string,
    attachment: UrlAttachment,
    secret: string,
    signal?: AbortSignal,
  ): Promise<ResolvedMedia> {
    const cached = parseCached(await this.#o.redis.get(key));
    if (cached) return cached;
    const file = await downloadAttachment(attachment, this.#o.timeoutMs, signal);
    const uploaded = await this.#o.api.uploadMedia(file.type, file, secret, {
      timeoutMs: this.#o.timeoutMs,
      signal,
    });
    const resolved: ResolvedMedia = { type: file.type, mediaId: uploaded.media_id };
    // A lost cache entry only costs one more upload later; the reply itself can go out.
    await this.#o.redis.set(key, JSON.stringify(resolved), 'EX', MEDIA_CACHE_TTL_SEC).catch(() => undefined);
    return resolved;
  }
}

interface DownloadedFile extends MediaFile {
  type: SendableMediaType;
}

/**
 * GET the URL and read at most the type's limit. Transport errors, timeouts and 5xx/408/429 are
 * retryable; any other non-2xx, a file over the limit or under 5 bytes can never succeed.
 */
export async function downloadAttachment(
  attachment: UrlAttachment,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<DownloadedFile> {
  const url = httpUrlOf(attachment.url);
  const where = `${url.origin}${url.pathname}`; // no query in messages: CDN links often carry signatures
  const signals = [AbortSignal.timeout(timeoutMs)];
  if (signal) signals.push(signal);
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.any(signals) });
  } catch (err) {
    throw new ChannelSendError(`wecom: downloading ${where} failed: ${errorMessage(err)}`, {
      retryable: true,
      cause: err,
    });
  }
  if (!res.ok) {
    await res.body?.cancel().catch(() => undefined);
    const status = res.status;
    throw new ChannelSendError(`wecom: downloading ${where}: HTTP ${status}`, {
      retryable: status >= 500 || status === 408 || status === 429,
      retryAfterSec: retryAfterSec(res.headers),
    });
  }
  const contentType = normalizeMime(attachment.mime) ?? normalizeMime(res.headers.get('content-type'));
  const type: SendableMediaType = contentType && IMAGE_MIMES.has(contentType) ? 'image' : 'file';
  const limit = WECOM_MEDIA_MAX_BYTES[type];
  const tooLarge = () =>
    new ChannelSendError(
      `wecom: ${where} is larger than WeCom's ${limit / MB} MB limit for ${type} uploads`,
      {
        retryable: false,
      },
    );
  if (Number(res.headers.get('content-length') ?? 0) > limit) {
    await res.body?.cancel().catch(() => undefined);
    throw tooLarge();
  }
  const bytes = await readAtMost(res, limit, where);
  if (bytes === undefined) throw tooLarge();
  if (bytes.length < WECOM_MEDIA_MIN_BYTES) {
    throw new ChannelSendError(
      `wecom: ${where} has ${bytes.length} bytes, WeCom needs at least ${WECOM_MEDIA_MIN_BYTES}`,
      { retryable: false },
    );
  }
  return {
    type,
    bytes,
    contentType: contentType ?? 'application/octet-stream',
    filename: filenameOf(attachment.name, url, type, contentType),
  };
}

/** The body, or undefined as soon as it grows past `limit` (the rest is never read). */
async function readAtMost(
  res: Response,
  limit: number,
  where: string,
): Promise<Uint8Array<ArrayBuffer> | undefined> {
  if (!res.body) return new Uint8Array(0);
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    let next: ReadableStreamReadResult<Uint8Array>;
    try {
      next = await reader.read();
    } catch (err) {
      throw new ChannelSendError(`wecom: downloading ${where} failed: ${errorMessage(err)}`, {
        retryable: true,
        cause: err,
      });
    }
    if (next.done) return Buffer.concat(chunks, total);
    total += next.value.length;
    if (total > limit) {
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(next.value);
  }
}

/** `Image/PNG; charset=…` → `image/png`; empty → undefined. */
function normalizeMime(mime: string | null | undefined): string | undefined {
  const bare = mime?.split(';')[0]?.trim().toLowerCase();
  return bare ? bare : undefined;
}

/** What the recipient sees for a file: the attachment's name, else the URL's last path segment. */
function filenameOf(
  given: string | undefined,
  url: URL,
  type: SendableMediaType,
  mime: string | undefined,
): string {
  let name = given || urlFileName(url) || 'attachment';
  // WeCom checks image uploads by format; give an extension-less image the one its mime implies.
  if (type === 'image' && !/\.(jpe?g|png)$/i.test(name)) name += mime === 'image/png' ? '.png' : '.jpg';
  return name;
}

/** Only http(s) URLs are downloaded; anything else is a workflow mistake, not a transient error. */
function httpUrlOf(raw: string): URL {
  const url = httpUrl(raw);
  if (!url) throw new ChannelSendError('wecom: attachment url is not an http(s) URL', { retryable: false });
  return url;
}

function parseCached(raw: string | null): ResolvedMedia | undefined {
  if (raw === null) return undefined;
  try {
    const v = JSON.parse(raw) as Partial<ResolvedMedia>;
    if ((v.type === 'image' || v.type === 'file') && typeof v.mediaId === 'string' && v.mediaId) {
      return { type: v.type, mediaId: v.mediaId };
    }
  } catch {
    // unreadable entry: upload again and overwrite it
  }
  return undefined;
}
