export * from './days.js';
export * from './working-calendar.js';
export { statutoryArrangement, qingming } from './statutory.js';
