/**
 * The exported TOP API client against a fake TOP gateway on 127.0.0.1 that checks the signature
 * with its own implementation: order lookup by trade id and by buyer nick, 19-digit ids intact,
 * error_response mapped to TopApiError with retry semantics.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TopApiError, TopClient } from '../../../src/channels/taobao/index.ts';
import { FakeTopGateway, gmt8 } from '../../fakes/taobao-top.ts';
import { APP_KEY, APP_SECRET, adapter, redisEnv } from './helpers.ts';

const SESSION = '6100a2b3c4d5e6f7shop-session';
const gateway = new FakeTopGateway(APP_KEY, APP_SECRET, SESSION, [
  {
    tid: '3982135211234567890',
    buyer_nick: 't**1',
    status: 'WAIT_SELLER_SEND_GOODS',
    payment: '128.00',
    title: '保温杯 500ml',
  },
  {
    tid: '3982135211234567891',
    buyer_nick: 't**1',
    status: 'TRADE_FINISHED',
    payment: '59.00',
    title: '杯套',
  },
  { tid: '3982135211234567892', buyer_nick: 'other', status: 'TRADE_FINISHED', payment: '1.00', title: 'x' },
]);
const env = redisEnv();
beforeAll(() => gateway.start());
afterAll(async () => {
  await gateway.close();
  await env.cleanup();
});

const client = (over: Partial<ConstructorParameters<typeof TopClient>[0]> = {}) =>
  new TopClient({
    appKey: APP_KEY,
    appSecret: APP_SECRET,
    gateway: `${gateway.baseUrl}/router/rest`,
    ...over,
  });

describe('TopClient', () => {
  it('looks a trade up by id, with the 19-digit tid intact', async () => {
    const trade = await client().getTrade('3982135211234567890', SESSION);
    expect(trade).toMatchObject({
      tid: '3982135211234567890',
      status: 'WAIT_SELLER_SEND_GOODS',
      payment: '128.00',
    });
    expect(trade?.orders?.order?.[0]?.title).toBe('保温杯 500ml');
  });

  it('sends the documented common parameters, signed (the gateway checks with its own code)', async () => {
    const at = new Date('2024-05-01T04:00:00Z');
    await client({ now: () => at, signMethod: 'md5' }).getTrade('3982135211234567890', SESSION);
    expect(gateway.calls.at(-1)).toMatchObject({
      method: 'taobao.trade.fullinfo.get',
      app_key: APP_KEY,
      session: SESSION,
      timestamp: gmt8(at),
      format: 'json',
      v: '2.0',
      sign_method: 'md5',
      tid: '3982135211234567890',
      sign: expect.stringMatching(/^[0-9A-F]{32}$/),
    });
  });

  it("lists a buyer's trades (the order lookup by buyer nick)", async () => {
    const res = await client().listTradesByBuyer('t**1', SESSION);
    expect(res.total).toBe(2);
    expect(res.trades.map((t) => t.tid)).toEqual(['3982135211234567890', '3982135211234567891']);
  });

  it('works with every sign method', async () => {
    for (const signMethod of ['md5', 'hmac', 'hmac-sha256'] as const) {
      await expect(client({ signMethod }).getTrade('3982135211234567891', SESSION)).resolves.toMatchObject({
        status: 'TRADE_FINISHED',
      });
    }
  });

  it('maps error_response: a wrong secret is "Invalid signature", not retryable', async () => {
    const err = await client({ appSecret: 'wrong' })
      .getTrade('1', SESSION)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TopApiError);
    expect(err).toMatchObject({ code: 25, retryable: false });
  });

  it('a bad session and a missing trade are not retryable; call limits and isp errors are', async () => {
    await expect(client().getTrade('1', 'expired-session')).rejects.toMatchObject({
      code: 27,
      retryable: false,
    });
    await expect(client().getTrade('404', SESSION)).rejects.toMatchObject({
      code: 15,
      subCode: 'isv.trade-not-exist',
      retryable: false,
    });
    gateway.failNextCode = { code: 7, msg: 'App Call Limited' };
    await expect(client().getTrade('3982135211234567890', SESSION)).rejects.toMatchObject({
      code: 7,
      retryable: true,
    });
    gateway.failNextCode = {
      code: 15,
      msg: 'Remote service error',
      sub_code: 'isp.top-remote-connection-timeout',
    };
    await expect(client().getTrade('3982135211234567890', SESSION)).rejects.toMatchObject({
      retryable: true,
    });
  });

  it('an unreachable gateway is a retryable transport error', async () => {
    await expect(
      client({ gateway: 'http://127.0.0.1:9/router/rest' }).getTrade('1', SESSION),
    ).rejects.toMatchObject({ code: -1, retryable: true });
  });

  it('the adapter exposes a client configured for its app and gateway', async () => {
    const tb = adapter(env, { topGateway: `${gateway.baseUrl}/router/rest`, tmc: { enabled: false } });
    await expect(tb.top.getTrade('3982135211234567890', SESSION)).resolves.toMatchObject({
      payment: '128.00',
    });
  });
});
