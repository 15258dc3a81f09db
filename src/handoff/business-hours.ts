/**
 * Are agents at work? Evaluated in the configured IANA time zone with Intl (no clock maths on
 * offsets, so daylight-saving changes are handled by the platform's tz database).
 */
import type { BusinessHours } from '../config/hub-schema.ts';

const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
const formatters = new Map<string, Intl.DateTimeFormat>();

function localTime(timezone: string, at: Date): { day: number; minutes: number } {
  let f = formatters.get(timezone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(timezone, f);
  }
  const parts = Object.fromEntries(f.formatToParts(at).map((p) => [p.type, p.value]));
  const day = DAY_NAMES.indexOf(
    String(parts.weekday).toLowerCase().slice(0, 3) as (typeof DAY_NAMES)[number],
  );
  return { day, minutes: Number(parts.hour) * 60 + Number(parts.minute) };
}

const toMinutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/**
 * True when `at` falls inside the hours. A range whose `to` is not after `from` runs past
 * midnight and belongs to the day it starts on (fri 22:00–02:00 covers Saturday 01:00).
 * `from == to` means the whole day.
 */
export function isWithinHours(hours: BusinessHours | undefined, at: Date = new Date()): boolean {
  if (!hours) return true;
  const { day, minutes } = localTime(hours.timezone, at);
  const from = toMinutes(hours.from);
  const to = toMinutes(hours.to);
  const open = (d: number) => hours.days.includes(DAY_NAMES[(d + 7) % 7] as BusinessHours['days'][number]);
  if (from < to) return open(day) && minutes >= from && minutes < to;
  if (from === to) return open(day);
  // Overnight: the evening part of today's range, or the early part of yesterday's.
  return (open(day) && minutes >= from) || (open(day - 1) && minutes < to);
}
