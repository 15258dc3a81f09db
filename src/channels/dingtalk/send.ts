/**
 * Outbound DingTalk: the message's session webhook while it is valid (no token, answers in the
 * same chat), else the robot OpenAPI — oToMessages/batchSend for 1:1, groupMessages/send for groups.
 *
 * A session webhook URL comes from an inbound payload, so it is only called when it points at the
 * configured oapi host: a forged payload cannot make the hub POST to an arbitrary address.
 *
 * @see https://open.dingtalk.com/document/orgapp/robot-reply-and-send-messages (sessionWebhook)
 * @see https://open.dingtalk.com/document/orgapp/chatbots-send-one-on-one-chat-messages-in-batches
 * @see https://open.dingtalk.com/document/orgapp/the-robot-sends-a-group-message
 */
import type { Logger } from 'pino';
import { ChannelSendError } from '../../errors.ts';
import type { OutboundMessage } from '../../messages.ts';
import { withAttachmentLinks } from '../shared/attachment-links.ts';
import { httpJson, redactUrl } from '../shared/http.ts';
import type { SendContext, SendResult } from '../types.ts';
import type { DingTalkApi } from './api.ts';
import type { DingTalkConfig } from './config.ts';

export interface DingTalkSendDeps {
  api: DingTalkApi;
  config: DingTalkConfig;
  logger: Logger;
  now?: () => number;
}

interface Content {
  /** Session-webhook body. */
  webhook: Record<string, unknown>;
  /** OpenAPI message template key and its JSON-encoded parameters. */
  msgKey: 'sampleText' | 'sampleMarkdown';
  msgParam: string;
}

export async function sendDingTalk(
  deps: DingTalkSendDeps,
  msg: OutboundMessage,
  ctx: SendContext,
): Promise<SendResult> {
  const r = msg.replyTo;
  const content = contentOf(msg, ctx.logger);
  const now = (deps.now ?? Date.now)();
  const hook = typeof r.sessionWebhook === 'string' ? r.sessionWebhook : undefined;
  const expires = typeof r.sessionWebhookExpiredTime === 'number' ? r.sessionWebhookExpiredTime : 0;
  if (hook && expires - deps.config.sessionWebhookMargin > now) {
    if (isAllowedWebhook(hook, deps.config.oapiBase)) {
      const sent = await viaSessionWebhook(deps, hook, content, ctx);
      if (sent) return {};
    } else {
      ctx.logger.warn(
        { host: safeHost(hook) },
        'dingtalk: session webhook not on the oapi host; using the OpenAPI',
      );
    }
  }
  return viaOpenApi(deps, r, content, ctx);
}

function contentOf(msg: OutboundMessage, logger: Logger): Content {
  // The robot APIs used here send no files: URL attachments become links (inline images in markdown).
  const links = withAttachmentLinks(
    msg.text ?? '',
    msg.attachments,
    msg.kind === 'markdown' ? 'markdown' : 'plain',
  );
  if (links.skipped > 0)
    logger.warn({ count: links.skipped }, 'dingtalk: attachments without a URL are not sent');
  const text = links.text;
  if (text.trim().length === 0)
    throw new ChannelSendError('dingtalk: nothing to send (empty text)', { retryable: false });
  if (msg.kind === 'markdown') {
    // DingTalk shows the title in the chat list and notifications: the first line, without markup.
    const title =
      (text.split('\n', 1)[0] ?? '')
        .replace(/[#*_>`[\]]/g, '')
        .trim()
        .slice(0, 64) || 'Message';
    return {
      webhook: { msgtype: 'markdown', markdown: { title, text } },
      msgKey: 'sampleMarkdown',
      msgParam: JSON.stringify({ title, text }),
    };
  }
  if (msg.kind !== 'text') {
    throw new ChannelSendError(`dingtalk: ${msg.kind} replies are not supported yet`, { retryable: false });
  }
  return {
    webhook: { msgtype: 'text', text: { content: text } },
    msgKey: 'sampleText',
    msgParam: JSON.stringify({ content: text }),
  };
}

function isAllowedWebhook(hook: string, oapiBase: string): boolean {
  try {
    const u = new URL(hook);
    const allowed = new URL(oapiBase);
    return u.protocol === allowed.protocol && u.host === allowed.host;
  } catch {
    return false;
  }
}

function safeHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'invalid-url';
  }
}

/**
 * true when DingTalk accepted it; false when DingTalk answered that the webhook cannot be used
 * (expired, revoked) so the OpenAPI may take over without risk of a double; throws when the outcome
 * is unknown (network) or DingTalk asks us to slow down.
 */
async function viaSessionWebhook(
  deps: DingTalkSendDeps,
  hook: string,
  content: Content,
  ctx: SendContext,
): Promise<boolean> {
  const res = await httpJson(hook, {
    body: content.webhook,
    timeoutMs: deps.config.requestTimeout,
    signal: ctx.signal,
  });
  const body = (res.json ?? {}) as { errcode?: number; errmsg?: string };
  if (res.status === 200 && body.errcode === 0) return true;
  if (res.status >= 500) {
    throw new ChannelSendError(`dingtalk session webhook: HTTP ${res.status}`, { retryable: true });
  }
  // 130101: sending too fast (20 messages/min per robot and chat).
  if (body.errcode === 130101 || res.status === 429) {
    throw new ChannelSendError('dingtalk session webhook: rate limited', {
      retryable: true,
      retryAfterSec: 60,
    });
  }
  ctx.logger.warn(
    { url: redactUrl(hook), status: res.status, errcode: body.errcode, errmsg: body.errmsg },
    'dingtalk: session webhook refused; using the OpenAPI',
  );
  return false;
}

async function viaOpenApi(
  deps: DingTalkSendDeps,
  r: Record<string, unknown>,
  content: Content,
  ctx: SendContext,
): Promise<SendResult> {
  const robotCode = str(r.robotCode) ?? deps.config.robotCode ?? deps.config.clientId;
  const base = { robotCode, msgKey: content.msgKey, msgParam: content.msgParam };
  if (r.conversationType === 'group') {
    const openConversationId = str(r.conversationId);
    if (!openConversationId)
      throw new ChannelSendError('dingtalk: group replyTo needs conversationId', { retryable: false });
    /** @see https://open.dingtalk.com/document/orgapp/the-robot-sends-a-group-message */
    const res = await deps.api.post<{ processQueryKey?: string }>(
      '/v1.0/robot/groupMessages/send',
      { ...base, openConversationId },
      ctx.signal,
    );
    return { platformMessageId: res?.processQueryKey };
  }
  const staffId = str(r.senderStaffId);
  if (!staffId) {
    throw new ChannelSendError('dingtalk: 1:1 reply after the session webhook expired needs senderStaffId', {
      retryable: false,
    });
  }
  /** @see https://open.dingtalk.com/document/orgapp/chatbots-send-one-on-one-chat-messages-in-batches */
  const res = await deps.api.post<{
    processQueryKey?: string;
    invalidStaffIdList?: string[];
    flowControlledStaffIdList?: string[];
  }>('/v1.0/robot/oToMessages/batchSend', { ...base, userIds: [staffId] }, ctx.signal);
  if (res?.invalidStaffIdList?.includes(staffId)) {
    throw new ChannelSendError(`dingtalk: user ${staffId} cannot receive robot messages`, {
      retryable: false,
    });
  }
  if (res?.flowControlledStaffIdList?.includes(staffId)) {
    throw new ChannelSendError(`dingtalk: user ${staffId} is flow-controlled`, {
      retryable: true,
      retryAfterSec: 60,
    });
  }
  return { platformMessageId: res?.processQueryKey };
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}
