/**
 * Which agents are online: every open console event stream heartbeats a member
 * `<agent id>|<connection id>` into one Redis sorted set, scored by time. An agent is online while
 * any of their connections heartbeated within the TTL, so a crashed ingress process stops counting
 * by itself. Workers read it to tell a visitor that nobody is there to take the chat.
 */
import type { Redis } from 'ioredis';
import { redisKey } from '../queue/names.ts';

/** How often a connection heartbeats; it counts as gone after three missed beats. */
export const PRESENCE_HEARTBEAT_MS = 10_000;

export class AgentPresence {
  private readonly key: string;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly ttlMs = PRESENCE_HEARTBEAT_MS * 3,
  ) {
    this.key = redisKey(prefix, 'agents', 'online');
  }

  /** Mark a connection alive (call on open and then every heartbeat). */
  async beat(agentId: string, connectionId: string): Promise<void> {
    const now = Date.now();
    await this.redis
      .multi()
      .zadd(this.key, now, `${agentId}|${connectionId}`)
      .zremrangebyscore(this.key, '-inf', now - this.ttlMs)
      .pexpire(this.key, this.ttlMs * 2)
      .exec();
  }

  async leave(agentId: string, connectionId: string): Promise<void> {
    await this.redis.zrem(this.key, `${agentId}|${connectionId}`);
  }

  /** Distinct agent ids with a live connection. */
  async online(): Promise<string[]> {
    const members = await this.redis.zrangebyscore(this.key, Date.now() - this.ttlMs, '+inf');
    return [...new Set(members.map((m) => m.slice(0, m.lastIndexOf('|'))))].sort();
  }
}
