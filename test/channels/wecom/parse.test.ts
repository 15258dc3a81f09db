/**
 * Each recorded callback shape → a valid InboundMessage (or an explicit `ignored` reason),
 * driven through the adapter exactly as the webhook route does: encrypt, sign, verify, parse.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createWeComAdapter } from '../../../src/channels/wecom/index.ts';
import { parseWeComMessage } from '../../../src/channels/wecom/parse.ts';
import { PayloadError } from '../../../src/errors.ts';
import { inboundMessageSchema, toInboundMessage } from '../../../src/messages.ts';
import { buildWeComPost, webhookRequest } from '../../fakes/wecom-callback.ts';
import { adapterDeps, fixture, redisEnv, wecomConfig } from './helpers.ts';

const env = redisEnv();
afterAll(() => env.cleanup());

const corpId = 'ww0000000000000001';
const config = wecomConfig({ corpId, agentId: '1000002', kf: { enabled: false } });
const adapter = createWeComAdapter('hq', config, adapterDeps(env));
const keys = { token: config.token, encodingAESKey: config.encodingAESKey, receiveId: corpId };

async function deliver(xml: string) {
  const req = webhookRequest('POST', buildWeComPost(keys, xml));
  adapter.verify(req);
  return adapter.parse(req);
}

describe('WeCom callback fixtures', () => {
  it('image → image with PicUrl and MediaId; MsgId at 2^63-1 kept exact', async () => {
    const { messages } = await deliver(fixture('image.xml'));
    const m = toInboundMessage(messages[0]!);
    expect(m.kind).toBe('image');
    expect(m.dedupeKey).toBe('wecom:hq:9223372036854775807');
    expect(m.attachments).toEqual([
      { url: 'https://wework.qpic.cn/wwpic/0000/0', mediaId: '1Ab2Cd3Ef_media_image' },
    ]);
    expect(m.replyTo).toEqual({ mode: 'app', touser: 'zhangsan', agentid: 1000002 });
  });

  it('voice → voice with media id and amr mime', async () => {
    const m = toInboundMessage((await deliver(fixture('voice.xml'))).messages[0]!);
    expect(m).toMatchObject({
      kind: 'voice',
      attachments: [{ mediaId: 'media_voice_1', mime: 'audio/amr' }],
    });
  });

  it('video and file', async () => {
    const v = toInboundMessage((await deliver(fixture('video.xml'))).messages[0]!);
    expect(v).toMatchObject({ kind: 'video', attachments: [{ mediaId: 'media_video_1' }] });
    const f = toInboundMessage((await deliver(fixture('file.xml'))).messages[0]!);
    expect(f).toMatchObject({ kind: 'file', attachments: [{ mediaId: 'media_file_1', name: '发票.pdf' }] });
  });

  it('location → label as text, coordinates as a geo: URI', async () => {
    const m = toInboundMessage((await deliver(fixture('location.xml'))).messages[0]!);
    expect(m).toMatchObject({ kind: 'location', text: '广州市天河区' });
    expect(m.attachments[0]?.url).toBe('geo:23.134521,113.358803');
  });

  it('link → text with title, description and URL', async () => {
    const m = toInboundMessage((await deliver(fixture('link.xml'))).messages[0]!);
    expect(m.text).toBe('订单 #123\n退货申请\nhttps://example.com/orders/123');
  });

  it('events → kind event, dedupe on FromUserName + CreateTime (+ event name)', async () => {
    const enter = toInboundMessage((await deliver(fixture('event-enter-agent.xml'))).messages[0]!);
    expect(enter).toMatchObject({
      kind: 'event',
      event: 'enter_agent',
      dedupeKey: 'wecom:hq:ev:zhangsan:1732161606:enter_agent',
    });
    expect(enter.text).toBeUndefined();
    const click = toInboundMessage((await deliver(fixture('event-click.xml'))).messages[0]!);
    expect(click).toMatchObject({ event: 'click', text: 'MENU_REFUND' });
    // Same user, same second, different event: two messages, not one.
    expect(click.dedupeKey).not.toBe(enter.dedupeKey);
  });

  it('a platform retry of the same event maps to the same dedupe key', async () => {
    const a = (await deliver(fixture('event-click.xml'))).messages[0]!;
    const b = (await deliver(fixture('event-click.xml'))).messages[0]!;
    expect(toInboundMessage(a).id).toBe(toInboundMessage(b).id);
  });

  it('directory events from sys and unknown message types are ignored explicitly', async () => {
    expect(await deliver(fixture('event-change-contact.xml'))).toMatchObject({
      messages: [],
      ignored: ['event:change_contact'],
    });
    expect(await deliver(fixture('unknown-type.xml'))).toMatchObject({
      messages: [],
      ignored: ['unsupported:hologram'],
    });
  });

  it('kf_msg_or_event with kf disabled is ignored, not enqueued', async () => {
    const r = await deliver(fixture('event-kf.xml'));
    expect(r.messages).toEqual([]);
    expect(r.ignored?.[0]).toMatch(/kf_msg_or_event/);
  });

  it('every draft is a valid InboundMessage with plain-JSON raw', async () => {
    for (const name of [
      'image.xml',
      'voice.xml',
      'video.xml',
      'file.xml',
      'location.xml',
      'link.xml',
      'event-click.xml',
    ]) {
      const m = toInboundMessage((await deliver(fixture(name))).messages[0]!);
      expect(() => inboundMessageSchema.parse(JSON.parse(JSON.stringify(m)))).not.toThrow();
    }
  });
});

describe('parseWeComMessage field errors', () => {
  const ctx = { channelId: 'hq', agentId: 1, receivedAt: new Date() };
  it.each([
    ['MsgType', '<xml><FromUserName>u</FromUserName></xml>'],
    ['MsgId', '<xml><FromUserName>u</FromUserName><MsgType>text</MsgType><Content>x</Content></xml>'],
    ['MsgId', '<xml><FromUserName>u</FromUserName><MsgType>text</MsgType><MsgId>12ab</MsgId></xml>'],
    ['FromUserName', '<xml><MsgType>text</MsgType><MsgId>1</MsgId></xml>'],
    ['OpenKfId', '<xml><MsgType>event</MsgType><Event>kf_msg_or_event</Event></xml>'],
  ])('names %s', (field, xml) => {
    try {
      parseWeComMessage(xml, ctx);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(PayloadError);
      expect((err as PayloadError).details).toEqual({ field });
    }
  });

  it('keeps message text verbatim, including surrounding spaces and markup-like characters', () => {
    const { drafts } = parseWeComMessage(
      '<xml><FromUserName>u</FromUserName><MsgType>text</MsgType><Content><![CDATA[ <b>a&amp;b</b> ]]></Content><MsgId>1</MsgId></xml>',
      ctx,
    );
    expect(drafts[0]?.text).toBe(' <b>a&amp;b</b> ');
  });
});
