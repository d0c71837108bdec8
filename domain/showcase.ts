/**
 * The outcome showcase's fixed rule (SPEC §6, 成果推广 / 典型案例): each institution nominates at most this many
 * cases a year, from its directory entries and research projects. Every check, message and document that
 * states the limit reads it from here.
 */
export const NOMINATIONS_PER_INSTITUTION = 2;
