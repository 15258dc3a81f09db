/**
 * Taobao payloads → drafts. Two sources meet in one conversation per (seller, buyer):
 *
 * - TMC pushes (trade, refund, … events): kind `event`, `event` = the topic, a short summary as
 *   text, the decoded content as `raw`. Ids are 64-bit: kept as strings throughout.
 * - Bridge messages (buyer chat forwarded by the Qianniu bridge), schema v1, documented in
 *   docs/channels/taobao.md:
 *     { "type": "message", "msg_id", "seller_nick", "buyer_nick", "buyer_open_uid"?,
 *       "msg_type": "text" | "image", "text"?, "url"?, "sent_at"? }
 *   and `{ "type": "ping" }` for the bridge's health check.
 *
 * @see https://open.taobao.com/tmc.htm (消息列表: taobao_trade_*, taobao_refund_*)
 */
import { PayloadError } from '../../errors.ts';
import type { Attachment, InboundDraft } from '../../messages.ts';
import type { TmcPush } from './tmc-push.ts';
import { parseTopJson } from './top-client.ts';

/** What send.ts reads back: replies always go through the bridge. */
export interface TaobaoReplyTo {
  sellerNick?: string;
  buyerNick?: string;
  buyerOpenUid?: string;
  /** Bridge message id being answered. */
  msgId?: string;
  tid?: string;
  [k: string]: unknown;
}

export type TaobaoParse = { draft: InboundDraft } | { ignored: string };

const TOPIC_LABELS: Record<string, string> = {
  taobao_trade_TradeCreate: '订单创建 order created',
  taobao_trade_TradeBuyerPay: '买家付款 buyer paid',
  taobao_trade_TradeSellerShip: '卖家发货 shipped',
  taobao_trade_TradeSuccess: '交易成功 completed',
  taobao_trade_TradeClose: '交易关闭 closed',
  taobao_refund_RefundCreate: '退款申请 refund requested',
  taobao_refund_RefundSellerAgreeAgreement: '同意退款 refund agreed',
  taobao_refund_RefundSuccess: '退款成功 refunded',
  taobao_refund_RefundClosed: '退款关闭 refund closed',
};

export function parseTmcPush(
  push: TmcPush,
  ctx: { channelId: string; sellerNick?: string; topics: string[]; receivedAt: Date },
): TaobaoParse {
  if (ctx.topics.length > 0 && !ctx.topics.includes(push.topic)) return { ignored: `topic:${push.topic}` };
  const content = parseTopJson(push.content);
  if (content === null || typeof content !== 'object' || Array.isArray(content)) {
    throw new PayloadError(`taobao tmc: content of ${push.topic} is not a JSON object`, { field: 'content' });
  }
  const c = content as Record<string, unknown>;
  const seller = text(c.seller_nick) ?? push.userNick ?? ctx.sellerNick;
  const buyerNick = text(c.buyer_nick);
  const buyerOpenUid = text(c.buyer_open_uid);
  const buyer = buyerOpenUid ?? buyerNick;
  const tid = text(c.tid);
  const refundId = text(c.refund_id);
  const amount = text(c.refund_fee) ?? text(c.payment);
  const summary = [
    TOPIC_LABELS[push.topic] ?? push.topic,
    tid && `tid ${tid}`,
    refundId && `refund ${refundId}`,
    amount && `¥${amount}`,
    text(c.status),
  ]
    .filter(Boolean)
    .join(' · ');
  const replyTo: TaobaoReplyTo = { sellerNick: seller, buyerNick, buyerOpenUid, tid };
  return {
    draft: {
      channel: 'taobao',
      channelId: ctx.channelId,
      platformMessageId: `tmc-${push.id}`,
      // Same conversation as the buyer's chat through the bridge, when the buyer is known.
      platformChatId: buyer ? `${seller ?? ''}:${buyer}` : `tmc:${tid ?? refundId ?? push.id}`,
      sender: { id: buyer ?? seller ?? 'taobao', ...(buyerNick ? { name: buyerNick } : {}) },
      kind: 'event',
      event: push.topic,
      text: summary,
      replyTo: stripUndefined(replyTo),
      receivedAt: ctx.receivedAt,
      raw: {
        topic: push.topic,
        id: push.id,
        userNick: push.userNick,
        publishedAt: push.publishedAt?.toISOString(),
        content: c,
      },
    },
  };
}

export function parseBridgeMessage(
  body: unknown,
  ctx: { channelId: string; sellerNick?: string; receivedAt: Date },
): TaobaoParse {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new PayloadError('taobao bridge: body is not a JSON object', { field: 'body' });
  }
  const b = body as Record<string, unknown>;
  if (b.type === 'ping') return { ignored: 'bridge:ping' };
  if (b.type !== 'message')
    throw new PayloadError('taobao bridge: type must be "message" or "ping"', { field: 'type' });
  const msgId = text(b.msg_id);
  if (!msgId) throw new PayloadError('taobao bridge: msg_id missing', { field: 'msg_id' });
  const seller = text(b.seller_nick) ?? ctx.sellerNick;
  if (!seller) throw new PayloadError('taobao bridge: seller_nick missing', { field: 'seller_nick' });
  const buyerNick = text(b.buyer_nick);
  const buyerOpenUid = text(b.buyer_open_uid);
  const buyer = buyerOpenUid ?? buyerNick;
  if (!buyer)
    throw new PayloadError('taobao bridge: buyer_nick or buyer_open_uid missing', { field: 'buyer_nick' });

  const type = text(b.msg_type) ?? 'text';
  const body_ = text(b.text);
  let attachments: Attachment[] = [];
  if (type === 'image') {
    const url = text(b.url);
    if (!url || !/^https?:\/\//.test(url))
      throw new PayloadError('taobao bridge: image without an http(s) url', { field: 'url' });
    attachments = [{ url, mime: 'image/*' }];
  } else if (type !== 'text') {
    return { ignored: `unsupported:${type}` };
  } else if (!body_) {
    throw new PayloadError('taobao bridge: text message without text', { field: 'text' });
  }
  const sentAt = typeof b.sent_at === 'number' ? new Date(b.sent_at) : undefined;
  return {
    draft: {
      channel: 'taobao',
      channelId: ctx.channelId,
      platformMessageId: `im-${msgId}`,
      platformChatId: `${seller}:${buyer}`,
      sender: { id: buyer, ...(buyerNick ? { name: buyerNick } : {}) },
      kind: type === 'image' ? 'image' : 'text',
      ...(body_ ? { text: body_ } : {}),
      attachments,
      replyTo: stripUndefined({ sellerNick: seller, buyerNick, buyerOpenUid, msgId } satisfies TaobaoReplyTo),
      receivedAt: ctx.receivedAt,
      raw: { ...b, ...(sentAt ? { sent_at_iso: sentAt.toISOString() } : {}) },
    },
  };
}

function text(v: unknown): string | undefined {
  if (typeof v === 'string') return v.trim() === '' ? undefined : v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
