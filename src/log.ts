/**
 * Structured JSON logs (pino). Every line about a message carries its `traceId`, so one
 * `grep traceId` follows a message from ingress through the workflow to delivery.
 */
import { type Logger, pino } from 'pino';

export type { Logger } from 'pino';

export function createLogger(level: string = process.env.LOG_LEVEL ?? 'info', name = 'switchboard'): Logger {
  return pino({
    name,
    level,
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  });
}

/** A logger that writes nothing (tests, dry runs). */
export const silentLogger: Logger = pino({ level: 'silent' });
