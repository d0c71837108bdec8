// The workflow bundle's entry: every workflow type the worker runs.
export { roundWorkflow } from './round.js';
export { reviewWorkflow } from './review.js';
export { publicityWorkflow } from './publicity.js';
export { memberWorkflow } from './member.js';
export { evaluationWorkflow } from './evaluation.js';
export { launcherWorkflow } from './schedule.js';
export { eventWorkflow } from './event.js';
export { projectWorkflow } from './project.js';
export { showcaseWorkflow } from './showcase.js';
export { outboxSweeperWorkflow } from './outbox.js';
