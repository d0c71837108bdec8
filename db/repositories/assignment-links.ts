import type { Db } from '../knex.js';
import { OPEN_ASSIGNMENT } from './review.assignments.js';

/**
 * Expert assignment links (migration 017): the link in a review email, stored by the SHA-256 of its token, with
 * the assignments it reaches. See `domain/review/links.ts` for its lifetime.
 */

/** One link as the API reads it (never the token). */
export interface AssignmentLink {
  id: string;
  expertId: string;
  reviewId: string;
  assignmentIds: string[];
  /** The idempotency key of the email that carries it (`<workflow>/review_invitation/<expert>`…). */
  emailKey: string;
  createdAt: Date;
  expiresAt: Date;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
  uses: number;
}

interface LinkRow {
  id: string;
  token_hash: string;
  email_key: string;
  expert_id: string;
  review_id: string;
  assignment_ids: string[];
  created_at: Date;
  expires_at: Date;
  revoked_at: Date | null;
  last_used_at: Date | null;
  uses: number;
}

const linkOf = (r: LinkRow): AssignmentLink => ({
  id: String(r.id),
  expertId: r.expert_id,
  reviewId: r.review_id,
  assignmentIds: r.assignment_ids,
  emailKey: r.email_key,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  revokedAt: r.revoked_at,
  lastUsedAt: r.last_used_at,
  uses: r.uses,
});

/**
 * Records a link for the email keyed `emailKey`, unless that email has one already. Returns true when it was
 * recorded now, false when the email's link exists (a retried activity: its email, frozen in the outbox in the
 * same transaction, carries the first token).
 */
export async function insertAssignmentLink(
  db: Db,
  link: {
    tokenHash: string;
    emailKey: string;
    expertId: string;
    reviewId: string;
    assignmentIds: readonly string[];
    expiresAt: Date;
  },
): Promise<boolean> {
  const rows = await db('assignment_links')
    .insert({
      token_hash: link.tokenHash,
      email_key: link.emailKey,
      expert_id: link.expertId,
      review_id: link.reviewId,
      assignment_ids: [...link.assignmentIds],
      expires_at: link.expiresAt,
    })
    .onConflict('email_key')
    .ignore()
    .returning<{ id: string }[]>('id');
  return rows.length > 0;
}

/** The link whose token hashes to `tokenHash`, whatever its state, or undefined. */
export async function findAssignmentLinkByHash(db: Db, tokenHash: string): Promise<AssignmentLink | undefined> {
  const row = await db('assignment_links').where({ token_hash: tokenHash }).first<LinkRow | undefined>();
  return row ? linkOf(row) : undefined;
}

/** The link with this id, or undefined. */
export async function findAssignmentLink(db: Db, id: string): Promise<AssignmentLink | undefined> {
  const row = await db('assignment_links').where({ id }).first<LinkRow | undefined>();
  return row ? linkOf(row) : undefined;
}

/** Counts a use of the link (opened at `at`). */
export async function noteAssignmentLinkUse(db: Db, id: string, at: Date): Promise<void> {
  await db('assignment_links')
    .where({ id })
    .update({ uses: db.raw('uses + 1'), last_used_at: at });
}

/** Revokes every unrevoked link of the expert (e.g. the expert left the pool); returns how many. */
export async function revokeAssignmentLinks(db: Db, expertId: string, at: Date): Promise<number> {
  return db('assignment_links').where({ expert_id: expertId }).whereNull('revoked_at').update({ revoked_at: at });
}

/** An assignment an email to its expert is about: its id and due time. */
export interface LetterAssignment {
  id: string;
  expertId: string;
  dueAt: Date;
}

/**
 * The assignments the review emails to `expertIds` are about: their first assignments (`firstOnly`, the
 * invitation), or those still open due on `openDueDay` (a reminder) — the same rows `expertsHolding` counts.
 */
export async function letterAssignments(
  db: Db,
  which: { reviewId: string; expertIds: readonly string[] } & ({ firstOnly: true } | { openDueDay: string }),
): Promise<LetterAssignment[]> {
  const q = db('review_assignments')
    .where('review_id', which.reviewId)
    .whereIn('expert_id', [...which.expertIds])
    .orderBy(['expert_id', 'id']);
  if ('firstOnly' in which) void q.where('wave', 0);
  else void q.where('due_day', which.openDueDay).whereIn('status', OPEN_ASSIGNMENT);
  const rows = await q.select<{ id: string; expert_id: string; due_at: Date }[]>('id', 'expert_id', 'due_at');
  return rows.map((r) => ({ id: r.id, expertId: r.expert_id, dueAt: r.due_at }));
}

/**
 * The account of the expert (`accounts.expert_id`, one per expert since migration 019; the page says when it is
 * disabled); undefined when the expert has none. The order only mattered before that index.
 */
export async function accountOfExpert(db: Db, expertId: string): Promise<string | undefined> {
  const row = await db('accounts')
    .where({ kind: 'expert', expert_id: expertId })
    .orderByRaw('disabled_at is not null, created_at desc')
    .first<{ id: string } | undefined>('id');
  return row?.id;
}
