/**
 * Replies with URL attachments against the local fake WeCom API and a local file server: the file
 * is downloaded, uploaded as temporary media (multipart, parsed by the fake), then sent by media_id
 * after the text; the media id is cached per (corp, secret, url); limits and download failures map
 * to permanent / retryable errors with nothing sent.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { SendContext } from '../../../src/channels/types.ts';
import { createWeComAdapter, type WeComAdapter } from '../../../src/channels/wecom/index.ts';
import { MEDIA_CACHE_TTL_SEC } from '../../../src/channels/wecom/media.ts';
import { ChannelSendError } from '../../../src/errors.ts';
import { type Attachment, type OutboundMessage, toOutboundMessage } from '../../../src/messages.ts';
import { FakeWeComApi } from '../../fakes/wecom-api.ts';
import { FileServer, TINY_PNG } from './file-server.ts';
import { adapterDeps, redisEnv, silentLogger, wecomConfig } from './helpers.ts';

const env = redisEnv();
const corpId = 'wwcorp0001';
const api = new FakeWeComApi({ corpId, secrets: ['app-secret', 'kf-secret'] });
const files = new FileServer();
const ctx: SendContext = { logger: silentLogger, signal: new AbortController().signal };
const PDF = Buffer.from('%PDF-1.4\n% returns policy\n%%EOF\n');
const MB = 1024 * 1024;
const app = (touser = 'zhangsan') => ({ mode: 'app', touser, agentid: 1000002 });
const kf = { mode: 'kf', open_kfid: 'wkOPEN', external_userid: 'wmEXT' };
let seq = 0;

beforeAll(async () => {
  await api.start();
  files
    .route('/size-chart.png', { body: TINY_PNG, type: 'image/png' })
    .route('/kf-chart.png', { body: TINY_PNG, type: 'image/png' })
    .route('/shared.png', { body: TINY_PNG, type: 'image/png' })
    .route('/photo', { body: TINY_PNG, type: 'image/png; charset=binary' })
    .route('/token.png', { body: TINY_PNG, type: 'image/png' })
    .route('/returns.pdf', { body: PDF, type: 'application/pdf' })
    .route('/tiny.png', { body: Buffer.from('abc'), type: 'image/png' })
    .route('/busy.png', { body: Buffer.from('busy'), type: 'text/plain', status: 503 })
    .route('/gone.png', { body: Buffer.from('gone'), type: 'text/plain', status: 404 })
    .route('/endless.png', {
      stream: { chunk: Buffer.alloc(64 * 1024, 1), maxBytes: 200 * MB },
      type: 'image/png',
    })
    .route('/huge.zip', {
      stream: { chunk: Buffer.alloc(64 * 1024, 2), maxBytes: 21 * MB, declaredLength: 21 * MB },
      type: 'application/zip',
    });
  await files.start();
});
afterAll(async () => {
  await files.close();
  await api.close();
  await env.cleanup();
});
afterEach(() => {
  api.requests.length = 0;
  api.delivered.length = 0;
  api.uploads.length = 0;
});

function adapter(): WeComAdapter {
  const config = wecomConfig({
    corpId,
    agentId: '1000002',
    apiBase: api.baseUrl,
    kf: { enabled: true, secret: 'kf-secret' },
    rateLimit: { enabled: false },
  });
  return createWeComAdapter('wc', config, adapterDeps(env));
}

function reply(
  text: string,
  attachments: Attachment[],
  replyTo: Record<string, unknown> = app(),
): OutboundMessage {
  return toOutboundMessage({
    conversationId: 'wecom:wc:app:1000002:zhangsan',
    channel: 'wecom',
    channelId: 'wc',
    replyTo,
    kind: 'text',
    text,
    attachments,
    idempotencyKey: `media-${++seq}-${Math.random()}`,
    traceId: 't1',
  });
}

async function sendError(a: WeComAdapter, msg: OutboundMessage): Promise<ChannelSendError> {
  const err = await a.send(msg, ctx).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ChannelSendError);
  return err as ChannelSendError;
}

describe('URL image attachments', () => {
  it('app user: downloads, uploads as image, then sends the text and the image by media_id', async () => {
    const url = `${files.url}/size-chart.png`;
    await adapter().send(reply('Here is the size chart', [{ url, mime: 'image/png' }]), ctx);

    expect(api.uploads).toHaveLength(1);
    const up = api.uploads[0]!;
    expect(up).toMatchObject({
      type: 'image',
      filename: 'size-chart.png',
      contentType: 'image/png',
      length: TINY_PNG.length,
      secret: 'app-secret',
    });
    expect(up.bytes.equals(TINY_PNG)).toBe(true);
    expect(api.calls('/cgi-bin/media/upload')[0]?.query.type).toBe('image');
    expect(api.delivered).toEqual([
      {
        path: '/cgi-bin/message/send',
        body: {
          touser: 'zhangsan',
          agentid: 1000002,
          safe: 0,
          msgtype: 'text',
          text: { content: 'Here is the size chart' },
        },
      },
      {
        path: '/cgi-bin/message/send',
        body: {
          touser: 'zhangsan',
          agentid: 1000002,
          safe: 0,
          msgtype: 'image',
          image: { media_id: up.mediaId },
        },
      },
    ]);
  });

  it('kf customer: uploads with the kf secret and sends msgtype image through kf/send_msg', async () => {
    const url = `${files.url}/kf-chart.png`;
    await adapter().send(reply('尺码表', [{ url, mime: 'image/png' }], kf), ctx);

    expect(api.uploads).toHaveLength(1);
    const up = api.uploads[0]!;
    expect(up).toMatchObject({ type: 'image', filename: 'kf-chart.png', secret: 'kf-secret' });
    expect(up.bytes.equals(TINY_PNG)).toBe(true);
    expect(api.delivered).toEqual([
      {
        path: '/cgi-bin/kf/send_msg',
        body: { touser: 'wmEXT', open_kfid: 'wkOPEN', msgtype: 'text', text: { content: '尺码表' } },
      },
      {
        path: '/cgi-bin/kf/send_msg',
        body: { touser: 'wmEXT', open_kfid: 'wkOPEN', msgtype: 'image', image: { media_id: up.mediaId } },
      },
    ]);
  });

  it('the same URL again is neither downloaded nor uploaded again, and the cache expires before WeCom does', async () => {
    const url = `${files.url}/shared.png`;
    const a = adapter();
    for (const user of ['u1', 'u2', 'u3']) {
      await a.send(reply('size chart', [{ url, mime: 'image/png' }], app(user)), ctx);
    }
    // A second process (another adapter, same Redis) also finds it.
    await adapter().send(reply('size chart', [{ url, mime: 'image/png' }], app('u4')), ctx);

    expect(api.uploads).toHaveLength(1);
    expect(files.stats('/shared.png').hits).toBe(1);
    const images = api.delivered.filter((d) => d.body.msgtype === 'image');
    expect(images.map((d) => d.body.touser)).toEqual(['u1', 'u2', 'u3', 'u4']);
    expect(new Set(images.map((d) => (d.body.image as { media_id: string }).media_id))).toEqual(
      new Set([api.uploads[0]!.mediaId]),
    );
    const ttl = await env.redis.ttl(a.media.cacheKey({ url, mime: 'image/png' }, 'app-secret'));
    expect(ttl).toBeGreaterThan(MEDIA_CACHE_TTL_SEC - 60);
    expect(ttl).toBeLessThanOrEqual(MEDIA_CACHE_TTL_SEC);
    expect(MEDIA_CACHE_TTL_SEC).toBeLessThan(3 * 86_400);
  });

  it('without a declared mime the response Content-Type decides, and an extension is added', async () => {
    await adapter().send(reply('photo', [{ url: `${files.url}/photo` }]), ctx);
    expect(api.uploads).toMatchObject([{ type: 'image', filename: 'photo.png', contentType: 'image/png' }]);
    expect(api.delivered[1]?.body).toMatchObject({ msgtype: 'image' });
  });

  it('an expired token during the upload is refreshed once, through the same token path as sends', async () => {
    const a = adapter();
    await a.send(reply('warm up', []), ctx);
    const before = api.gettokenCalls;
    api.expireTokenOnNextCall();
    await a.send(reply('chart', [{ url: `${files.url}/token.png`, mime: 'image/png' }]), ctx);
    const uploads = api.calls('/cgi-bin/media/upload');
    expect(uploads).toHaveLength(2); // 42001 with the old token, then success with a new one
    expect(uploads[0]?.query.access_token).not.toBe(uploads[1]?.query.access_token);
    expect(api.gettokenCalls - before).toBe(1);
    expect(api.uploads).toHaveLength(1);
  });
});

describe('URL file attachments', () => {
  it('a non-image URL is uploaded as type file and sent as msgtype file', async () => {
    await adapter().send(reply('Our returns policy', [{ url: `${files.url}/returns.pdf` }]), ctx);
    expect(api.uploads).toHaveLength(1);
    const up = api.uploads[0]!;
    expect(up).toMatchObject({ type: 'file', filename: 'returns.pdf', contentType: 'application/pdf' });
    expect(up.bytes.equals(PDF)).toBe(true);
    expect(api.calls('/cgi-bin/media/upload')[0]?.query.type).toBe('file');
    expect(api.delivered.map((d) => d.body.msgtype)).toEqual(['text', 'file']);
    expect(api.delivered[1]?.body.file).toEqual({ media_id: up.mediaId });
  });

  it('attachments that already have a media id are sent as-is, without any upload', async () => {
    await adapter().send(reply('', [{ mediaId: 'MEDIA_GIVEN', mime: 'image/jpeg' }]), ctx);
    expect(api.calls('/cgi-bin/media/upload')).toHaveLength(0);
    expect(api.delivered.map((d) => d.body)).toEqual([
      { touser: 'zhangsan', agentid: 1000002, safe: 0, msgtype: 'image', image: { media_id: 'MEDIA_GIVEN' } },
    ]);
  });
});

describe('limits and download failures', () => {
  it('an image over 10 MB fails permanently: the download stops at the limit, nothing is uploaded or sent', async () => {
    const err = await sendError(
      adapter(),
      reply('chart', [{ url: `${files.url}/endless.png`, mime: 'image/png' }]),
    );
    expect(err.retryable).toBe(false);
    expect(err.message).toContain('10 MB');
    expect(api.calls('/cgi-bin/media/upload')).toHaveLength(0);
    expect(api.delivered).toHaveLength(0);
    // The client hangs up right after the limit (the close reaches the server a moment later).
    await vi.waitFor(() => expect(files.stats('/endless.png').abortedByClient).toBe(true));
    expect(files.stats('/endless.png').bytesWritten).toBeLessThan(100 * MB);
  });

  it('a file whose Content-Length exceeds 20 MB is refused before its body is read', async () => {
    const err = await sendError(adapter(), reply('backup', [{ url: `${files.url}/huge.zip` }]));
    expect(err.retryable).toBe(false);
    expect(err.message).toContain('20 MB');
    expect(api.calls('/cgi-bin/media/upload')).toHaveLength(0);
  });

  it('a file under 5 bytes fails permanently', async () => {
    const err = await sendError(adapter(), reply('x', [{ url: `${files.url}/tiny.png` }]));
    expect(err.retryable).toBe(false);
    expect(err.message).toContain('at least 5');
    expect(api.calls('/cgi-bin/media/upload')).toHaveLength(0);
  });

  it('a 503 from the file host is retryable, and the text is not sent without its image', async () => {
    const err = await sendError(
      adapter(),
      reply('chart', [{ url: `${files.url}/busy.png`, mime: 'image/png' }]),
    );
    expect(err.retryable).toBe(true);
    expect(err.message).toContain('HTTP 503');
    expect(api.calls('/cgi-bin/media/upload')).toHaveLength(0);
    expect(api.delivered).toHaveLength(0);
  });

  it('a 404 from the file host is permanent', async () => {
    const err = await sendError(adapter(), reply('chart', [{ url: `${files.url}/gone.png` }]));
    expect(err.retryable).toBe(false);
    expect(err.message).toContain('HTTP 404');
  });

  it('an unreachable host is retryable; a non-http URL is permanent', async () => {
    const closed = new FileServer();
    await closed.start();
    await closed.close();
    const down = await sendError(adapter(), reply('x', [{ url: `${closed.url}/a.png` }]));
    expect(down.retryable).toBe(true);
    const bad = await sendError(adapter(), reply('x', [{ url: 'ftp://files.example.com/a.png' }]));
    expect(bad.retryable).toBe(false);
    expect(api.delivered).toHaveLength(0);
  });
});
