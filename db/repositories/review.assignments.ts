import type { Db } from '../knex.js';
import type { ReviewItem, Reviewer } from '../../domain/review/assignment.js';
import type { ReviewSubject } from './review.subjects.js';
import type { ReviewItemKind, ReviewSubjectKind } from '../../domain/review/subjects.js';
import { inChunks } from '../chunks.js';
import { avoidedExpertIds, type AvoidCandidate } from '../../domain/people.js';

/** An active expert as stored (name and email are for the invitation only), with the names of their units. */
export interface ExpertRow {
  id: string;
  name_zh: string;
  email: string;
  fields: string[];
  institution_id: string | null;
  enterprise_id: string | null;
  /** The university of `institution_id` (itself, or the parent of a college). */
  university_id: string | null;
  institution_name: string | null;
  university_name: string | null;
  enterprise_name: string | null;
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

/** Experts as the avoid list matches them: by name, told apart by the names of their units. */
export function avoidCandidates(experts: readonly ExpertRow[]): AvoidCandidate[] {
  return experts.map((e) => ({
    id: e.id,
    name: e.name_zh,
    unitNames: [e.institution_name, e.university_name, e.enterprise_name].filter((n): n is string => !!n),
  }));
}

/** An avoid list as written (`avoidExperts` of a draft, as JSON): anything but an array of strings is none. */
export function writtenAvoidList(entries: unknown): string[] {
  return Array.isArray(entries) ? entries.filter((n): n is string => typeof n === 'string') : [];
}

/**
 * The expert ids an avoid list keeps away: those its entries resolved to when it was saved (`resolved`), or —
 * when none were recorded (NULL: a version submitted before versions kept them; or the empty list of a draft
 * saved before entries were resolved while its entries name someone) — every expert of `pool` its entries name
 * (`avoidedExpertIds`, namesakes included: 回避 errs on the side of keeping away).
 * @param entries the list as written (`writtenAvoidList`).
 */
export function avoidListIds(
  entries: unknown,
  resolved: readonly string[] | null,
  pool: readonly AvoidCandidate[],
): string[] {
  const written = writtenAvoidList(entries);
  if (resolved && (resolved.length > 0 || written.length === 0)) return [...resolved];
  return avoidedExpertIds(written, pool);
}

/** The active experts in id order, with their units' names (the avoid list tells namesakes apart by unit). */
export function activeExperts(trx: Db): Promise<ExpertRow[]> {
  return trx('experts as e')
    .leftJoin('institutions as i', 'i.id', 'e.institution_id')
    .leftJoin('institutions as u', 'u.id', trx.raw('coalesce(i.parent_id, i.id)'))
    .leftJoin('enterprises as x', 'x.id', 'e.enterprise_id')
    .where('e.active', true)
    .orderBy('e.id')
    .select<ExpertRow[]>(
      'e.id',
      'e.name_zh',
      'e.email',
      'e.fields',
      'e.institution_id',
      'e.enterprise_id',
      'u.id as university_id',
      'i.name_zh as institution_name',
      'u.name_zh as university_name',
      'x.name_zh as enterprise_name',
    );
}

/**
 * The active experts in id order, and the same as assignment reviewers with their conflicts (every source:
 * declared in the pool, recorded by a decline, entered by staff), each institution's with its university
 * (`conflictUniversityIds`: a conflict with a university or any of its colleges covers the whole university).
 */
export async function reviewerPool(trx: Db): Promise<{ experts: ExpertRow[]; reviewers: Reviewer[] }> {
  const experts = await activeExperts(trx);
  const conflicts = await trx('expert_conflicts as c').leftJoin('institutions as i', 'i.id', 'c.institution_id').select<
    {
      expert_id: string;
      institution_id: string | null;
      university_id: string | null;
      enterprise_id: string | null;
    }[]
  >('c.expert_id', 'c.institution_id', trx.raw('coalesce(i.parent_id, i.id) as university_id'), 'c.enterprise_id');
  const conflictsOf = groupBy(conflicts, (c) => c.expert_id);
  const reviewers = experts.map((e) => {
    const own = conflictsOf.get(e.id) ?? [];
    return {
      id: e.id,
      fields: e.fields,
      institutionId: e.institution_id,
      universityId: e.university_id,
      enterpriseId: e.enterprise_id,
      conflictInstitutionIds: own.flatMap((c) => (c.institution_id ? [c.institution_id] : [])),
      conflictEnterpriseIds: own.flatMap((c) => (c.enterprise_id ? [c.enterprise_id] : [])),
      conflictUniversityIds: [...new Set(own.flatMap((c) => (c.university_id ? [c.university_id] : [])))],
    };
  });
  return { experts, reviewers };
}

/** The application behind each showcase case: that of its directory entry or project, when there is one. */
async function caseApplications(trx: Db, caseIds: string[]): Promise<Map<string, string>> {
  if (caseIds.length === 0) return new Map();
  const rows = await trx('showcase_cases as c')
    .leftJoin('directory_entries as d', function () {
      this.on('d.id', '=', 'c.source_id').andOn('c.source_kind', '=', trx.raw('?', ['directory_entry']));
    })
    .leftJoin('projects as p', function () {
      this.on('p.id', '=', 'c.source_id').andOn('c.source_kind', '=', trx.raw('?', ['project']));
    })
    .whereIn('c.id', caseIds)
    .select<{ id: string; application_id: string | null }[]>(
      'c.id',
      trx.raw('coalesce(d.application_id, p.application_id) as application_id'),
    );
  return new Map(rows.flatMap((r) => (r.application_id ? [[r.id, r.application_id] as const] : [])));
}

/**
 * The items under review (applications, reports, showcase cases) as assignment items needing `need` experts
 * each, with everything 回避 needs (one rule for every review): the applicant's university; the enterprises of
 * the application's partner list and the seeded partners (`institution_partners`) of the applicant and its
 * university; the avoid list of the application behind the item (a report's or rectification's: that of its
 * directory entry's or project's application; a case's: that of its directory entry or project) as SUBMITTED —
 * that of its current version (`application_versions.avoid_expert_ids`, see `avoidListIds`), never the working
 * draft, which the applicant may change after submitting (SPEC "Call for applications": versions kept; "Expert
 * review": avoidance never violated). Only an application with no version (rows seeded without one) falls back
 * to its draft's list. The named items, else every item ready for review, in id order.
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
        item_kind: string;
        item_id: string;
        field_key: string | null;
        institution_id: string;
        parent_institution_id: string | null;
        application_id: string | null;
      }[]
    >('s.item_kind', 's.item_id', 's.field_key', 's.institution_id', 's.parent_institution_id', 's.application_id');
  const ofCase = await caseApplications(
    trx,
    rows.filter((r) => r.item_kind === 'case').map((r) => r.item_id),
  );
  const applicationOf = (r: (typeof rows)[number]) => r.application_id ?? ofCase.get(r.item_id) ?? null;
  const applicationIds = [...new Set(rows.flatMap((r) => applicationOf(r) ?? []))];
  const partners = await trx('application_partners')
    .whereIn('application_id', applicationIds)
    .select<{ application_id: string; enterprise_id: string }[]>('application_id', 'enterprise_id');
  const partnersOf = groupBy(partners, (p) => p.application_id);
  const institutionIds = [...new Set(rows.flatMap((r) => [r.institution_id, r.parent_institution_id ?? []].flat()))];
  const seeded = await trx('institution_partners')
    .whereIn('institution_id', institutionIds)
    .select<{ institution_id: string; enterprise_id: string }[]>('institution_id', 'enterprise_id');
  const seededOf = groupBy(seeded, (p) => p.institution_id);
  const avoidRows = await trx('applications as a')
    .leftJoin('application_versions as v', function () {
      this.on('v.application_id', '=', 'a.id').andOn('v.version', '=', 'a.current_version');
    })
    .whereIn('a.id', applicationIds)
    .select<
      {
        id: string;
        submitted: boolean;
        version_entries: unknown;
        version_ids: string[] | null;
        draft_entries: unknown;
        draft_ids: string[];
      }[]
    >(
      'a.id',
      trx.raw('(v.application_id is not null) as submitted'),
      trx.raw(`v.payload -> 'draft' -> 'avoidExperts' as version_entries`),
      'v.avoid_expert_ids as version_ids',
      trx.raw(`a.draft -> 'avoidExperts' as draft_entries`),
      'a.avoid_expert_ids as draft_ids',
    );
  const candidates = avoidCandidates(experts);
  const avoidOf = new Map(
    avoidRows.map((a) => [
      a.id,
      a.submitted
        ? avoidListIds(a.version_entries, a.version_ids, candidates)
        : avoidListIds(a.draft_entries, a.draft_ids, candidates),
    ]),
  );
  return rows.map((r) => {
    const applicationId = applicationOf(r);
    const own = r.parent_institution_id ? [r.institution_id, r.parent_institution_id] : [r.institution_id];
    const enterpriseIds = new Set([
      ...(applicationId ? (partnersOf.get(applicationId) ?? []).map((p) => p.enterprise_id) : []),
      ...own.flatMap((i) => (seededOf.get(i) ?? []).map((p) => p.enterprise_id)),
    ]);
    return {
      id: r.item_id,
      field: r.field_key ?? '',
      need,
      institutionIds: own,
      universityId: r.parent_institution_id ?? r.institution_id,
      enterpriseIds: [...enterpriseIds],
      avoidExpertIds: applicationId ? (avoidOf.get(applicationId) ?? []) : [],
    };
  });
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
