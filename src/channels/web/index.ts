/**
 * The web chat channel. Unlike platform channels it has no webhook: the visitor API
 * (`/v1/chat/*`, src/server/routes/chat.ts) creates sessions and ingests messages directly, and
 * "sending" a reply means publishing it on the conversation's event stream, which the ingress
 * process holding the visitor's SSE stream or WebSocket forwards. Replies are also in the store,
 * so a visitor who was offline catches up from history.
 */
import type { ChannelAdapter, ChannelType } from '../types.ts';
import { type WebChannelConfig, webChannelConfigSchema } from './config.ts';

export const WEB_CHANNEL = 'web';

export type WebAdapter = ChannelAdapter & { config: WebChannelConfig };

export const webChannel: ChannelType<WebChannelConfig> = {
  type: WEB_CHANNEL,
  configSchema: webChannelConfigSchema,
  create(id, config, deps): WebAdapter {
    return {
      type: WEB_CHANNEL,
      id,
      config,
      async send(message) {
        await deps.bus.publish(message.conversationId, { type: 'reply', message });
        return { platformMessageId: message.id };
      },
      async sendTyping(replyTo) {
        const conversationId = String(replyTo.conversationId ?? '');
        if (conversationId) await deps.bus.publish(conversationId, { type: 'typing', on: true });
      },
    };
  },
};
