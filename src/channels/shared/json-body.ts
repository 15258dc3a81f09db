/** The JSON body of a verified webhook, or a 400 `PayloadError` naming the body. */
import { PayloadError } from '../../errors.ts';
import type { WebhookRequest } from '../types.ts';

/** `what` names the payload in the error, e.g. `telegram: update`. */
export function parseJsonBody(req: WebhookRequest, what: string): unknown {
  try {
    return JSON.parse(req.rawBody.toString('utf8'));
  } catch (err) {
    throw new PayloadError(`${what} is not JSON`, { field: 'body', cause: err });
  }
}
