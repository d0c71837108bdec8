/**
 * Every workflow id (and the yearly launch Schedules' ids) the product uses, in one place. Ids are business-meaningful and free of personal data
 * (Temporal's production practice); the API, the activities and the workflows all build them here, so a
 * procedure's id format is written once. Changing a format strands the running workflows of the old one.
 */

/** `round-<programme>-<year>`: a programme's yearly call for applications (procedure 1). */
export function roundWorkflowId(programme: string, year: number): string {
  return `round-${programme}-${year}`;
}

/** `evaluation-<programme>-<year>`: a programme's annual dynamic evaluation (procedure 4). */
export function evaluationWorkflowId(programme: string, year: number): string {
  return `evaluation-${programme}-${year}`;
}

/** `showcase-<year>`: the year's outcome showcase (procedure 6). */
export function showcaseWorkflowId(year: number): string {
  return `showcase-${year}`;
}

/** `review-<subject workflow id>`: the expert review (procedure 2) of a round, evaluation or showcase. */
export function reviewWorkflowId(subjectWorkflowId: string): string {
  return `review-${subjectWorkflowId}`;
}

/** `publicity-<subject workflow id>`: the publicity period (procedure 3) of a round, evaluation or showcase. */
export function publicityWorkflowId(subjectWorkflowId: string): string {
  return `publicity-${subjectWorkflowId}`;
}

/** `review-rectification-<rectification id>`: the re-evaluation of a member's rectification report. */
export function rectificationReviewWorkflowId(rectificationId: string): string {
  return `review-rectification-${rectificationId}`;
}

/** `publicity-removal-<rectification id>`: the publicity of a member's proposed removal (procedure 5). */
export function removalPublicityWorkflowId(rectificationId: string): string {
  return `publicity-removal-${rectificationId}`;
}

/** `member-<directory entry id>`: one directory entry (名录成员) over the years. */
export function memberWorkflowId(entryId: string): string {
  return `member-${entryId}`;
}

/** `project-<project id>`: one research project from 立项 to 结项. */
export function projectWorkflowId(projectId: string): string {
  return `project-${projectId}`;
}

/** `event-<event id>`: one showcase event (invitations, RSVPs, reminders). */
export function eventWorkflowId(eventId: string): string {
  return `event-${eventId}`;
}

/** `launcher-<schedule id>`: the workflow a yearly launch Schedule starts. */
export function launcherWorkflowId(scheduleId: string): string {
  return `launcher-${scheduleId}`;
}

/** The prefix every yearly launch Schedule's id starts with. */
export const LAUNCH_SCHEDULE_PREFIX = 'launch-';

/** `launch-<kind>-<programme>`: the Temporal Schedule that launches a programme's round or evaluation yearly. */
export function launchScheduleId(kind: 'round' | 'evaluation', programme: string): string {
  return `${LAUNCH_SCHEDULE_PREFIX}${kind}-${programme}`;
}

/** `outbox-sweeper`: the one outbox sweeper of a namespace (`workflows/outbox.ts`), started by every worker. */
export const OUTBOX_SWEEPER_WORKFLOW_ID = 'outbox-sweeper';
