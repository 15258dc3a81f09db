import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kbEmbeddingsConfigSchema } from '../../../src/ai/kb/config.ts';
import { createOpenAIEmbedder } from '../../../src/ai/kb/embedder.ts';

/** A fake OpenAI-compatible `/v1/embeddings` endpoint on 127.0.0.1 that records requests. */
const requests: {
  url: string;
  auth: string | undefined;
  body: { model: string; input: string[] | string };
}[] = [];
const server = createServer((req, res) => {
  let raw = '';
  req.on('data', (c: Buffer) => {
    raw += c.toString();
  });
  req.on('end', () => {
    const body = JSON.parse(raw);
    requests.push({ url: req.url ?? '', auth: req.headers.authorization, body });
    const inputs: string[] = Array.isArray(body.input) ? body.input : [body.input];
    res.setHeader('content-type', 'application/json');
    res.end(
      JSON.stringify({
        object: 'list',
        model: body.model,
        data: inputs.map((text, index) => ({ object: 'embedding', index, embedding: [text.length, 1, 0] })),
        usage: { prompt_tokens: 0, total_tokens: 0 },
      }),
    );
  });
});

let baseURL: string;
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('createOpenAIEmbedder', () => {
  it('talks to the configured OpenAI-compatible endpoint with the configured model and key', async () => {
    const config = kbEmbeddingsConfigSchema.parse({
      baseURL,
      model: 'bge-m3',
      apiKey: 'k-test',
      timeout: '2s',
    });
    const embedder = await createOpenAIEmbedder(config);
    expect(embedder.model).toBe('bge-m3');
    expect(await embedder.embedQuery('退货')).toEqual([2, 1, 0]);
    expect(await embedder.embedDocuments(['a', 'bcd'])).toEqual([
      [1, 1, 0],
      [3, 1, 0],
    ]);
    expect(requests.at(-1)).toMatchObject({
      url: '/v1/embeddings',
      auth: 'Bearer k-test',
      body: { model: 'bge-m3' },
    });
  });

  it('rejects a config without a valid endpoint', () => {
    expect(kbEmbeddingsConfigSchema.safeParse({ baseURL: 'not a url', model: 'm' }).success).toBe(false);
  });
});
