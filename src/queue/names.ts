/**
 * Queue names and partitioning. Every conversation maps to one partition; each partition is a
 * BullMQ queue processed one job at a time, which is how messages of one conversation keep their
 * arrival order while different conversations run in parallel (BullMQ's open-source edition has
 * no job groups). See docs/architecture.md.
 */
import { createHash } from 'node:crypto';

export const DEAD_LETTER_QUEUE = 'dead-letter';

export function inboundQueueName(partition: number): string {
  return `inbound-${partition}`;
}

export function outboundQueueName(partition: number): string {
  return `outbound-${partition}`;
}

/** Stable partition of a conversation: the same id always lands in the same partition. */
export function partitionOf(conversationId: string, partitions: number): number {
  const digest = createHash('sha1').update(conversationId).digest();
  return digest.readUInt32BE(0) % partitions;
}

/** Every Redis key the hub writes outside BullMQ starts with `${prefix}:`. */
export function redisKey(prefix: string, ...parts: string[]): string {
  return [prefix, ...parts].join(':');
}
