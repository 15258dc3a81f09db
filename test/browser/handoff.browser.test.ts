/**
 * The whole hand-off in a real browser: a visitor chats with the bot in the widget, asks for a
 * human, an agent (second browser context) claims the conversation in the console and replies,
 * the visitor sees it, the bot stays silent, the agent releases, the bot answers again.
 * Screenshots of both pages, desktop and phone, land in test-output/.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  chromiumAvailable,
  collectErrors,
  DESKTOP,
  launchBrowser,
  PHONE,
  screenshot,
} from '../fakes/browser.ts';
import { ADMIN_TOKEN, createAgent } from '../helpers/console.ts';
import { eventually, FAST_QUEUE_YAML, startTestHub, type TestHub } from '../helpers/hub.ts';

const HUB_YAML = `channels:
  - { id: web, type: web, title: Acme Support }
${FAST_QUEUE_YAML}`;

describe.skipIf(!chromiumAvailable())('hand-off in the browser: widget ↔ console', () => {
  let t: TestHub;
  let browser: Browser;
  let visitorContext: BrowserContext;
  let agentContext: BrowserContext;
  let visitor: Page;
  let agent: Page;
  let errors: string[][] = [];

  beforeAll(async () => {
    [t, browser] = await Promise.all([
      startTestHub({ hubYaml: HUB_YAML, database: 'pg', env: { ADMIN_TOKEN } }),
      launchBrowser(),
    ]);
    await createAgent(t, 'alice');
    visitorContext = await browser.newContext(DESKTOP);
    agentContext = await browser.newContext(DESKTOP);
    visitor = await visitorContext.newPage();
    agent = await agentContext.newPage();
    errors = [collectErrors(visitor), collectErrors(agent)];
  });
  afterAll(async () => {
    await browser?.close();
    await t?.stop();
  });

  const widgetMessages = (role?: string) =>
    visitor.locator(role ? `li.msg.${role}:not(.greeting)` : 'li.msg:not(.greeting)');
  const lastText = async (role: string) =>
    (await widgetMessages(role).last().locator('.text').textContent())?.trim();
  const visitorSays = async (text: string) => {
    await visitor.locator('textarea.input').fill(text);
    await visitor.locator('textarea.input').press('Enter');
  };

  it('visitor ↔ bot, hand-off to an agent in the console, agent reply, silent bot, release', {
    timeout: 90_000,
  }, async () => {
    // The agent logs in first, so the visitor is told someone is there.
    await agent.goto(`${t.url}/console`);
    await agent.locator('#login-username').fill('alice');
    await agent.locator('#login-password').fill('pw-alice-secret');
    await agent.getByRole('button', { name: 'Log in', exact: true }).click();
    await agent.locator('.live:not(.offline)').waitFor();
    await expect.poll(() => agent.locator('.live').textContent()).toBe('live');

    // Visitor: the demo page, the bubble, a greeting, and the bot answering.
    await visitor.goto(`${t.url}/chat`);
    await visitor.locator('button.bubble').click();
    await expect.poll(() => visitor.locator('.panel .title').textContent()).toBe('Acme Support');
    await visitorSays('hello');
    await expect
      .poll(() => lastText('bot'), { timeout: 10_000 })
      .toMatch(/^您好！.*\nHello! Nice to meet you/s);
    await visitorSays('I want a human');
    await expect.poll(() => lastText('bot')).toMatch(/Connecting you to a human agent/);
    await expect.poll(() => visitor.locator('.status').textContent()).toMatch(/Waiting for an agent/);
    expect(await visitor.locator('li.msg.system').count()).toBe(0); // an agent is online: no notice

    // The console lists it in Queued without a reload.
    const item = agent.locator('.conv-item').first();
    await expect.poll(() => item.textContent(), { timeout: 10_000 }).toContain('I want a human');
    await item.click();
    await agent.getByRole('button', { name: 'Claim', exact: true }).click();
    await expect.poll(() => agent.locator('.conv-title .state').textContent()).toBe('agent');
    await expect
      .poll(() => visitor.locator('li.notice').last().textContent())
      .toBe('Agent alice joined the chat');

    await agent.locator('#reply-text').fill('Hi, this is Alice. How can I help?');
    await agent.locator('#reply-text').press('Enter');
    await expect
      .poll(() => lastText('agent'), { timeout: 10_000 })
      .toBe('Hi, this is Alice. How can I help?');
    // Both sides see who wrote it.
    expect(await widgetMessages('agent').last().locator('.who').textContent()).toBe('Agent alice');
    await expect.poll(() => agent.locator('li.msg-agent .role').last().textContent()).toBe('Agent alice');

    // While Alice owns it the bot stays silent; the console sees the visitor live.
    const botCount = await widgetMessages('bot').count();
    await visitorSays('my parcel never arrived');
    await expect
      .poll(() => agent.locator('li.msg-visitor').last().textContent(), { timeout: 10_000 })
      .toContain('my parcel never arrived');
    const conversationId = (await t.hub.store.listConversations({ states: ['agent'] }))[0]!.id;
    await eventually(
      async () => (await t.hub.store.listRuns({ conversationId, limit: 1 }))[0]?.status === 'silenced',
      'a silenced run',
    );
    await visitor.waitForTimeout(300);
    expect(await widgetMessages('bot').count()).toBe(botCount);

    // The run trace of a bot reply is one click away.
    await agent.locator('li.msg-bot details.trace-box summary').first().click();
    await expect.poll(() => agent.locator('.trace').first().textContent()).toContain('greetings');

    await screenshot(agent, 'console-desktop');
    await screenshot(visitor, 'widget-desktop');

    // Reload: the conversation comes back from the store, nothing doubled.
    await visitor.reload();
    await visitor.locator('button.bubble').click();
    await expect.poll(() => widgetMessages().count()).toBe(6);
    const ids = await widgetMessages().evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.id));
    expect(new Set(ids).size).toBe(ids.length);

    // Release: the bot is back.
    await agent.getByRole('button', { name: 'Release to bot' }).click();
    await expect
      .poll(() => visitor.locator('li.notice').last().textContent())
      .toBe('You are chatting with our assistant again.');
    await visitorSays('hi again');
    await expect.poll(() => lastText('bot'), { timeout: 10_000 }).toMatch(/Hello! Nice to meet you/);

    // The same visitor on a phone-sized screen.
    const phone = await visitorContext.newPage();
    errors.push(collectErrors(phone));
    await phone.setViewportSize(PHONE.viewport!);
    await phone.goto(`${t.url}/chat`);
    await phone.locator('button.bubble').click();
    await expect.poll(() => phone.locator('li.msg.agent').count()).toBe(1);
    const box = await phone.locator('.panel').boundingBox();
    expect(box).toMatchObject({ x: 0, y: 0, width: 390, height: 844 });
    await screenshot(phone, 'widget-phone');
    const consolePhone = await agentContext.newPage();
    errors.push(collectErrors(consolePhone));
    await consolePhone.setViewportSize(PHONE.viewport!);
    await consolePhone.goto(`${t.url}/console`);
    await consolePhone.getByRole('tab', { name: 'All' }).click();
    await consolePhone.locator('.conv-item').first().click();
    await consolePhone.locator('li.msg').first().waitFor();
    await screenshot(consolePhone, 'console-phone');

    const events = (await t.hub.store.listHandoffEvents(conversationId)).map((e) => `${e.type}:${e.actor}`);
    expect(events).toEqual(['queued:keyword', 'claimed:alice', 'released:alice']);
    expect(errors.flat()).toEqual([]);
  });
});
