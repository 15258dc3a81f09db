/**
 * The widget on someone else's site: embedded cross-origin with data- attributes (Chinese UI,
 * own colour, title and greeting), surviving a network cut without losing or doubling a message,
 * and showing an answer while it is streamed (the finished reply, with its attachment, in its place).
 */
import { createServer, type Server } from 'node:http';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailable, collectErrors, launchBrowser, PHONE, screenshot } from '../fakes/browser.ts';
import { type CuttableProxy, startProxy } from '../fakes/browser-proxy.ts';
import { ADMIN_TOKEN, type ConsoleClient, conversationPath, createAgent } from '../helpers/console.ts';
import { FAST_QUEUE_YAML, startTestHub, type TestHub } from '../helpers/hub.ts';
import { ECHO_WORKFLOW } from '../helpers/workflows.ts';

const hostPage = (hub: string) => `<!doctype html><html><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>小店</title><link rel="icon" href="data:,"></head>
<body style="font-family:sans-serif;background:#fdf6ec"><h1>某某小店</h1><p>欢迎光临。</p>
<script src="${hub}/widget.js" async data-title="小店客服" data-color="#0a7d4f" data-greeting="欢迎光临，有什么可以帮您？" data-lang="zh-CN"></script>
</body></html>`;

describe.skipIf(!chromiumAvailable())('the widget embedded on another site', () => {
  let t: TestHub;
  let proxy: CuttableProxy;
  let site: Server;
  let siteUrl: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let alice: ConsoleClient;
  let errors: string[];

  beforeAll(async () => {
    [t, browser] = await Promise.all([
      startTestHub({
        hubYaml: `channels:\n  - { id: web, type: web }\n${FAST_QUEUE_YAML}`,
        workflows: { 'echo.yaml': ECHO_WORKFLOW },
        database: 'pg',
        env: { ADMIN_TOKEN },
      }),
      launchBrowser(),
    ]);
    proxy = await startProxy(t.hub.port!);
    site = createServer((_req, res) =>
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(hostPage(proxy.url)),
    );
    await new Promise<void>((r) => site.listen(0, '127.0.0.1', r));
    siteUrl = `http://127.0.0.1:${(site.address() as { port: number }).port}/`;
    alice = await createAgent(t, 'alice');
    context = await browser.newContext(PHONE);
    page = await context.newPage();
    errors = collectErrors(page);
  });
  afterAll(async () => {
    await browser?.close();
    await proxy?.close();
    await new Promise((r) => site?.close(r));
    await t?.stop();
  });

  const say = async (text: string) => {
    await page.locator('textarea.input').fill(text);
    await page.locator('button.send').click();
  };
  const texts = (role: string) => page.locator(`li.msg.${role}:not(.greeting) .text`).allTextContents();

  it('takes its title, colour, greeting and language from data- attributes', async () => {
    await page.goto(siteUrl);
    await page.locator('button.bubble').click();
    expect(await page.locator('.panel .title').textContent()).toBe('小店客服');
    expect(await page.locator('li.greeting .text').textContent()).toBe('欢迎光临，有什么可以帮您？');
    expect(await page.locator('textarea.input').getAttribute('placeholder')).toBe('请输入消息…');
    expect(await page.locator('button.send').evaluate((b) => getComputedStyle(b).backgroundColor)).toBe(
      'rgb(10, 125, 79)',
    );
    await say('你好');
    // The first answer of a fresh hub (session, stream, job) can take a few seconds under load.
    await expect.poll(() => texts('bot'), { timeout: 10_000 }).toEqual(['echo: 你好']);
  });

  it('a network cut loses nothing and doubles nothing', { timeout: 60_000 }, async () => {
    await say('转人工');
    await expect.poll(() => page.locator('.status').textContent()).toBe('正在为您转接人工客服，请稍候…');
    const conversationId = (await t.hub.store.listConversations({ states: ['queued'] }))[0]!.id;
    expect((await alice.call('POST', conversationPath(conversationId, 'claim'))).status).toBe(200);
    await expect
      .poll(() => page.locator('li.notice').last().textContent())
      .toBe('客服 Agent alice 已加入对话');

    proxy.cut();
    await expect.poll(() => page.locator('.banner').isVisible(), { timeout: 10_000 }).toBe(true);
    await say('还在吗？');
    await expect
      .poll(() => page.locator('li.msg.visitor.failed .state').textContent(), { timeout: 10_000 })
      .toBe('发送失败，正在重试…');
    // The agent answers while the visitor is offline: the reply must arrive after the reconnect.
    expect(
      (
        await alice.call('POST', conversationPath(conversationId, 'reply'), {
          text: '在的，请稍等。',
          client_msg_id: 'off-1',
        })
      ).status,
    ).toBe(202);
    await screenshot(page, 'widget-phone-offline');
    proxy.restore();

    await expect.poll(() => texts('agent'), { timeout: 20_000 }).toEqual(['在的，请稍等。']);
    await expect.poll(() => page.locator('li.msg.visitor.pending').count(), { timeout: 20_000 }).toBe(0);
    await expect.poll(() => page.locator('.banner').isVisible()).toBe(false);
    const stored = await t.hub.store.listMessages(conversationId, { limit: 100 });
    expect(stored.filter((m) => m.text === '还在吗？')).toHaveLength(1);
    expect(await texts('visitor')).toEqual(['你好', '转人工', '还在吗？']);
    await page.waitForTimeout(500);
    expect(await texts('agent')).toEqual(['在的，请稍等。']);
    await screenshot(page, 'widget-phone-zh');
    // The cut itself shows up as failed requests (which net::ERR_ code depends on where in a request
    // it hits: reset, refused, empty response, incomplete chunk …); nothing else may go wrong.
    const unexpected = errors.filter((e) => !/^console: .*net::ERR_[A-Z_]+/.test(e));
    expect(unexpected, unexpected.join('\n')).toEqual([]);
  });

  it('shows a streamed answer as it is written, then the finished reply in its place', async () => {
    const second = await context.newPage();
    const secondErrors = collectErrors(second);
    // The first event stream is a recorded one: three pieces (one replayed) and the final message.
    const sse = [
      'retry: 60000',
      'event: typing\ndata: {"on":true}',
      'event: delta\ndata: {"in_reply_to":"m_q","stream_id":"s1","index":0,"text":"Stre"}',
      'event: delta\ndata: {"in_reply_to":"m_q","stream_id":"s1","index":1,"text":"amed"}',
      'event: delta\ndata: {"in_reply_to":"m_q","stream_id":"s1","index":1,"text":"amed"}',
    ];
    await second.route('**/v1/chat/events**', (route) =>
      route.fulfill({
        status: 200,
        headers: { 'content-type': 'text/event-stream', 'access-control-allow-origin': '*' },
        body: `${sse.join('\n\n')}\n\n`,
      }),
    );
    await second.goto(siteUrl);
    await second.locator('button.bubble').click();
    await expect.poll(() => second.locator('li.streaming .text').textContent()).toBe('Streamed');
    sse.push('event: delta\ndata: {"in_reply_to":"m_q","stream_id":"s1","index":2,"text":"","done":true}');
    // The finished reply carries a file: it replaces the streamed bubble and shows the file too.
    const guide = {
      url: 'https://cdn.example.com/guides/size-guide.pdf',
      mime: 'application/pdf',
      size: 20480,
    };
    const final = {
      id: 'o_final',
      role: 'bot',
      kind: 'text',
      text: 'Streamed answer.',
      attachments: [guide],
      in_reply_to: 'm_q',
      created_at: '2025-01-01T00:00:00Z',
    };
    sse.push(`id: o_final\nevent: message\ndata: ${JSON.stringify(final)}`);
    // The recorded stream asks for a long `retry`: the rest comes with a fresh page load.
    await second.reload();
    await second.locator('button.bubble').click();
    await expect
      .poll(() => second.locator('li.msg.bot:not(.greeting) .text').last().textContent())
      .toBe('Streamed answer.');
    expect(await second.locator('li.streaming').count()).toBe(0);
    // No name: the link shows the URL's last segment; the size is human-readable.
    const file = second.locator('li.msg.bot:not(.greeting)').last().locator('a.file');
    expect(await file.count()).toBe(1);
    expect(await file.getAttribute('href')).toBe(guide.url);
    expect(await file.textContent()).toBe('size-guide.pdf20 KB');
    expect(await file.locator('.size').textContent()).toBe('20 KB');
    expect(secondErrors).toEqual([]);
  });
});
