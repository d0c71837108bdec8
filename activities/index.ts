import type { ActivityDeps } from './deps.js';
import { createApplicationActivities } from './round.applications.js';
import { createMemberActivities } from './member.js';
import { createMemberRectificationActivities } from './member.rectification.js';
import { createMemberRemovalActivities } from './member.removal.js';
import { createEvaluationActivities } from './evaluation.js';
import { createEvaluationGradingActivities } from './evaluation.grading.js';
import { createEvaluationReportActivities } from './evaluation.reports.js';
import { createEventActivities } from './event.js';
import { createScheduleActivities } from './schedule.js';
import { createProjectActivities } from './project.js';
import { createProjectExtensionActivities } from './project.extension.js';
import { createProjectReportActivities } from './project.reports.js';
import { createShowcaseActivities } from './showcase.js';
import { createPublicityActivities } from './publicity.js';
import { createOutboxActivities } from './outbox.js';
import { createReceiptActivities } from './receipts.js';
import { createChildActivities } from './children.js';
import { createObjectionActivities } from './publicity.objections.js';
import { createResolutionActivities } from './publicity.resolutions.js';
import { createReviewActivities } from './review.js';
import { createReviewDeclineActivities } from './review.declines.js';
import { createReviewMailingActivities } from './review.mailing.js';
import { createReviewReplacementActivities } from './review.replacement.js';
import { createReviewResultActivities } from './review.results.js';
import { createRoundApprovalActivities } from './round.approval.js';
import { createFormalCheckActivities } from './round.formal-check.js';
import { createRoundActivities } from './round.js';
import { createRoundNoticeActivities } from './round.notices.js';
import { createShortlistActivities } from './round.shortlist.js';

export type { ActivityDeps } from './deps.js';

/** Every activity the worker registers. The only place with I/O that workflows reach. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createRoundActivities(deps),
    ...createRoundNoticeActivities(deps),
    ...createApplicationActivities(deps),
    ...createFormalCheckActivities(deps),
    ...createShortlistActivities(deps),
    ...createRoundApprovalActivities(deps),
    ...createReviewActivities(deps),
    ...createReviewMailingActivities(deps),
    ...createReviewReplacementActivities(deps),
    ...createReviewDeclineActivities(deps),
    ...createReviewResultActivities(deps),
    ...createPublicityActivities(deps),
    ...createMemberActivities(deps),
    ...createMemberRectificationActivities(deps),
    ...createMemberRemovalActivities(deps),
    ...createObjectionActivities(deps),
    ...createResolutionActivities(deps),
    ...createEvaluationActivities(deps),
    ...createEvaluationReportActivities(deps),
    ...createEvaluationGradingActivities(deps),
    ...createScheduleActivities(deps),
    ...createEventActivities(deps),
    ...createProjectActivities(deps),
    ...createProjectReportActivities(deps),
    ...createProjectExtensionActivities(deps),
    ...createShowcaseActivities(deps),
    ...createOutboxActivities(deps),
    ...createReceiptActivities(deps),
    ...createChildActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
