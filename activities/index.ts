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
import { createReviewActivities, createShortlistActivities } from './review.js';
import { createRoundActivities } from './round.js';

export type { ActivityDeps, Clock } from './deps.js';
export { systemClock } from './deps.js';

/** Every activity the worker registers. The only place with I/O that workflows reach. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createRoundActivities(deps),
    ...createApplicationActivities(deps),
    ...createReviewActivities(deps),
    ...createShortlistActivities(deps),
    ...createPublicityActivities(deps),
    ...createMemberActivities(deps),
    ...createMemberRectificationActivities(deps),
    ...createMemberRemovalActivities(deps),
    ...createEvaluationActivities(deps),
    ...createEvaluationReportActivities(deps),
    ...createEvaluationGradingActivities(deps),
    ...createScheduleActivities(deps),
    ...createEventActivities(deps),
    ...createProjectActivities(deps),
    ...createProjectReportActivities(deps),
    ...createProjectExtensionActivities(deps),
    ...createShowcaseActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
