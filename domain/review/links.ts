/**
 * Expert assignment links (issue 15, point 4): how long the link in a review email stays good.
 *
 * A link reaches the assignments its email is about, by one expert, and is usable any number of times until it
 * expires: the latest due time of those assignments plus `ASSIGNMENT_LINK_GRACE_HOURS`, so an expert who
 * submitted on the last evening can still open what they sent the next days (changes are refused after the due
 * time anyway: REVIEW_DUE_PASSED). After that the expert signs in with the account's password.
 */

/** Hours a link stays good after the latest due time of its assignments (3 days). */
export const ASSIGNMENT_LINK_GRACE_HOURS = 72;

/**
 * When a link to assignments due at `dueAts` expires: the latest of them plus the grace.
 *
 * @throws Error when `dueAts` is empty (a link reaches at least one assignment).
 */
export function assignmentLinkExpiry(dueAts: readonly Date[]): Date {
  if (dueAts.length === 0) throw new Error('an assignment link reaches at least one assignment');
  const latest = Math.max(...dueAts.map((d) => d.getTime()));
  return new Date(latest + ASSIGNMENT_LINK_GRACE_HOURS * 3_600_000);
}
