import type { Db } from '../knex.js';
import type { ReviewItem, Reviewer } from '../../domain/review/assignment.js';
import type { ReviewSubject } from './review.subjects.js';
import type { ReviewItemKind, ReviewSubjectKind } from '../../domain/review/subjects.js';
import { inChunks } from '../chunks.js';

/** An active expert as stored (name and email are for the invitation only). */
export interface ExpertRow {
  id: string;
  name_zh: string;
  email: string;
  fields: string[];
  institution_id: string | null;
  enterprise_id: string | null;
}

/** Assignment statuses in which an expert still owes a score. */
export const OPEN_ASSIGNMENT = ['invited', 'accepted'];

function groupBy<T>(rows: readonly T[], key: (row: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const row of rows) {
    const k = key(row);
    const list = groups.get(k);
    if (list) list.push(row);
    else groups.set(k, [row]);
  }
  return groups;
}

/** Expert ids for the names an applicant asked to avoid (names can repeat: every match is avoided). */
function avoidedIds(avoid: unknown, experts: ExpertRow[]): string[] {
  const names = new Set(Array.isArray(avoid) ? avoid.filter((n): n is string => typeof n === 'string') : []);
  return experts.filter((e) => names.has(e.name_zh)).map((e) => e.id);
}

/** The active experts in id order, and the same as assignment reviewers with their declared conflicts. */
export async function reviewerPool(trx: Db): Promise<{ experts: ExpertRow[]; reviewers: Reviewer[] }> {
  const experts = await trx('experts')
    .where({ active: true })
    .orderBy('id')
    .select<ExpertRow[]>('id', 'name_zh', 'email', 'fields', 'institution_id', 'enterprise_id');
  const conflicts = await trx('expert_conflicts').select<
    { expert_id: string; institution_id: string | null; enterprise_id: string | null }[]
  >('expert_id', 'institution_id', 'enterprise_id');
  const conflictsOf = groupBy(conflicts, (c) => c.expert_id);
  const reviewers = experts.map((e) => {
    const own = conflictsOf.get(e.id) ?? [];
    return {
      id: e.id,
      fields: e.fields,
      institutionId: e.institution_id,
      enterpriseId: e.enterprise_id,
      conflictInstitutionIds: own.flatMap((c) => (c.institution_id ? [c.institution_id] : [])),
      conflictEnterpriseIds: own.flatMap((c) => (c.enterprise_id ? [c.enterprise_id] : [])),
    };
  });
  return { experts, reviewers };
}

/**
 * The items under review (applications, reports) as assignment items needing `need` experts each, with
 * everything 回避 needs: the named items, else every item ready for review, in id order.
 */
export async function reviewItems(
  trx: Db,
  subject: ReviewSubject,
  need: number,
  experts: ExpertRow[],
  ids?: string[],
): Promise<ReviewItem[]> {
  const rows = await trx('review_item_sources as s')
    .where({ 's.subject_kind': subject.kind, 's.subject_id': subject.id })
    .modify((q) => {
      if (ids) void q.whereIn('s.item_id', ids);
      else void q.where('s.ready', true);
    })
    .orderBy('s.item_id')
    .select<
      {
        item_id: string;
        field_key: string | null;
        institution_id: string;
        parent_institution_id: string | null;
        application_id: string | null;
        avoid_experts: unknown;
      }[]
    >('s.item_id', 's.field_key', 's.institution_id', 's.parent_institution_id', 's.application_id', 's.avoid_experts');
  const partners = await trx('application_partners')
    .whereIn(
      'application_id',
      rows.flatMap((r) => (r.application_id ? [r.application_id] : [])),
    )
    .select<{ application_id: string; enterprise_id: string }[]>('application_id', 'enterprise_id');
  const partnersOf = groupBy(partners, (p) => p.application_id);
  return rows.map((r) => ({
    id: r.item_id,
    field: r.field_key ?? '',
    need,
    institutionIds: r.parent_institution_id ? [r.institution_id, r.parent_institution_id] : [r.institution_id],
    enterpriseIds: r.application_id ? (partnersOf.get(r.application_id) ?? []).map((p) => p.enterprise_id) : [],
    avoidExpertIds: avoidedIds(r.avoid_experts, experts),
  }));
}

/** A review as stored, with the parameters fixed when it was created. */
export interface ReviewRow {
  id: string;
  subject_kind: ReviewSubjectKind;
  subject_id: string;
  programme: string;
  experts_per_item: number;
  min_valid_scores: number;
  quota: number | null;
}

export function findReview(db: Db, reviewId: string) {
  return db('reviews').where({ id: reviewId }).first<ReviewRow | undefined>();
}

/** A review's status (`blocked` while its assignment waits for a larger pool) and its workflow's id. */
export async function reviewStatus(
  db: Db,
  reviewId: string,
): Promise<{ id: string; status: string; workflowId: string } | undefined> {
  const row = await db('reviews')
    .where({ id: reviewId })
    .first<{ id: string; status: string; workflow_id: string } | undefined>('id', 'status', 'workflow_id');
  return row ? { id: row.id, status: row.status, workflowId: row.workflow_id } : undefined;
}

/** Creates the review of a subject (once: a second call keeps the first); returns its id. */
export async function ensureReview(db: Db, subject: ReviewSubject, workflowId: string): Promise<string> {
  await db('reviews')
    .insert({
      subject_kind: subject.kind,
      subject_id: subject.id,
      programme: subject.programme.key,
      rubric: JSON.stringify(subject.rubric),
      experts_per_item: subject.review.expertsPerApplication,
      min_valid_scores: subject.review.minValidScores,
      quota: subject.quota ?? null,
      status: 'assigning',
      workflow_id: workflowId,
    })
    .onConflict(['subject_kind', 'subject_id'])
    .ignore();
  const { id } = await db('reviews')
    .where({ subject_kind: subject.kind, subject_id: subject.id })
    .first<{ id: string }>('id');
  return id;
}

/** Sets a review's status ('empty', 'blocked' with its reason, 'reviewing', 'completed'). */
export async function setReviewStatus(trx: Db, reviewId: string, status: string, reason?: string | null) {
  await trx('reviews')
    .where({ id: reviewId })
    .update({ status, ...(reason !== undefined ? { status_reason: reason } : {}) });
}

/** How many first assignments (wave 0) a review holds. */
export async function countFirstAssignments(trx: Db, reviewId: string): Promise<number> {
  const n = await trx('review_assignments').where({ review_id: reviewId, wave: 0 }).count<{ n: number }[]>('* as n');
  return Number(n[0]!.n);
}

/** A due group of a review: the day (YYYY-MM-DD) and instant its assignments are due. */
export interface Due {
  dueDay: string;
  dueAt: Date;
}

/** Stores the first assignments (wave 0), invited and due together, in chunks of 1000. */
export async function insertFirstAssignments(
  trx: Db,
  r: { reviewId: string; itemKind: ReviewItemKind; due: Due },
  assignments: readonly { itemId: string; expertId: string }[],
): Promise<void> {
  await inChunks(assignments, (chunk) =>
    trx('review_assignments').insert(
      chunk.map((a) => ({
        review_id: r.reviewId,
        item_kind: r.itemKind,
        item_id: a.itemId,
        expert_id: a.expertId,
        status: 'invited',
        due_at: r.due.dueAt,
        due_day: r.due.dueDay,
        wave: 0,
      })),
    ),
  );
}

/** An assignment as the replacement logic weighs it. */
export interface AssignmentLoad {
  item_id: string;
  expert_id: string;
  status: string;
  wave: number;
  replaces_assignment_id: string | null;
}

/** Every assignment of a review (all waves). */
export function assignmentsOf(trx: Db, reviewId: string): Promise<AssignmentLoad[]> {
  return trx('review_assignments')
    .where({ review_id: reviewId })
    .select<AssignmentLoad[]>('item_id', 'expert_id', 'status', 'wave', 'replaces_assignment_id');
}

/** Stores a replacement (wave 1) for a lost first assignment; returns its id. */
export async function insertReplacement(
  trx: Db,
  r: { reviewId: string; itemKind: ReviewItemKind; itemId: string; expertId: string; replaces: string; due: Due },
): Promise<string> {
  const [row] = await trx('review_assignments')
    .insert({
      review_id: r.reviewId,
      item_kind: r.itemKind,
      item_id: r.itemId,
      expert_id: r.expertId,
      status: 'invited',
      due_at: r.due.dueAt,
      due_day: r.due.dueDay,
      wave: 1,
      replaces_assignment_id: r.replaces,
    })
    .returning<{ id: string }[]>('id');
  return row!.id;
}

/** A first assignment lost to a decline or a timeout. */
export interface LostAssignment {
  id: string;
  item_id: string;
  expert_id: string;
  status: string;
}

/** Times out, at `at`, the assignments of a due day still open; returns those timed out now. */
export function timeOutOpenAssignments(trx: Db, reviewId: string, dueDay: string, at: Date) {
  return trx('review_assignments')
    .where({ review_id: reviewId, due_day: dueDay })
    .whereIn('status', OPEN_ASSIGNMENT)
    .update({ status: 'timed_out', closed_at: at })
    .returning<(LostAssignment & { wave: number })[]>(['id', 'item_id', 'expert_id', 'status', 'wave']);
}

/** First assignments of a review in a status ('declined', 'timed_out'), optionally of one due day. */
export function lostFirstAssignments(
  db: Db,
  reviewId: string,
  status: 'declined' | 'timed_out',
  dueDay?: string,
): Promise<LostAssignment[]> {
  return db('review_assignments')
    .where({ review_id: reviewId, status, wave: 0, ...(dueDay ? { due_day: dueDay } : {}) })
    .select<LostAssignment[]>('id', 'item_id', 'expert_id', 'status');
}

/** An expert with how many of the selected assignments they hold. */
export interface ExpertHolding {
  id: string;
  name_zh: string;
  email: string;
  n: number;
}

/**
 * The experts holding a review's assignments — first assignments (`wave: 0`), or those of a due day still
 * open — with how many each holds; page it by `e.id` (`page` of activities/mailing.ts).
 */
export function expertsHolding(
  db: Db,
  which: { reviewId: string; firstOnly: true } | { reviewId: string; openDueDay: string },
) {
  const q = db('review_assignments as ra')
    .join('experts as e', 'e.id', 'ra.expert_id')
    .where('ra.review_id', which.reviewId)
    .groupBy('e.id', 'e.name_zh', 'e.email');
  if ('firstOnly' in which) void q.where('ra.wave', 0);
  else void q.where('ra.due_day', which.openDueDay).whereIn('ra.status', OPEN_ASSIGNMENT);
  return q.select<ExpertHolding[]>('e.id', 'e.name_zh', 'e.email', db.raw('count(*)::int as n'));
}
