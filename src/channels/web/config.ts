/** Config block of a web chat channel instance in hub.yaml. */
import { z } from 'zod';

export const webChannelConfigSchema = z.looseObject({
  id: z.string(),
  type: z.literal('web'),
  /** Widget title shown to visitors. */
  title: z.string().default('Switchboard'),
  /** Origins allowed to call the chat API from a browser (CORS); `*` for any. */
  allowedOrigins: z.array(z.string()).default(['*']),
});

export type WebChannelConfig = z.infer<typeof webChannelConfigSchema>;
