/**
 * A TMC data push (a SEND frame's custom headers) as the adapter sees it. Field names as the
 * clients read them: `topic`, `content` (JSON text), `id` (i64), `time`, `nick`, `userid`; the
 * older `pub_time` / `user_nick` / `user_id` spellings are read too.
 */
import type { TmcValue } from './tmc-codec.ts';

export interface TmcPush {
  /** The id exactly as received, for the confirm frame. */
  rawId: TmcValue;
  /** The id as text (64-bit: never a JS number). */
  id: string;
  topic: string;
  /** JSON text of the event. */
  content: string;
  publishedAt?: Date;
  userNick?: string;
  userId?: string;
  fields: Record<string, TmcValue>;
}

/** A data push, or undefined for frames that are not one (no topic or id). */
export function pushOf(c: Record<string, TmcValue>): TmcPush | undefined {
  const topic = c.topic;
  const id = c.id;
  if (typeof topic !== 'string' || id === undefined || id === null || typeof id === 'object')
    return undefined;
  const text = (v: TmcValue | undefined) =>
    typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint' ? String(v) : undefined;
  const time = c.time ?? c.pub_time;
  return {
    rawId: id,
    id: String(id),
    topic,
    content: typeof c.content === 'string' ? c.content : '',
    publishedAt:
      time instanceof Date
        ? time
        : typeof time === 'string' && time
          ? new Date(time.replace(' ', 'T') + '+08:00')
          : undefined,
    userNick: text(c.nick ?? c.user_nick),
    userId: text(c.userid ?? c.user_id),
    fields: c,
  };
}
