/**
 * Redis Sentinel and Cluster options, from the environment to ioredis options. Neither can run on
 * this machine, so the option building is what is tested; the standalone path runs everywhere.
 */
import { describe, expect, it } from 'vitest';
import { readEnv } from '../../src/config/env.ts';
import {
  checkRedis,
  describeRedisTarget,
  planRedisConnection,
  redisTargetFromEnv,
} from '../../src/queue/connection.ts';

const worker = { enableOfflineQueue: true, maxRetriesPerRequest: null, retryStrategy: (n: number) => n * 10 };
const ingress = { enableOfflineQueue: false, maxRetriesPerRequest: 1 };

describe('Redis connection targets', () => {
  it('standalone by default: REDIS_URL as it is', () => {
    const target = redisTargetFromEnv(readEnv({}));
    expect(target).toEqual({ mode: 'standalone', url: 'redis://127.0.0.1:6379' });
    const plan = planRedisConnection(target, ingress);
    expect(plan).toEqual({ kind: 'redis', options: { host: '127.0.0.1', port: 6379, db: 0, ...ingress } });
  });

  it('Sentinel: asks the sentinels for the master; REDIS_URL supplies password, TLS and db', () => {
    const env = readEnv({
      REDIS_URL: 'rediss://app:s%40cret@ignored:6379/2',
      REDIS_SENTINELS: 'sentinel-0:26379, sentinel-1:26379,[::1]:26380',
      REDIS_SENTINEL_MASTER: 'hub',
      REDIS_SENTINEL_PASSWORD: 'sentinel-pass',
    });
    const target = redisTargetFromEnv(env);
    expect(target).toMatchObject({
      mode: 'sentinel',
      masterName: 'hub',
      sentinelPassword: 'sentinel-pass',
      sentinels: [
        { host: 'sentinel-0', port: 26379 },
        { host: 'sentinel-1', port: 26379 },
        { host: '::1', port: 26380 },
      ],
    });
    const plan = planRedisConnection(target, worker);
    expect(plan.kind).toBe('redis');
    const options = plan.options as Record<string, unknown>;
    expect(options).toMatchObject({
      name: 'hub',
      username: 'app',
      password: 's@cret',
      db: 2,
      tls: {},
      enableTLSForSentinelMode: true,
      sentinelPassword: 'sentinel-pass',
      enableOfflineQueue: true,
      maxRetriesPerRequest: null,
    });
    expect(options.host).toBeUndefined(); // the URL's host is not used: the sentinels name the master
    expect(typeof options.sentinelRetryStrategy).toBe('function');
    expect(describeRedisTarget(target)).toBe(
      'sentinel sentinel-0:26379,sentinel-1:26379,::1:26380 (master hub)',
    );
    expect(describeRedisTarget(target)).not.toContain('s@cret');
  });

  it('Cluster: seed nodes; role options split between the cluster and its node connections', () => {
    const env = readEnv({
      REDIS_URL: 'redis://:pw@ignored:6379',
      REDIS_CLUSTER_NODES: 'redis-0:6379,redis-1:6379',
    });
    const target = redisTargetFromEnv(env);
    expect(target).toMatchObject({
      mode: 'cluster',
      nodes: [
        { host: 'redis-0', port: 6379 },
        { host: 'redis-1', port: 6379 },
      ],
    });
    const plan = planRedisConnection(target, worker);
    if (plan.kind !== 'cluster') throw new Error('expected a cluster plan');
    expect(plan.nodes).toHaveLength(2);
    expect(plan.options.enableOfflineQueue).toBe(true);
    expect(plan.options.clusterRetryStrategy?.(3, new Error('x'))).toBe(30);
    // BullMQ needs maxRetriesPerRequest: null on every node connection of a worker.
    expect(plan.options.redisOptions).toEqual({ password: 'pw', maxRetriesPerRequest: null });
  });

  it('Cluster hash-tags QUEUE_PREFIX so each queue stays in one slot', () => {
    expect(readEnv({ REDIS_CLUSTER_NODES: 'r:6379' }).QUEUE_PREFIX).toBe('{sb}');
    expect(readEnv({ REDIS_CLUSTER_NODES: 'r:6379', QUEUE_PREFIX: 'shop' }).QUEUE_PREFIX).toBe('{shop}');
    expect(readEnv({ REDIS_CLUSTER_NODES: 'r:6379', QUEUE_PREFIX: '{shop}' }).QUEUE_PREFIX).toBe('{shop}');
    expect(readEnv({ QUEUE_PREFIX: 'shop' }).QUEUE_PREFIX).toBe('shop');
  });

  it('rejects what cannot work, with the variable named', () => {
    expect(() => redisTargetFromEnv(readEnv({ REDIS_SENTINELS: 'a:1', REDIS_CLUSTER_NODES: 'b:2' }))).toThrow(
      /not both/,
    );
    expect(() => redisTargetFromEnv(readEnv({ REDIS_CLUSTER_NODES: 'redis-0' }))).toThrow(
      /REDIS_CLUSTER_NODES: "redis-0" is not host:port/,
    );
    expect(() => redisTargetFromEnv(readEnv({ REDIS_SENTINELS: 's:99999' }))).toThrow(/REDIS_SENTINELS/);
    expect(() => redisTargetFromEnv(readEnv({ REDIS_SENTINELS: ' , ' }))).toThrow(/no host:port/);
  });

  it('an unreachable Sentinel fails the start check with one clear line, quickly', async () => {
    const target = redisTargetFromEnv(readEnv({ REDIS_SENTINELS: '127.0.0.1:1' }));
    const started = Date.now();
    await expect(checkRedis(target, 1000)).rejects.toThrow(
      /cannot reach Redis at sentinel 127\.0\.0\.1:1 \(master mymaster\)/,
    );
    expect(Date.now() - started).toBeLessThan(3000);
  });
});
