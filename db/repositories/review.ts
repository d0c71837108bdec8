import type { Db } from '../knex.js';
import type { RubricCriterion } from '../../domain/programmes.js';
import type { ReviewItemKind } from '../../domain/review/subjects.js';
import { OPEN_ASSIGNMENT } from './review.assignments.js';

export interface AssignmentRow {
  id: string;
  reviewId: string;
  itemKind: ReviewItemKind;
  itemId: string;
  expertId: string;
  status: 'invited' | 'accepted' | 'declined' | 'timed_out' | 'submitted';
  dueAt: Date;
  wave: number;
  workflowId: string;
  subjectId: string;
  rubric: RubricCriterion[];
}

interface RawAssignment {
  id: string;
  review_id: string;
  item_kind: AssignmentRow['itemKind'];
  item_id: string;
  expert_id: string;
  status: AssignmentRow['status'];
  due_at: Date;
  wave: number;
  workflow_id: string;
  subject_id: string;
  rubric: RubricCriterion[];
}

const columns = [
  'ra.id',
  'ra.review_id',
  'ra.item_kind',
  'ra.item_id',
  'ra.expert_id',
  'ra.status',
  'ra.due_at',
  'ra.wave',
  'r.workflow_id',
  'r.subject_id',
  'r.rubric',
];

function toAssignment(r: RawAssignment): AssignmentRow {
  return {
    id: r.id,
    reviewId: r.review_id,
    itemKind: r.item_kind,
    itemId: r.item_id,
    expertId: r.expert_id,
    status: r.status,
    dueAt: r.due_at,
    wave: r.wave,
    workflowId: r.workflow_id,
    subjectId: r.subject_id,
    rubric: r.rubric,
  };
}

export async function findAssignment(
  db: Db,
  id: string,
  options: { forUpdate?: boolean } = {},
): Promise<AssignmentRow | undefined> {
  const q = db('review_assignments as ra')
    .join('reviews as r', 'r.id', 'ra.review_id')
    .where('ra.id', id)
    .first<RawAssignment | undefined>(columns);
  const row = await (options.forUpdate ? q.forUpdate('ra') : q);
  return row ? toAssignment(row) : undefined;
}

/**
 * An expert's open assignments (invited or accepted; every expert's when `expertId` is undefined), each with its
 * review workflow's id, in due order: what deactivating the expert must have replaced (issue 16, point 2).
 * `forUpdate` locks them (in a transaction).
 */
export async function openAssignmentsOf(
  db: Db,
  expertId: string | undefined,
  options: { forUpdate?: boolean } = {},
): Promise<AssignmentRow[]> {
  const q = db('review_assignments as ra')
    .join('reviews as r', 'r.id', 'ra.review_id')
    .modify((b) => {
      if (expertId !== undefined) void b.where('ra.expert_id', expertId);
    })
    .whereIn('ra.status', OPEN_ASSIGNMENT)
    .orderBy([{ column: 'ra.due_at' }, { column: 'ra.id' }])
    .select<RawAssignment[]>(columns);
  return (await (options.forUpdate ? q.forUpdate('ra') : q)).map(toAssignment);
}

export interface ExpertAssignmentView {
  assignmentId: string;
  status: string;
  dueAt: Date;
  replacement: boolean;
  itemKind: string;
  itemId: string;
  /** For an application under review; null for a report. */
  applicationId: string | null;
  title: string;
  field: string | null;
  institutionName: string;
  submittedAt: Date | null;
}

/** An expert's own assignments (never anyone else's, never another expert's scores). */
export async function expertAssignments(db: Db, expertId: string, status?: string): Promise<ExpertAssignmentView[]> {
  const rows = await db('review_assignments as ra')
    .join('review_item_sources as v', function () {
      this.on('v.item_kind', 'ra.item_kind').andOn('v.item_id', 'ra.item_id');
    })
    .leftJoin('review_scores as s', 's.assignment_id', 'ra.id')
    .where('ra.expert_id', expertId)
    .modify((q) => {
      if (status) void q.where('ra.status', status);
    })
    .orderBy([{ column: 'ra.due_at' }, { column: 'ra.id' }])
    .select<
      {
        id: string;
        status: string;
        due_at: Date;
        wave: number;
        item_kind: string;
        item_id: string;
        title_zh: string;
        field_key: string | null;
        institution_name: string;
        submitted_at: Date | null;
      }[]
    >(
      'ra.id',
      'ra.status',
      'ra.due_at',
      'ra.wave',
      'ra.item_kind',
      'ra.item_id',
      'v.title_zh',
      'v.field_key',
      'v.institution_name',
      's.submitted_at',
    );
  return rows.map((r) => ({
    assignmentId: r.id,
    status: r.status,
    dueAt: r.due_at,
    replacement: r.wave > 0,
    itemKind: r.item_kind,
    itemId: r.item_id,
    applicationId: r.item_kind === 'application' ? r.item_id : null,
    title: r.title_zh,
    field: r.field_key,
    institutionName: r.institution_name,
    submittedAt: r.submitted_at,
  }));
}

export async function ownScore(
  db: Db,
  assignmentId: string,
): Promise<
  | { scores: Record<string, number>; total: number; comment: string | null; submittedAt: Date; updatedAt: Date }
  | undefined
> {
  const row = await db('review_scores')
    .where({ assignment_id: assignmentId })
    .first<
      | { scores: Record<string, number>; total: string; comment: string | null; submitted_at: Date; updated_at: Date }
      | undefined
    >();
  return row
    ? {
        scores: row.scores,
        total: Number(row.total),
        comment: row.comment,
        submittedAt: row.submitted_at,
        updatedAt: row.updated_at,
      }
    : undefined;
}

/**
 * The statuses of an assignment whose expert may read the item's materials: invited (to see what is asked,
 * and declare a conflict), accepted, submitted. Not a declined one, nor one that timed out (its item went to a
 * replacement): that expert is no longer a reviewer of it (issue 15, point 5).
 */
export const LIVE_ASSIGNMENT_STATUSES = ['invited', 'accepted', 'submitted'] as const;

/**
 * True when the expert holds a live assignment (`LIVE_ASSIGNMENT_STATUSES`) on the application — one of
 * `assignmentIds` when given (a session opened by an assignment link reads the material of its own assignments).
 */
export async function expertMayRead(
  db: Db,
  expertId: string,
  applicationId: string,
  assignmentIds?: readonly string[],
): Promise<boolean> {
  const row = await db('review_assignments')
    .where({ expert_id: expertId, item_id: applicationId })
    .whereIn('status', LIVE_ASSIGNMENT_STATUSES)
    .modify((q) => {
      if (assignmentIds) void q.whereIn('id', [...assignmentIds]);
    })
    .first<{ id: string } | undefined>('id');
  return row !== undefined;
}
