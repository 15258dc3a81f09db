/**
 * Load for chaos tests and benchmarks: N messages posted to the loopback webhook of one or more
 * ingress processes, retried the way platforms retry (any non-200 or no answer ⇒ try again, same
 * payload, after a backoff) until accepted. Then a report of what the fake platform received.
 */
import { stableId } from '../../src/messages.ts';
import type { ChaosPlatform } from './chaos-platform.ts';

export interface LoadOptions {
  /** Ingress base URLs; read before every attempt, so a test can add and remove processes. */
  ingress: () => string[];
  channelId: string;
  token: string;
  messages: number;
  /** Messages are spread over this many conversations (chat ids). */
  conversations: number;
  /** Requests in flight at once. */
  concurrency: number;
  /** Distinguishes runs that share a hub. */
  idPrefix: string;
  /** Give up on a message after this long (the test then fails on `lost`). */
  deadlineMs?: number;
  /** Called once per message, when it was accepted (e.g. to trigger a fault at some point). */
  onAccepted?: (accepted: number) => void;
}

export interface LoadResult {
  /** Inbound hub id → performance.now() of the first attempt. */
  sentAt: Map<string, number>;
  /** Inbound hub id → the text sent. */
  texts: Map<string, string>;
  /** Inbound hub id → performance.now() when the hub accepted it (answered 200). */
  acceptedAt: Map<string, number>;
  /** Inbound hub id → the chat it was sent in. */
  chats: Map<string, string>;
  /** Attempts beyond the first, by status (`503`, `network` …). */
  retries: Record<string, number>;
}

export function webhookPayload(opts: Pick<LoadOptions, 'idPrefix' | 'conversations'>, i: number) {
  return {
    message_id: `${opts.idPrefix}-${i}`,
    chat_id: `c-${i % opts.conversations}`,
    text: `msg ${opts.idPrefix} ${i}`,
  };
}

/** The hub id of a loopback message, as the hub derives it from the dedupe key. */
export function inboundIdOf(channelId: string, messageId: string): string {
  return stableId('m', `loopback:${channelId}:${messageId}`);
}

/** POST one webhook until it is accepted. Returns the attempts it took. */
export async function deliver(
  opts: Pick<LoadOptions, 'ingress' | 'channelId' | 'token' | 'deadlineMs'>,
  payload: object,
  retries: Record<string, number> = {},
): Promise<number> {
  const deadline = Date.now() + (opts.deadlineMs ?? 120_000);
  for (let attempt = 1; ; attempt++) {
    const urls = opts.ingress();
    const url = urls[attempt % Math.max(1, urls.length)];
    let outcome: string;
    try {
      if (!url) throw new Error('no ingress');
      const res = await fetch(`${url}/webhooks/loopback/${opts.channelId}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-loopback-token': opts.token },
        body: JSON.stringify(payload),
        signal: AbortSignal.timeout(10_000),
      });
      await res.arrayBuffer();
      if (res.status === 200) return attempt;
      outcome = String(res.status);
    } catch {
      outcome = 'network';
    }
    retries[outcome] = (retries[outcome] ?? 0) + 1;
    if (Date.now() > deadline) throw new Error(`message not accepted before the deadline (last: ${outcome})`);
    await sleep(Math.min(1000, 50 * 2 ** Math.min(attempt - 1, 5)));
  }
}

export async function sendLoad(opts: LoadOptions): Promise<LoadResult> {
  const result: LoadResult = {
    sentAt: new Map(),
    texts: new Map(),
    acceptedAt: new Map(),
    chats: new Map(),
    retries: {},
  };
  let next = 0;
  let accepted = 0;
  await Promise.all(
    Array.from({ length: opts.concurrency }, async () => {
      for (let i = next++; i < opts.messages; i = next++) {
        const payload = webhookPayload(opts, i);
        const id = inboundIdOf(opts.channelId, payload.message_id);
        result.sentAt.set(id, performance.now());
        result.texts.set(id, payload.text);
        result.chats.set(id, payload.chat_id);
        await deliver(opts, payload, result.retries);
        result.acceptedAt.set(id, performance.now());
        opts.onAccepted?.(++accepted);
      }
    }),
  );
  return result;
}

/** Wait until every sent message has a reply (or the deadline passes); resolves either way. */
export async function waitForReplies(
  platform: ChaosPlatform,
  load: LoadResult,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ([...load.sentAt.keys()].every((id) => platform.repliesTo(id).length > 0)) return;
    await sleep(100);
  }
}

export interface ChaosReport {
  scenario: string;
  sent: number;
  replies: number;
  lost: number;
  duplicated: number;
  /** Sends of an already accepted reply (the at-least-once window), not delivered twice. */
  resent: number;
  /** Replies whose text is not the answer to their own message. */
  mismatched: number;
  /**
   * Pairs of messages in one chat where the first was accepted before the second was sent, yet
   * the second's reply arrived first.
   */
  outOfOrder: number;
  p50Ms: number;
  p99Ms: number;
  [extra: string]: unknown;
}

/**
 * Compare what was sent with what the platform received, print it as one JSON line and return
 * it. `expectText` says what the reply to a message's text must be.
 */
export function report(
  scenario: string,
  load: LoadResult,
  platform: ChaosPlatform,
  expectText: (sent: string) => string,
  extra: Record<string, unknown> = {},
): ChaosReport {
  let lost = 0;
  let duplicated = 0;
  let mismatched = 0;
  let replies = 0;
  const latencies: number[] = [];
  for (const [id, sentAt] of load.sentAt) {
    const got = platform.repliesTo(id);
    replies += got.length;
    if (got.length === 0) lost++;
    if (got.length > 1) duplicated += got.length - 1;
    const first = got[0];
    if (first) {
      latencies.push(first.at - sentAt);
      if (first.text !== expectText(load.texts.get(id) ?? '')) mismatched++;
    }
  }
  latencies.sort((a, b) => a - b);
  const outOfOrder = countOutOfOrder(load, platform);
  const pct = (p: number) =>
    Math.round(latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? 0);
  const line: ChaosReport = {
    scenario,
    sent: load.sentAt.size,
    replies,
    lost,
    duplicated,
    resent: platform.resent,
    mismatched,
    outOfOrder,
    p50Ms: pct(0.5),
    p99Ms: pct(0.99),
    retries: load.retries,
    ...extra,
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);
  return line;
}

/** Consecutive messages of each chat whose order was fixed at the hub but whose replies swapped. */
function countOutOfOrder(load: LoadResult, platform: ChaosPlatform): number {
  const byChat = new Map<string, string[]>();
  for (const [id, chat] of load.chats) byChat.set(chat, [...(byChat.get(chat) ?? []), id]);
  let swapped = 0;
  for (const ids of byChat.values()) {
    ids.sort((a, b) => load.sentAt.get(a)! - load.sentAt.get(b)!);
    for (let i = 1; i < ids.length; i++) {
      const [earlier, later] = [ids[i - 1]!, ids[i]!];
      if ((load.acceptedAt.get(earlier) ?? Infinity) > load.sentAt.get(later)!) continue; // overlapped
      const [a, b] = [platform.repliesTo(earlier)[0], platform.repliesTo(later)[0]];
      if (a && b && b.at < a.at) swapped++;
    }
  }
  return swapped;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
