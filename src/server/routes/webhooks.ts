/**
 * `GET|POST /webhooks/:channel/:channelId` — platform callbacks. Verify (401, nothing queued),
 * parse (400), enqueue, and only then answer the platform; Redis down ⇒ 503 so it retries.
 * No AI work here: platforms expect an answer within seconds (WeCom retries after 5 s).
 */
import express, { type Router } from 'express';
import type { Logger } from 'pino';
import type { AdapterSet } from '../../channels/registry.ts';
import type { ParseResult, WebhookRequest } from '../../channels/types.ts';
import { NotFoundError, PayloadError, VerificationError } from '../../errors.ts';
import { metrics } from '../../metrics.ts';
import type { Ingest } from '../../queue/ingest.ts';
import { annotateActiveSpan } from '../../telemetry/spans.ts';

export function webhookRoutes(deps: { adapters: AdapterSet; ingest: Ingest; logger: Logger }): Router {
  const router = express.Router();
  const raw = express.raw({ type: () => true, limit: '1mb' });
  router.all('/webhooks/:channel/:channelId', raw, async (req, res) => {
    const { channel, channelId } = req.params as { channel: string; channelId: string };
    const adapter = deps.adapters.get(channel, channelId);
    if (!adapter?.parse) throw new NotFoundError(`no ${channel} channel "${channelId}" is configured`);
    const request: WebhookRequest = {
      method: req.method,
      query: firstValues(req.query),
      headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v[0] : v])),
      rawBody: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0),
      receivedAt: new Date(),
    };
    annotateActiveSpan({ 'switchboard.channel': channel, 'switchboard.channel_id': channelId });
    let parsed: ParseResult;
    try {
      await adapter.verify?.(request);
      parsed = await adapter.parse(request);
    } catch (err) {
      // A bad signature or a malformed payload: nothing is queued, and the platform is told why.
      if (err instanceof VerificationError || err instanceof PayloadError)
        metrics.inbound.inc({ channel, outcome: 'rejected' });
      throw err;
    }
    for (const reason of parsed.ignored ?? []) metrics.webhookIgnored.inc({ channel, reason });
    if (parsed.messages.length > 0) await deps.ingest(parsed.messages);
    const response = parsed.response ?? { status: 200, body: '' };
    res.status(response.status);
    for (const [name, value] of Object.entries(response.headers ?? {})) res.setHeader(name, value);
    res.send(response.body ?? '');
  });
  return router;
}

function firstValues(query: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(query)) {
    const first = Array.isArray(value) ? value[0] : value;
    if (typeof first === 'string') out[key] = first;
  }
  return out;
}
