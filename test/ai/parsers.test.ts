/** The small parsers the sources rely on: server-sent events, path expressions, history budgets. */
import { describe, expect, it } from 'vitest';
import { getPath, parsePath } from '../../src/ai/json-path.ts';
import { estimateTokens, recentTurns } from '../../src/ai/llm/history.ts';
import { readSse } from '../../src/ai/sse.ts';
import type { StoredMessage } from '../../src/store/types.ts';

async function* chunks(...parts: string[]): AsyncGenerator<Uint8Array> {
  for (const p of parts) yield new TextEncoder().encode(p);
}
const collect = async (it: AsyncIterable<unknown>) => {
  const out: unknown[] = [];
  for await (const x of it) out.push(x);
  return out;
};

describe('readSse', () => {
  it('reads Dify-style data blocks, skips bare pings and comments, across arbitrary chunk cuts', async () => {
    const text =
      'event: ping\n\ndata: {"event":"message","answer":"你"}\n\n: keep-alive\n\ndata: {"event":"message_end"}\n\n';
    // Cut inside a multi-byte character and between \r and \n.
    const bytes = new TextEncoder().encode(text.replace(/\n/g, '\r\n'));
    const parts: Uint8Array[] = [];
    for (let i = 0; i < bytes.length; i += 7) parts.push(bytes.slice(i, i + 7));
    async function* raw() {
      yield* parts;
    }
    expect(await collect(readSse(raw()))).toEqual([
      { event: 'message', data: '{"event":"message","answer":"你"}' },
      { event: 'message', data: '{"event":"message_end"}' },
    ]);
  });

  it('reads Coze-style event:/data: pairs without a space, multi-line data, and a last block without a blank line', async () => {
    expect(
      await collect(
        readSse(
          chunks(
            'event:conversation.message.delta\ndata:{"content":"2"}\n\n',
            'data: a\ndata: b\nid: 7\n\n',
            'event:done\ndata:"[DONE]"',
          ),
        ),
      ),
    ).toEqual([
      { event: 'conversation.message.delta', data: '{"content":"2"}' },
      { event: 'message', data: 'a\nb', id: '7' },
      { event: 'done', data: '"[DONE]"', id: '7' },
    ]);
  });
});

describe('paths', () => {
  it('parse and pick values; never evaluate', () => {
    const v = { data: { items: [{ 'x-y': 1, name: 'a' }] } };
    expect(getPath(v, parsePath('data.items[0].name'))).toBe('a');
    expect(getPath(v, parsePath('$.data.items[0]["x-y"]'))).toBe(1);
    expect(getPath(v, parsePath('data.items[3].name'))).toBeUndefined();
    expect(getPath(v, parsePath('data.constructor'))).toBeUndefined();
    expect(() => parsePath('a[b]')).toThrow(
      'invalid path "a[b]": expected a number or a quoted key inside [ ] at character 2',
    );
    expect(() => parsePath('a.(1+1)')).toThrow(/unexpected "\("/);
  });
});

describe('history', () => {
  const msg = (
    seq: number,
    direction: 'in' | 'out',
    text: string | null,
    author: StoredMessage['author'] = direction === 'in' ? 'visitor' : 'bot',
  ) => ({ seq, id: `m${seq}`, direction, text, author }) as StoredMessage;

  it('keeps the last N messages with text, within the token budget, oldest dropped first', async () => {
    const all = [
      msg(1, 'in', '第一条消息'),
      msg(2, 'out', 'reply one'),
      msg(3, 'in', null),
      msg(4, 'out', 'note', 'system'),
      msg(5, 'in', 'x'.repeat(40)),
      msg(6, 'in', 'now'),
    ];
    const store = {
      listMessages: async (_c: string, o: { afterSeq?: number } = {}) =>
        all.filter((m) => m.seq > (o.afterSeq ?? 0)),
    };
    expect(await recentTurns(store, 'c', { messages: 10, maxTokens: 1000, excludeId: 'm6' })).toEqual([
      { role: 'user', text: '第一条消息' },
      { role: 'assistant', text: 'reply one' },
      { role: 'user', text: 'x'.repeat(40) },
    ]);
    expect(await recentTurns(store, 'c', { messages: 2, maxTokens: 1000, excludeId: 'm6' })).toHaveLength(2);
    // 5 + 3 + 10 tokens: a budget of 13 drops the oldest.
    expect(await recentTurns(store, 'c', { messages: 10, maxTokens: 13, excludeId: 'm6' })).toEqual([
      { role: 'assistant', text: 'reply one' },
      { role: 'user', text: 'x'.repeat(40) },
    ]);
    expect(estimateTokens('第一条消息')).toBe(5);
    expect(estimateTokens('reply one')).toBe(3);
  });
});
