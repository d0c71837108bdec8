import { ApplicationFailure } from '@temporalio/activity';
import type { Knex } from 'knex';
import type { Db } from '../db/knex.js';
import { recordAudit } from '../db/repositories/audit.js';
import { reviewSubject, type ReviewSubject, type ReviewSubjectKind } from '../db/repositories/review.subjects.js';
import type { WorkingCalendar } from '../domain/calendar/index.js';
import {
  assignReviewers,
  loadBound,
  pickReplacement,
  type ReviewItem,
  type Reviewer,
} from '../domain/review/assignment.js';
import { aggregate, rankWithinQuota } from '../domain/review/scoring.js';
import { reviewBlocked, reviewCompleted, reviewInvitation, reviewReminder } from '../mail/templates.js';
import type { ActivityDeps } from './deps.js';
import { mailPage, page, type BatchCursor, type BatchResult } from './mailing.js';
import type { Reminder } from './round.js';

/** When a group of assignments is due, and when its experts are reminded. */
export interface DueGroup {
  dueDay: string;
  /** 24:00 Asia/Shanghai on dueDay, ISO with +08:00. */
  dueAt: string;
  reminders: Reminder[];
}

export interface PrepareReviewInput {
  workflowId: string;
  subjectKind: ReviewSubjectKind;
  subjectId: string;
  /** Today on the workflow's clock (Shanghai calendar day): the invitations go out today. */
  today: string;
}

export type PrepareReviewResult =
  | {
      status: 'assigned';
      reviewId: string;
      titleZh: string;
      items: number;
      assignments: number;
      maxLoad: number;
      bound: number;
      due: DueGroup;
    }
  | { status: 'blocked'; reviewId: string; titleZh: string; explanation: string }
  | { status: 'empty'; reviewId: string; titleZh: string };

export interface ReviewBatchInput {
  workflowId: string;
  reviewId: string;
  due: DueGroup;
  after?: string | undefined;
  batchSize: number;
}

export interface ReminderBatchInput extends ReviewBatchInput {
  reminder: Reminder;
}

export interface ReplacementResult {
  timedOut: number;
  replaced: number;
  /** Items left short of reviewers: no eligible expert within the load bound remained. */
  unreplaceable: number;
  /** The due group of the replacements made now, if any. */
  due: DueGroup | undefined;
}

export interface AggregateResult {
  items: number;
  recommended: number;
  underReviewed: number;
  spread: number;
}

interface ExpertRow {
  id: string;
  name_zh: string;
  email: string;
  fields: string[];
  institution_id: string | null;
  enterprise_id: string | null;
}

const OPEN = ['invited', 'accepted'];

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

function notFound(kind: ReviewSubjectKind, id: string): never {
  const type = {
    round: 'ROUND_NOT_FOUND',
    evaluation: 'EVALUATION_NOT_FOUND',
    rectification: 'REVIEW_NOT_FOUND',
    project_report: 'REVIEW_NOT_FOUND',
    showcase: 'SHOWCASE_NOT_FOUND',
  }[kind];
  throw ApplicationFailure.nonRetryable(`${kind} ${id} not found`, type);
}

export function createReviewActivities({ db, outbox, calendar, logger, staffEmail }: ActivityDeps) {
  const dueGroup = (cal: WorkingCalendar, today: string, workingDays: number, reminderKs: number[]): DueGroup => {
    const period = cal.period(today, workingDays);
    return {
      dueDay: period.lastDay,
      dueAt: period.endsAtIso,
      reminders: reminderKs.map((k) => {
        const r = cal.workingDaysBefore(period.lastDay, k);
        return { k, day: r.day, at: r.atIso };
      }),
    };
  };

  const loadPool = async (trx: Db): Promise<{ experts: ExpertRow[]; reviewers: Reviewer[] }> => {
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
  };

  /** The items under review (applications, reports) as assignment items, with everything 回避 needs. */
  const loadItems = async (
    trx: Db,
    subject: ReviewSubject,
    need: number,
    experts: ExpertRow[],
    ids?: string[],
  ): Promise<ReviewItem[]> => {
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
      >(
        's.item_id',
        's.field_key',
        's.institution_id',
        's.parent_institution_id',
        's.application_id',
        's.avoid_experts',
      );
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
  };

  /** A page of experts holding the given assignments, with how many each holds. */
  const expertsWith = (assignments: Knex.QueryBuilder, cursor: BatchCursor) =>
    page(
      assignments.join('experts as e', 'e.id', 'ra.expert_id').groupBy('e.id', 'e.name_zh', 'e.email'),
      'e.id',
      cursor,
    ).select<{ id: string; name_zh: string; email: string; n: number }[]>(
      'e.id',
      'e.name_zh',
      'e.email',
      db.raw('count(*)::int as n'),
    );

  const reviewOf = async (reviewId: string) => {
    const review = await db('reviews').where({ id: reviewId }).first<
      | {
          id: string;
          subject_kind: ReviewSubjectKind;
          subject_id: string;
          programme: string;
          experts_per_item: number;
          min_valid_scores: number;
          quota: number | null;
        }
      | undefined
    >();
    if (!review) throw ApplicationFailure.nonRetryable(`review ${reviewId} not found`, 'REVIEW_NOT_FOUND');
    const subject = await reviewSubject(db, review.subject_kind, review.subject_id);
    if (!subject) notFound(review.subject_kind, review.subject_id);
    return { review, subject, titleZh: subject.titleZh };
  };

  /**
   * Finds one replacement for each of the given assignments (first assignments only: a replacement is not
   * replaced again), records it due in the review period from today, and invites the expert.
   */
  const replace = async (
    input: { workflowId: string; reviewId: string; today: string },
    lost: { id: string; item_id: string; expert_id: string; status: string }[],
  ): Promise<{ replaced: number; unreplaceable: number; due: DueGroup | undefined }> => {
    if (lost.length === 0) return { replaced: 0, unreplaceable: 0, due: undefined };
    const { review, subject, titleZh } = await reviewOf(input.reviewId);
    const { calendar: cal } = await calendar.snapshot();
    const due = dueGroup(cal, input.today, subject.review.dueWorkingDays, subject.review.reminderWorkingDaysBefore);
    let replaced = 0;
    let unreplaceable = 0;
    await db.transaction(async (trx) => {
      const { experts, reviewers } = await loadPool(trx);
      const items = await loadItems(trx, subject, review.experts_per_item, experts, [
        ...new Set(lost.map((l) => l.item_id)),
      ]);
      const all = await trx('review_assignments')
        .where({ review_id: review.id })
        .select<
          { item_id: string; expert_id: string; status: string; wave: number; replaces_assignment_id: string | null }[]
        >('item_id', 'expert_id', 'status', 'wave', 'replaces_assignment_id');
      const loads = new Map<string, number>();
      for (const a of all)
        if (a.status !== 'declined' && a.status !== 'timed_out')
          loads.set(a.expert_id, (loads.get(a.expert_id) ?? 0) + 1);
      const bound = loadBound(all.filter((a) => a.wave === 0).length, reviewers.length);
      for (const l of lost) {
        if (all.some((a) => a.replaces_assignment_id === l.id)) continue;
        const item = items.find((i) => i.id === l.item_id)!;
        const onItem = new Set(all.filter((a) => a.item_id === l.item_id).map((a) => a.expert_id));
        const pick = pickReplacement(item, reviewers, loads, onItem, bound);
        if (!pick) {
          unreplaceable += 1;
          await recordAudit(trx, {
            actor: 'system:review',
            role: 'system',
            action: 'review.replacement_unavailable',
            subjectKind: 'review_assignment',
            subjectId: l.id,
            reason: '没有符合领域、回避与负载要求的替补专家',
            workflowId: input.workflowId,
          });
          continue;
        }
        const [row] = await trx('review_assignments')
          .insert({
            review_id: review.id,
            item_kind: subject.itemKind,
            item_id: l.item_id,
            expert_id: pick.id,
            status: 'invited',
            due_at: new Date(due.dueAt),
            due_day: due.dueDay,
            wave: 1,
            replaces_assignment_id: l.id,
          })
          .returning<{ id: string }[]>('id');
        loads.set(pick.id, (loads.get(pick.id) ?? 0) + 1);
        all.push({ item_id: l.item_id, expert_id: pick.id, status: 'invited', wave: 1, replaces_assignment_id: l.id });
        replaced += 1;
        await recordAudit(trx, {
          actor: 'system:review',
          role: 'system',
          action: 'review.replace',
          subjectKind: 'review_assignment',
          subjectId: l.id,
          reason: l.status === 'declined' ? '原专家谢绝' : '原专家逾期未提交',
          details: { from: l.expert_id, to: pick.id, replacement: row!.id },
          workflowId: input.workflowId,
        });
        const expert = experts.find((e) => e.id === pick.id)!;
        await outbox.enqueue(
          {
            idempotencyKey: `${input.workflowId}/review_invitation/${row!.id}`,
            workflowId: input.workflowId,
            purpose: 'review_invitation',
            recipient: expert.email,
            ...reviewInvitation({
              expertName: expert.name_zh,
              reviewTitle: titleZh,
              count: 1,
              due: new Date(due.dueAt),
              replacement: true,
            }),
          },
          trx,
        );
      }
    });
    await outbox.deliverOwed({ workflowId: input.workflowId, purpose: 'review_invitation' });
    return { replaced, unreplaceable, due: replaced > 0 ? due : undefined };
  };

  return {
    /** Creates the review, assigns k experts per item by maximum flow, and fixes the first due date. */
    async prepareReview(input: PrepareReviewInput): Promise<PrepareReviewResult> {
      const subject = await reviewSubject(db, input.subjectKind, input.subjectId);
      if (!subject) notFound(input.subjectKind, input.subjectId);
      const { titleZh, review } = subject;
      await db('reviews')
        .insert({
          subject_kind: input.subjectKind,
          subject_id: input.subjectId,
          programme: subject.programme.key,
          rubric: JSON.stringify(subject.rubric),
          experts_per_item: review.expertsPerApplication,
          min_valid_scores: review.minValidScores,
          quota: subject.quota ?? null,
          status: 'assigning',
          workflow_id: input.workflowId,
        })
        .onConflict(['subject_kind', 'subject_id'])
        .ignore();
      const { id: reviewId } = await db('reviews')
        .where({ subject_kind: input.subjectKind, subject_id: input.subjectId })
        .first<{ id: string }>('id');
      const { calendar: cal } = await calendar.snapshot();
      const due = dueGroup(cal, input.today, review.dueWorkingDays, review.reminderWorkingDaysBefore);

      return db.transaction(async (trx) => {
        const existing = await trx('review_assignments')
          .where({ review_id: reviewId, wave: 0 })
          .count<{ n: number }[]>('* as n');
        const { experts, reviewers } = await loadPool(trx);
        const items = await loadItems(trx, subject, review.expertsPerApplication, experts);
        if (items.length === 0) {
          await trx('reviews').where({ id: reviewId }).update({ status: 'empty' });
          return { status: 'empty' as const, reviewId, titleZh };
        }
        if (Number(existing[0]!.n) > 0) {
          // A retried activity (same input, same day): the assignment was stored already.
          return {
            status: 'assigned' as const,
            reviewId,
            titleZh,
            items: items.length,
            assignments: Number(existing[0]!.n),
            maxLoad: 0,
            bound: loadBound(Number(existing[0]!.n), reviewers.length),
            due,
          };
        }
        const result = assignReviewers(items, reviewers);
        if (!result.ok) {
          await trx('reviews')
            .where({ id: reviewId })
            .update({ status: 'blocked', status_reason: result.shortfall.messageZh });
          await recordAudit(trx, {
            actor: 'system:review',
            role: 'system',
            action: 'review.assignment_blocked',
            subjectKind: 'review',
            subjectId: reviewId,
            reason: result.shortfall.messageZh,
            details: {
              kind: result.shortfall.kind,
              need: result.shortfall.need,
              achievable: result.shortfall.achievable,
            },
            workflowId: input.workflowId,
          });
          return { status: 'blocked' as const, reviewId, titleZh, explanation: result.shortfall.messageZh };
        }
        for (let i = 0; i < result.assignments.length; i += 1000) {
          await trx('review_assignments').insert(
            result.assignments.slice(i, i + 1000).map((a) => ({
              review_id: reviewId,
              item_kind: subject.itemKind,
              item_id: a.itemId,
              expert_id: a.expertId,
              status: 'invited',
              due_at: new Date(due.dueAt),
              due_day: due.dueDay,
              wave: 0,
            })),
          );
        }
        await trx('reviews').where({ id: reviewId }).update({ status: 'reviewing', status_reason: null });
        if (subject.kind === 'round') {
          await trx('applications')
            .whereIn(
              'id',
              items.map((i) => i.id),
            )
            .update({ status: 'under_review', updated_at: trx.fn.now() });
        }
        await recordAudit(trx, {
          actor: 'system:review',
          role: 'system',
          action: 'review.assign',
          subjectKind: 'review',
          subjectId: reviewId,
          details: {
            items: items.length,
            assignments: result.assignments.length,
            maxLoad: result.maxLoad,
            bound: result.bound,
            due: due.dueAt,
          },
          workflowId: input.workflowId,
        });
        logger.info(
          { reviewId, assignments: result.assignments.length, maxLoad: result.maxLoad },
          'reviewers assigned',
        );
        return {
          status: 'assigned' as const,
          reviewId,
          titleZh,
          items: items.length,
          assignments: result.assignments.length,
          maxLoad: result.maxLoad,
          bound: result.bound,
          due,
        };
      });
    },

    /** Tells staff why the assignment cannot be made (once per attempt). */
    async notifyReviewBlocked(input: {
      workflowId: string;
      reviewId: string;
      attempt: number;
      explanation: string;
      titleZh: string;
    }): Promise<void> {
      await outbox.deliver({
        idempotencyKey: `${input.workflowId}/review_blocked/${input.attempt}`,
        workflowId: input.workflowId,
        purpose: 'review_blocked',
        recipient: staffEmail,
        ...reviewBlocked({ reviewTitle: input.titleZh, explanation: input.explanation }),
      });
    },

    /** One invitation per expert for their first assignments. */
    async sendReviewInvitations(input: ReviewBatchInput): Promise<BatchResult> {
      const { titleZh } = await reviewOf(input.reviewId);
      const experts = await expertsWith(
        db('review_assignments as ra').where({ 'ra.review_id': input.reviewId, 'ra.wave': 0 }),
        input,
      );
      return mailPage(outbox, { workflowId: input.workflowId, purpose: 'review_invitation' }, input, experts, (e) => ({
        key: `${input.workflowId}/review_invitation/${e.id}`,
        recipient: e.email,
        email: reviewInvitation({
          expertName: e.name_zh,
          reviewTitle: titleZh,
          count: e.n,
          due: new Date(input.due.dueAt),
          replacement: false,
        }),
      }));
    },

    /** A reminder k working days before a due day, only to experts with a review of that day still open. */
    async sendReviewReminders(input: ReminderBatchInput): Promise<BatchResult> {
      const { titleZh } = await reviewOf(input.reviewId);
      const experts = await expertsWith(
        db('review_assignments as ra')
          .where({ 'ra.review_id': input.reviewId, 'ra.due_day': input.due.dueDay })
          .whereIn('ra.status', OPEN),
        input,
      );
      return mailPage(outbox, { workflowId: input.workflowId, purpose: 'review_reminder' }, input, experts, (e) => ({
        key: `${input.workflowId}/review_reminder/${input.due.dueDay}/${input.reminder.k}/${e.id}`,
        recipient: e.email,
        dueAt: new Date(input.reminder.at),
        email: reviewReminder({
          expertName: e.name_zh,
          reviewTitle: titleZh,
          open: e.n,
          due: new Date(input.due.dueAt),
          workingDaysLeft: input.reminder.k,
        }),
      }));
    },

    /** At a due time (after the grace window): reviews still open time out and get one replacement each. */
    async closeDueAssignments(input: {
      workflowId: string;
      reviewId: string;
      dueDay: string;
      today: string;
      at: string;
    }): Promise<ReplacementResult> {
      const lost = await db.transaction(async (trx) => {
        const rows = await trx('review_assignments')
          .where({ review_id: input.reviewId, due_day: input.dueDay })
          .whereIn('status', OPEN)
          .update({ status: 'timed_out', closed_at: new Date(input.at) })
          .returning<{ id: string; item_id: string; expert_id: string; status: string; wave: number }[]>([
            'id',
            'item_id',
            'expert_id',
            'status',
            'wave',
          ]);
        for (const r of rows) {
          await recordAudit(trx, {
            actor: 'system:review',
            role: 'system',
            action: 'review.timeout',
            subjectKind: 'review_assignment',
            subjectId: r.id,
            reason: '逾期未提交评分',
            details: { expertId: r.expert_id, itemId: r.item_id },
            workflowId: input.workflowId,
          });
        }
        return rows;
      });
      // Timed-out rows already recorded on an earlier attempt are picked up again from the table.
      const toReplace = await db('review_assignments')
        .where({ review_id: input.reviewId, due_day: input.dueDay, status: 'timed_out', wave: 0 })
        .select<{ id: string; item_id: string; expert_id: string; status: string }[]>(
          'id',
          'item_id',
          'expert_id',
          'status',
        );
      const result = await replace(input, toReplace);
      return { timedOut: lost.length, ...result };
    },

    /** Replacements for first assignments declined since the last call. */
    async replaceDeclined(input: { workflowId: string; reviewId: string; today: string }): Promise<ReplacementResult> {
      const declined = await db('review_assignments')
        .where({ review_id: input.reviewId, status: 'declined', wave: 0 })
        .select<{ id: string; item_id: string; expert_id: string; status: string }[]>(
          'id',
          'item_id',
          'expert_id',
          'status',
        );
      return { timedOut: 0, ...(await replace(input, declined)) };
    },

    /** Aggregates the valid scores, ranks within the quota, stores the results and tells staff. */
    async aggregateReview(input: { workflowId: string; reviewId: string }): Promise<AggregateResult> {
      const { review, subject, titleZh } = await reviewOf(input.reviewId);
      const scores = await db('review_assignments as ra')
        .join('review_scores as s', 's.assignment_id', 'ra.id')
        .where({ 'ra.review_id': review.id, 'ra.status': 'submitted' })
        .select<{ item_id: string; total: string }[]>('ra.item_id', 's.total');
      const items = await db('review_assignments as ra')
        .join('review_item_sources as s', function () {
          this.on('s.item_kind', 'ra.item_kind').andOn('s.item_id', 'ra.item_id');
        })
        .where('ra.review_id', review.id)
        .distinct<{ item_id: string; received_at: Date; title_zh: string }[]>(
          'ra.item_id',
          's.received_at',
          's.title_zh',
        );
      const rules = { ...subject.review, minValidScores: review.min_valid_scores };
      const scoresOf = groupBy(scores, (s) => s.item_id);
      const ranked = rankWithinQuota(
        items.map((i) => ({
          itemId: i.item_id,
          receivedAt: i.received_at.toISOString(),
          aggregate: aggregate(
            (scoresOf.get(i.item_id) ?? []).map((s) => Number(s.total)),
            rules,
          ),
        })),
        review.quota ?? Number.MAX_SAFE_INTEGER,
      );
      await db.transaction(async (trx) => {
        await trx('review_results').where({ review_id: review.id }).delete();
        for (let i = 0; i < ranked.length; i += 1000) {
          await trx('review_results').insert(
            ranked.slice(i, i + 1000).map((r) => ({
              review_id: review.id,
              item_kind: subject.itemKind,
              item_id: r.itemId,
              valid_scores: r.aggregate.valid,
              mean: r.aggregate.mean,
              trimmed_mean: r.aggregate.trimmedMean,
              score: r.aggregate.score,
              spread: r.aggregate.spread,
              flags: r.aggregate.flags,
              rank: r.rank,
              recommended: r.recommended,
            })),
          );
        }
        await trx('reviews').where({ id: review.id }).update({ status: 'completed' });
        await recordAudit(trx, {
          actor: 'system:review',
          role: 'system',
          action: 'review.aggregate',
          subjectKind: 'review',
          subjectId: review.id,
          details: { items: ranked.length, recommended: ranked.filter((r) => r.recommended).length },
          workflowId: input.workflowId,
        });
      });
      const titles = new Map(items.map((i) => [i.item_id, i.title_zh]));
      const title = (id: string) => titles.get(id) ?? id;
      const under = ranked.filter((r) => r.aggregate.flags.includes('under_reviewed')).map((r) => title(r.itemId));
      const spread = ranked.filter((r) => r.aggregate.flags.includes('spread')).map((r) => title(r.itemId));
      const recommended = ranked.filter((r) => r.recommended).length;
      await outbox.deliver({
        idempotencyKey: `${input.workflowId}/review_completed`,
        workflowId: input.workflowId,
        purpose: 'review_completed',
        recipient: staffEmail,
        ...reviewCompleted({ reviewTitle: titleZh, items: ranked.length, recommended, underReviewed: under, spread }),
      });
      return { items: ranked.length, recommended, underReviewed: under.length, spread: spread.length };
    },
  };
}

export interface ShortlistAdjustment {
  applicationId: string;
  include: boolean;
  reason: string;
}

export interface ConfirmShortlistInput {
  roundId: string;
  adjustments: ShortlistAdjustment[];
  actor: string;
  requestId?: string | undefined;
}

export interface ConfirmShortlistResult {
  shortlisted: number;
  adjusted: number;
}

export function createShortlistActivities({ db }: ActivityDeps) {
  return {
    /**
     * Staff's confirmation of the recommended list: the recommendation stands except where an adjustment
     * (each with its reason, each audited) includes or excludes an application.
     */
    async confirmShortlist(input: ConfirmShortlistInput): Promise<ConfirmShortlistResult> {
      return db.transaction(async (trx) => {
        const review = await trx('reviews')
          .where({ subject_kind: 'round', subject_id: input.roundId })
          .first<{ id: string } | undefined>('id');
        if (!review) throw ApplicationFailure.nonRetryable('该批次尚无评审结果', 'SHORTLIST_NOT_READY');
        const results = await trx('review_results')
          .where({ review_id: review.id })
          .select<{ item_id: string; recommended: boolean; confirmed: boolean | null }[]>(
            'item_id',
            'recommended',
            'confirmed',
          );
        if (results.some((r) => r.confirmed !== null)) {
          throw ApplicationFailure.nonRetryable('推荐名单已确认', 'SHORTLIST_CONFIRMED');
        }
        const unknown = input.adjustments.filter((a) => !results.some((r) => r.item_id === a.applicationId));
        if (unknown.length > 0) {
          throw ApplicationFailure.nonRetryable(
            `调整的申报不在本批次评审结果中：${unknown.map((u) => u.applicationId).join('、')}`,
            'VALIDATION_FAILED',
          );
        }
        const byId = new Map(input.adjustments.map((a) => [a.applicationId, a]));
        let shortlisted = 0;
        for (const r of results) {
          const adjustment = byId.get(r.item_id);
          const include = adjustment ? adjustment.include : r.recommended;
          if (include) shortlisted += 1;
          await trx('review_results')
            .where({ review_id: review.id, item_id: r.item_id })
            .update({ confirmed: include, adjustment_reason: adjustment?.reason ?? null });
          await trx('applications')
            .where({ id: r.item_id })
            .update({ status: include ? 'shortlisted' : 'not_shortlisted', updated_at: trx.fn.now() });
          if (adjustment) {
            await recordAudit(trx, {
              actor: input.actor,
              role: 'staff',
              action: adjustment.include ? 'shortlist.include' : 'shortlist.exclude',
              subjectKind: 'application',
              subjectId: r.item_id,
              reason: adjustment.reason,
              details: { roundId: input.roundId, recommended: r.recommended },
              requestId: input.requestId,
              workflowId: input.roundId,
            });
          }
        }
        await recordAudit(trx, {
          actor: input.actor,
          role: 'staff',
          action: 'round.confirm_shortlist',
          subjectKind: 'round',
          subjectId: input.roundId,
          details: { shortlisted, adjustments: input.adjustments.length },
          requestId: input.requestId,
          workflowId: input.roundId,
        });
        return { shortlisted, adjusted: input.adjustments.length };
      });
    },
  };
}
