import type { TimeCompression } from '../../domain/compressed-time.js';
import type { Knex } from 'knex';
import type { Db } from '../knex.js';
import { COUNTED_STATUSES } from '../../domain/applications.js';
import type { RoundRuleOverrides } from '../../domain/programmes.js';
import { currentRulesVersion } from './programmes.js';

export interface RoundRow {
  id: string;
  programme: string;
  year: number;
  titleZh: string;
  status: string;
  opensAt: Date;
  deadlineDay: string | null;
  deadlineAt: Date | null;
  deadlineEstimated: boolean | null;
  calendarVersion: number | null;
  timeScale: number | null;
  launchedBy: string;
  launchedAt: Date;
  closedAt: Date | null;
  cancelledReason: string | null;
  graceSeconds: number;
  /** The version of the programme's rules the round was launched under and applies (`reference_versions`). */
  rulesVersion: number;
  /** The round's own adjustments of that version, given at launch (`rounds.config`; empty: none). */
  ruleAdjustments: RoundRuleOverrides;
}

interface RawRound {
  id: string;
  programme: string;
  year: number;
  title_zh: string;
  status: string;
  opens_at: Date;
  deadline_day: string | null;
  deadline_at: Date | null;
  deadline_estimated: boolean | null;
  calendar_version: number | null;
  time_scale: number | null;
  launched_by: string;
  launched_at: Date;
  closed_at: Date | null;
  cancelled_reason: string | null;
  grace_seconds: number;
  rules_version: number;
  config: RoundRuleOverrides | null;
}

function toRound(r: RawRound): RoundRow {
  return {
    id: r.id,
    programme: r.programme,
    year: r.year,
    titleZh: r.title_zh,
    status: r.status,
    opensAt: r.opens_at,
    deadlineDay: r.deadline_day,
    deadlineAt: r.deadline_at,
    deadlineEstimated: r.deadline_estimated,
    calendarVersion: r.calendar_version,
    timeScale: r.time_scale,
    launchedBy: r.launched_by,
    launchedAt: r.launched_at,
    closedAt: r.closed_at,
    cancelledReason: r.cancelled_reason,
    graceSeconds: r.grace_seconds,
    rulesVersion: r.rules_version,
    ruleAdjustments: r.config ?? {},
  };
}

export interface NewRound {
  id: string;
  programme: string;
  year: number;
  titleZh: string;
  opensAt: Date;
  deadlineDay?: string | undefined;
  timeScale?: number | undefined;
  launchedBy: string;
  config?: RoundRuleOverrides | undefined;
  graceSeconds?: number | undefined;
  /** The launch instant; for a compressed round it is the compression's origin. Default: now. */
  launchedAt?: Date | undefined;
}

export class RoundExistsError extends Error {
  override name = 'RoundExistsError';
}

/**
 * The round's row. `rules_version` is the programme's current rules version, read in the same statement: the round
 * keeps it whatever is changed later (issue 16, `reference_versions`).
 */
function roundRecord(db: Db, round: NewRound) {
  return {
    id: round.id,
    programme: round.programme,
    rules_version: currentRulesVersion(db, round.programme),
    year: round.year,
    title_zh: round.titleZh,
    status: 'launched',
    opens_at: round.opensAt,
    deadline_day: round.deadlineDay ?? null,
    deadline_at: null,
    deadline_estimated: null,
    calendar_version: null,
    deadline_source: null,
    time_scale: round.timeScale ?? null,
    launched_by: round.launchedBy,
    launched_at: round.launchedAt ?? new Date(),
    config: JSON.stringify(round.config ?? {}),
    grace_seconds: round.graceSeconds ?? 600,
    cancelled_reason: null,
    closed_at: null,
  };
}

/**
 * The row that makes (programme, year) unique for good. A round cancelled as launched by mistake may be
 * launched again: its row is reused (the cancellation stays in the audit trail); any other existing round
 * refuses the launch.
 */
export async function insertRound(db: Db, round: NewRound): Promise<void> {
  const record = roundRecord(db, round);
  const replaced = await db('rounds')
    .insert(record)
    .onConflict('id')
    .merge()
    .where('rounds.status', 'cancelled')
    .returning('id');
  if (replaced.length === 0) throw new RoundExistsError(`${round.programme} ${round.year}`);
}

export async function insertRoundIfMissing(db: Db, round: NewRound): Promise<void> {
  await db('rounds').insert(roundRecord(db, round)).onConflict('id').ignore();
}

/**
 * The time compression a round runs under (`domain/compressed-time.ts`): its time scale counted from its launch,
 * or `undefined` for real time. Rounds launched before the launch instant was stored as the origin carry an
 * origin some milliseconds late; compression is for demos and tests only.
 */
export function roundCompression(round: RoundRow): TimeCompression | undefined {
  return round.timeScale && round.timeScale !== 1
    ? { origin: round.launchedAt.toISOString(), scale: round.timeScale }
    : undefined;
}

export async function findRound(db: Db, id: string): Promise<RoundRow | undefined> {
  const row = (await db('rounds').where({ id }).first()) as RawRound | undefined;
  return row ? toRound(row) : undefined;
}

export async function updateRoundStatus(db: Db, id: string, status: string, closedAt?: Date): Promise<void> {
  await db('rounds')
    .where({ id })
    .update({ status, ...(closedAt ? { closed_at: closedAt } : {}) });
}

/** The deadline as stored on the round: 24:00 Asia/Shanghai on `day`, with the calendar version behind it. */
export interface StoredDeadline {
  day: string;
  at: Date;
  estimated: boolean;
  calendarVersion: number;
  source: 'calendar' | 'staff';
}

export async function storeDeadline(db: Db, roundId: string, d: StoredDeadline): Promise<void> {
  await db('rounds').where({ id: roundId }).update({
    deadline_day: d.day,
    deadline_at: d.at,
    deadline_estimated: d.estimated,
    calendar_version: d.calendarVersion,
    deadline_source: d.source,
  });
}

/** Cancels the round at `at` with its reason, and every application in it. */
export async function cancelRound(trx: Db, roundId: string, reason: string, at: Date): Promise<void> {
  await trx('rounds').where({ id: roundId }).update({ status: 'cancelled', cancelled_reason: reason, closed_at: at });
  await trx('applications').where({ round_id: roundId }).update({ status: 'cancelled', updated_at: trx.fn.now() });
}

/**
 * Institutions (aliased `i`) of the applicant kinds a programme accepts that no bar keeps out on `openDay`
 * (a bar on a college's university keeps the college out too).
 */
export function eligibleInstitutions(
  db: Db,
  q: { programme: string; applicantKinds: readonly string[]; openDay: string },
): Knex.QueryBuilder {
  return db('institutions as i')
    .whereIn('i.kind', q.applicantKinds)
    .whereNotExists(
      db('bans as b')
        .where('b.programme', q.programme)
        .where('b.starts_on', '<=', q.openDay)
        .where('b.ends_on', '>', q.openDay)
        .where((w) => w.whereRaw('b.institution_id = i.id').orWhereRaw('b.institution_id = i.parent_id')),
    );
}

/** Narrows institutions (aliased `i`) to those with no application of the round handed in and counted. */
export function withoutSubmission(db: Db, institutions: Knex.QueryBuilder, roundId: string): Knex.QueryBuilder {
  return institutions.whereNotExists(
    db('applications as a')
      .whereRaw('a.institution_id = i.id')
      .where('a.round_id', roundId)
      .whereIn('a.status', COUNTED_STATUSES),
  );
}

/** An institution as a round's emails address it. */
export interface InstitutionContact {
  id: string;
  name_zh: string;
  contact_email: string;
}

/** The contacts of the institutions (aliased `i`); page it by `i.id`. */
export function contactsOf(institutions: Knex.QueryBuilder) {
  return institutions.select<InstitutionContact[]>('i.id', 'i.name_zh', 'i.contact_email');
}

/** How many institutions the query (aliased `i`) selects. */
export async function countInstitutions(institutions: Knex.QueryBuilder): Promise<number> {
  const [{ count }] = (await institutions.count('* as count')) as [{ count: number }];
  return Number(count);
}
