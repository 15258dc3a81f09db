/**
 * Attachments in a real browser: a workflow answers with an image, a file and two attachments that
 * must never become a link or an image (a `javascript:` and a `data:` URL), plus a platform-only
 * media id. The widget (embedded on a site with no CSP of its own) and the console both show the
 * image, which really loads from a little file server, and the file as a link; a late image keeps
 * the latest message in view. Screenshots of both land in test-output/.
 */
import { createServer, type Server } from 'node:http';
import { crc32, deflateSync } from 'node:zlib';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailable, collectErrors, DESKTOP, launchBrowser, screenshot } from '../fakes/browser.ts';
import { ADMIN_TOKEN, createAgent } from '../helpers/console.ts';
import { FAST_QUEUE_YAML, startTestHub, type TestHub } from '../helpers/hub.ts';

const IMAGE_WIDTH = 900; // wider than any bubble: the page must scale it down
const CARE_GUIDE = 'Wash at 30 °C. Do not tumble dry.\n';

/** A real PNG (8-bit RGB, a horizontal gradient), so the browser has something to decode. */
function png(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const typed = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const out = Buffer.alloc(data.length + 12);
    out.writeUInt32BE(data.length, 0);
    typed.copy(out, 4);
    out.writeUInt32BE(crc32(typed), data.length + 8);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // bit depth 8, colour type RGB, no interlace
  const row = Buffer.alloc(1 + width * 3); // filter byte 0, then pixels
  for (let x = 0; x < width; x++) row.set([Math.round((x / width) * 255), 120, 200], 1 + x * 3);
  const pixels = Buffer.concat(Array.from({ length: height }, () => row));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(pixels)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Workflows: one reply with every kind of attachment, one with an image and no text. */
function workflows(files: string) {
  return {
    'a-photo-only.yaml': `name: photo-only
match: { keywords: [photo only] }
steps:
  - reply: { text: "", attachments: [ { url: "${files}/photo.png" } ] }
`,
    'files.yaml': `name: files
default: true
steps:
  - reply:
      text: "Here is the size chart"
      attachments:
        - { url: "${files}/size-chart.png", mime: image/png, name: "Size chart" }
        - { url: "${files}/care-guide.txt", mime: text/plain, name: care-guide.txt }
        - { url: "javascript:alert(document.domain)", name: evil.txt }
        - { url: "data:image/png;base64,iVBORw0KGgo=", mime: image/png, name: inline }
        - { mediaId: wx-media-1, mime: image/jpeg }
`,
  };
}

/**
 * The site the widget is embedded on, which also serves the files (as a CDN would). /photo.png
 * comes late, as from a slow network: it arrives after its message was laid out and scrolled to.
 */
function startFileServer(hubUrl: () => string): Promise<Server> {
  const image = png(IMAGE_WIDTH, 300);
  const server = createServer((req, res) => {
    if (req.url === '/size-chart.png') return res.writeHead(200, { 'content-type': 'image/png' }).end(image);
    if (req.url === '/photo.png')
      return void setTimeout(() => res.writeHead(200, { 'content-type': 'image/png' }).end(image), 400);
    if (req.url === '/care-guide.txt')
      return res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(CARE_GUIDE);
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(`<!doctype html>
<html><head><meta charset="utf-8"><title>Shop</title><link rel="icon" href="data:,"></head>
<body><h1>Shop</h1><script src="${hubUrl()}/widget.js" async data-title="Shop support" data-lang="en"></script></body></html>`);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** Every src and href under `scope`: none may be anything but http(s). */
const urlsIn = (scope: Locator) =>
  scope.evaluate((root) =>
    Array.from(
      root.querySelectorAll('[src], [href]'),
      (e) => e.getAttribute('src') ?? e.getAttribute('href'),
    ),
  );

/** How far the log is scrolled up from its bottom, in pixels. */
const gapBelow = (log: Locator) => log.evaluate((e) => e.scrollHeight - e.scrollTop - e.clientHeight);

const loadedWidth = (img: Locator) => img.evaluate((e) => (e as HTMLImageElement).naturalWidth);

describe.skipIf(!chromiumAvailable())('attachments in the widget and the console', () => {
  let t: TestHub;
  let files: Server;
  let filesUrl: string;
  let browser: Browser;
  let visitorContext: BrowserContext;
  let agentContext: BrowserContext;
  let visitor: Page;
  let agent: Page;
  let errors: string[][] = [];

  beforeAll(async () => {
    files = await startFileServer(() => t.url);
    filesUrl = `http://127.0.0.1:${(files.address() as { port: number }).port}`;
    [t, browser] = await Promise.all([
      startTestHub({
        hubYaml: `channels:\n  - { id: web, type: web }\n${FAST_QUEUE_YAML}`,
        workflows: workflows(filesUrl),
        database: 'pg',
        env: { ADMIN_TOKEN },
      }),
      launchBrowser(),
    ]);
    await createAgent(t, 'alice');
    visitorContext = await browser.newContext(DESKTOP);
    // No bypassCSP: the console's Content-Security-Policy must let attachment images load.
    agentContext = await browser.newContext(DESKTOP);
    visitor = await visitorContext.newPage();
    agent = await agentContext.newPage();
    errors = [collectErrors(visitor), collectErrors(agent)];
  });
  afterAll(async () => {
    await browser?.close();
    await new Promise((r) => files?.close(r));
    await t?.stop();
  });

  const botReplies = () => visitor.locator('li.msg.bot:not(.greeting)');
  const visitorSays = async (text: string) => {
    await visitor.locator('textarea.input').fill(text);
    await visitor.locator('textarea.input').press('Enter');
  };

  it('the widget shows the image (loaded, fitted to the bubble) and the file link, nothing unsafe', async () => {
    await visitor.goto(`${filesUrl}/`);
    await visitor.locator('button.bubble').click();
    await visitorSays('do you have a size chart?');
    const reply = botReplies().last();
    await expect
      .poll(() => reply.locator('.text').textContent(), { timeout: 10_000 })
      .toBe('Here is the size chart');

    // One image: the data: one is not rendered, the media id has nothing to fetch.
    const img = reply.locator('img');
    expect(await img.count()).toBe(1);
    expect(await img.getAttribute('src')).toBe(`${filesUrl}/size-chart.png`);
    expect(await img.getAttribute('alt')).toBe('Size chart');
    expect(await img.getAttribute('loading')).toBe('lazy');
    await expect.poll(() => loadedWidth(img)).toBe(IMAGE_WIDTH);
    const [shown, bubble] = await Promise.all([img.boundingBox(), reply.boundingBox()]);
    expect(shown!.width).toBeGreaterThan(100);
    expect(shown!.x + shown!.width).toBeLessThanOrEqual(bubble!.x + bubble!.width);
    const imageLink = reply.locator('a:has(img)');
    expect(await imageLink.getAttribute('href')).toBe(`${filesUrl}/size-chart.png`);
    expect(await imageLink.getAttribute('target')).toBe('_blank');
    expect(await imageLink.getAttribute('rel')).toBe('noopener noreferrer');

    // The file is a link with its name, to the real file.
    const fileLink = reply.getByRole('link', { name: 'care-guide.txt' });
    expect(await fileLink.getAttribute('href')).toBe(`${filesUrl}/care-guide.txt`);
    expect(await fileLink.getAttribute('rel')).toBe('noopener noreferrer');
    expect(await (await visitor.request.get((await fileLink.getAttribute('href'))!)).text()).toBe(CARE_GUIDE);

    // javascript: and data: never become a link or an image.
    expect(await reply.locator('a').count()).toBe(2);
    expect(await reply.textContent()).not.toContain('evil.txt');
    for (const url of await urlsIn(visitor.locator('ol.log'))) expect(url).toMatch(/^https?:\/\//);

    // An image with no text: no empty paragraph; no mime, so the .png path makes it an image.
    await visitorSays('photo only');
    await expect.poll(() => botReplies().count(), { timeout: 10_000 }).toBe(2);
    const photo = botReplies().last();
    expect(await photo.locator('.text').count()).toBe(0);
    expect(await photo.locator('img').getAttribute('alt')).toBe('image');
    await expect.poll(() => loadedWidth(photo.locator('img'))).toBe(IMAGE_WIDTH);
    // The late image grew the log after it was scrolled down: it still shows the latest message.
    await expect.poll(() => gapBelow(visitor.locator('ol.log'))).toBeLessThan(2);
    await screenshot(visitor, 'widget-attachments');
  });

  it('the console shows the same image and file link, the rest as placeholders', async () => {
    await agent.goto(`${t.url}/console`);
    await agent.locator('#login-username').fill('alice');
    await agent.locator('#login-password').fill('pw-alice-secret');
    await agent.getByRole('button', { name: 'Log in', exact: true }).click();
    await agent.getByRole('tab', { name: 'All' }).click();
    await agent.locator('.conv-item').first().click();
    const replies = agent.locator('li.msg-bot');
    await expect.poll(() => replies.count(), { timeout: 10_000 }).toBe(2);

    const reply = replies.first();
    expect(await reply.locator('.msg-text').textContent()).toBe('Here is the size chart');
    const img = reply.locator('img');
    expect(await img.count()).toBe(1);
    expect(await img.getAttribute('src')).toBe(`${filesUrl}/size-chart.png`);
    expect(await img.getAttribute('alt')).toBe('Size chart');
    await expect.poll(() => loadedWidth(img)).toBe(IMAGE_WIDTH);
    const [shown, bubble] = await Promise.all([img.boundingBox(), reply.boundingBox()]);
    expect(shown!.x + shown!.width).toBeLessThanOrEqual(bubble!.x + bubble!.width);
    expect(await reply.locator('a:has(img)').getAttribute('rel')).toBe('noopener noreferrer');
    const fileLink = reply.getByRole('link', { name: 'care-guide.txt' });
    expect(await fileLink.getAttribute('href')).toBe(`${filesUrl}/care-guide.txt`);

    // javascript: (no mime) is a [file], data: and the media id (image mimes) are [image]s.
    expect(await reply.locator('.attachment-placeholder').allTextContents()).toEqual([
      '[file]',
      '[image]',
      '[image]',
    ]);
    expect(await reply.locator('.attachment-placeholder').first().getAttribute('title')).toBe('evil.txt');
    expect(await reply.locator('a').count()).toBe(2);
    for (const url of await urlsIn(agent.locator('ol.log'))) expect(url).toMatch(/^https?:\/\//);

    const photo = replies.last();
    expect(await photo.locator('.msg-text').count()).toBe(0);
    await expect.poll(() => loadedWidth(photo.locator('img'))).toBe(IMAGE_WIDTH);
    await expect.poll(() => gapBelow(agent.locator('ol.log'))).toBeLessThan(2);
    await screenshot(agent, 'console-attachments');
    expect(errors.flat()).toEqual([]);
  });
});
