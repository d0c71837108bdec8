import type { Db } from '../db/knex.js';
import type { CalendarRepository } from '../db/repositories/calendar.js';
import type { Outbox } from '../mail/outbox.js';
import type { AttachmentStore } from '../storage/attachments.js';
import type { Logger } from '../platform/logger.js';

/** A source of "now" for bookkeeping. Business time (deadlines, receipts) comes from the workflow instead. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

export interface ActivityDeps {
  db: Db;
  outbox: Outbox;
  calendar: CalendarRepository;
  attachments: AttachmentStore;
  clock: Clock;
  /** Where notices to staff go. */
  staffEmail: string;
  logger: Logger;
}
