/**
 * Every email the procedures send, one module per procedure under `templates/`; the layout and the helpers
 * they share live in `templates/common.ts`. Each template takes the facts of one occasion and returns the
 * zh-CN subject and plain-text body the outbox stores (see `mail/outbox.ts`).
 */
export { deadlineZh, type RenderedEmail } from './templates/common.js';
export * from './templates/round.js';
export * from './templates/review.js';
export * from './templates/publicity.js';
export * from './templates/evaluation.js';
export * from './templates/member.js';
export * from './templates/project.js';
export * from './templates/showcase.js';
export * from './templates/event.js';
export * from './templates/workflows.js';
export * from './templates/receipts.js';
export * from './templates/accounts.js';
