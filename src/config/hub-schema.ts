/**
 * Schema of `config/hub.yaml`. Defaults live here, so an almost empty file is a working hub.
 * Channel blocks are checked twice: here for `id`/`type`, then against the channel type's own
 * schema from the registry (see load-hub.ts), so a typo in a WeCom block points at its line.
 */
import { z } from 'zod';
import { sourcesConfigSchema } from '../ai/sources-config.ts';
import { durationSchema } from './duration.ts';

export const channelInstanceSchema = z.looseObject({
  id: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, 'channel id may use letters, digits, - and _ only (it becomes part of a URL)'),
  type: z.string().min(1),
  enabled: z.boolean().default(true),
});
export type ChannelInstanceConfig = z.infer<typeof channelInstanceSchema>;

export const queueConfigSchema = z
  .object({
    /**
     * Inbound and outbound work is split over this many partitions by conversation; a partition is
     * processed one job at a time, so this is also the number of conversations handled in parallel
     * per hub. Changing it re-maps conversations: drain the queues first.
     */
    partitions: z.number().int().min(1).max(256).default(16),
    /** How long a platform message id is remembered; must outlast every platform's retry window. */
    dedupeTtl: durationSchema.default(7 * 86_400_000),
    /** Attempts for running a workflow on one message before it is dead-lettered. */
    inboundAttempts: z.number().int().min(1).default(3),
    /** Attempts for one channel send before it is dead-lettered. */
    outboundAttempts: z.number().int().min(1).default(8),
    /** First retry delay; doubles each attempt. */
    backoff: durationSchema.default(1000),
    /**
     * Longest a reply waits for an earlier reply of its conversation that is being retried, so
     * replies arrive in order; past it the reply goes anyway. 0 turns the wait off.
     */
    outboundOrderHold: durationSchema.default(300_000),
    /** A job whose worker stops renewing its lock this long is taken over (crash recovery). */
    lockDuration: durationSchema.default(30_000),
    /** A worker process that stops renewing its partition lease this long loses the partition. */
    partitionLease: durationSchema.default(15_000),
    /** Finished jobs are kept this long for inspection, then removed (dedupe does not rely on them). */
    keepCompleted: durationSchema.default(3_600_000),
    keepFailed: durationSchema.default(7 * 86_400_000),
  })
  .prefault({});

export const workflowsConfigSchema = z
  .object({
    /** Directory of workflow files, relative to the config directory. */
    dir: z.string().default('workflows'),
    /** Default timeout of one step. */
    stepTimeout: durationSchema.default(10_000),
    /** Timeout of a whole run. */
    runTimeout: durationSchema.default(60_000),
  })
  .prefault({});

export const repliesConfigSchema = z
  .object({
    /** Sent when a message could not be handled after every retry: the visitor never meets silence. */
    apology: z.string().default('抱歉，系统暂时出了点问题，请稍后再试。Sorry, something went wrong on our side — please try again shortly.'),
    /** Sent when a conversation is handed to a human (a handoff step may override it). */
    handoff: z.string().default('正在为您转接人工客服，请稍候。Connecting you to a human agent, please wait.'),
  })
  .prefault({});

export const webChatConfigSchema = z
  .object({
    /** Longest accepted message text, in characters. */
    maxTextLength: z.number().int().min(1).default(4000),
    /** Default and maximum wait of `send` with `wait: true`. */
    waitTimeout: durationSchema.default(10_000),
    maxWaitTimeout: durationSchema.default(60_000),
  })
  .prefault({});

export const breakerConfigSchema = z
  .object({
    /** Consecutive failures that open a circuit. */
    consecutiveFailures: z.number().int().min(1).default(5),
    /** How long an open circuit waits before letting one trial call through (half-open). */
    halfOpenAfter: durationSchema.default(30_000),
  })
  .prefault({});

const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
const clockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'use HH:MM, 24-hour clock');

/** Business hours for agents; outside them a hand-off stays queued and the visitor is told so. */
export const businessHoursSchema = z.object({
  /** IANA time zone the hours are in, e.g. Asia/Shanghai. */
  timezone: z.string().refine(
    (tz) => {
      try {
        new Intl.DateTimeFormat('en-US', { timeZone: tz });
        return true;
      } catch {
        return false;
      }
    },
    { message: 'unknown time zone (use an IANA name such as Asia/Shanghai or UTC)' },
  ),
  days: z.array(z.enum(WEEKDAYS)).min(1).default(['mon', 'tue', 'wed', 'thu', 'fri']),
  /** Opening time; with `to` earlier than `from` the hours run past midnight into the next day. */
  from: clockTime,
  to: clockTime,
});
export type BusinessHours = z.infer<typeof businessHoursSchema>;

export const handoffConfigSchema = z
  .object({
    /**
     * A visitor message containing one of these asks for a human, before any workflow runs.
     * Latin words match whole words, case-insensitively ("agent" does not match "agenda");
     * other text (Chinese) matches anywhere in the message. Empty list: off.
     */
    keywords: z.array(z.string().trim().min(1)).default(['人工', '转人工', 'human', 'agent']),
    /** Agent queue of keyword hand-offs. */
    keywordQueue: z.string().min(1).default('default'),
    /**
     * Repeated low confidence: after `runs` consecutive workflow runs whose confidence is below
     * `threshold`, the conversation is handed off. A run's confidence is `vars.confidence` when the
     * workflow set it to a number, else the last top-level step output carrying a numeric
     * `confidence`, `score` or `top.score`. A run without any such number breaks the streak.
     * `runs: 0` turns it off.
     */
    lowConfidence: z
      .object({
        runs: z.number().int().min(0).default(0),
        threshold: z.number().min(0).default(0.5),
        queue: z.string().min(1).default('default'),
      })
      .prefault({}),
    /** Agent working hours; unset: always open. */
    hours: businessHoursSchema.optional(),
    /** An agent-owned conversation with no message either way for this long returns to the bot; 0: never. */
    idleTimeout: durationSchema.default(30 * 60_000),
    /**
     * A queued conversation no agent claimed for this long returns to the bot, and the visitor
     * gets `messages.queueTimeout`; 0 (the default): it waits for an agent however long it takes.
     */
    queueTimeout: durationSchema.default(0),
    /** How often the idle and queue-timeout checks run. */
    idleCheckEvery: durationSchema.default(30_000),
    /** How long a console login lasts. */
    sessionTtl: durationSchema.default(12 * 3_600_000),
    messages: z
      .object({
        /** Added to the hand-off reply outside `hours`. */
        outOfHours: z
          .string()
          .default(
            '现在是非工作时间，客服上班后会第一时间回复您。Our agents are away right now; we will answer as soon as we are back.',
          ),
        /** Added to the hand-off reply when no agent has the console open. */
        noAgentOnline: z
          .string()
          .default(
            '暂时没有在线的客服，请留言，我们会尽快回复。No agent is online right now; leave a message and we will get back to you.',
          ),
        /** Sent when a queued conversation returns to the bot after `queueTimeout`. */
        queueTimeout: z
          .string()
          .default(
            '抱歉，客服暂时无法接入，已为您转回智能助手；稍后可再次输入“人工”。Sorry, no agent could take your chat in time; the assistant is back — type "human" to try again later.',
          ),
      })
      .prefault({}),
  })
  .prefault({});
export type HandoffConfig = z.infer<typeof handoffConfigSchema>;

export const hubConfigSchema = z.object({
  channels: z.array(channelInstanceSchema).default([{ id: 'web', type: 'web', enabled: true }]),
  queue: queueConfigSchema,
  workflows: workflowsConfigSchema,
  replies: repliesConfigSchema,
  webChat: webChatConfigSchema,
  breaker: breakerConfigSchema,
  handoff: handoffConfigSchema,
  /** Sources used by workflow steps (kb, dify, llm, orders, http); see docs/ai-sources.md. */
  sources: sourcesConfigSchema,
});

export type HubConfig = z.infer<typeof hubConfigSchema>;
export type QueueConfig = HubConfig['queue'];
export type WebChatConfig = HubConfig['webChat'];
