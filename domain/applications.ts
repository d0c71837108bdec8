import type { ProgrammeKey, ProgrammeRules } from './programmes.js';

/** The applicant's working copy. Every submission snapshots it as a new version; earlier versions are kept. */
export interface ApplicationDraft {
  title?: string;
  /** Industry field (industries.key): what experts are matched on. */
  field?: string;
  summary?: string;
  /** Principal investigator or person in charge, identified by staff number at their institution. */
  principal?: PersonRef;
  members?: MemberRef[];
  partnerEnterpriseIds?: string[];
  /** Names of at most two experts the applicant asks to be kept away from the review (回避). */
  avoidExperts?: string[];
}

export interface PersonRef {
  staffNo: string;
  name: string;
}

export interface MemberRef extends PersonRef {
  /** The member's own institution; defaults to the applicant's. */
  institutionId?: string;
}

export type ApplicationStatus = 'draft' | 'submitted' | 'withdrawn' | 'formal_passed' | 'formal_failed' | 'cancelled';

/** Applications that count against limits: handed in and not taken back or failed. */
export const COUNTED_STATUSES: readonly ApplicationStatus[] = ['submitted', 'formal_passed'];

export const attachmentKinds = {
  application_form: { nameZh: '申报书', required: true },
  agreement: { nameZh: '校企合作协议', required: false },
  supporting: { nameZh: '佐证材料', required: false },
} as const;

export type AttachmentKind = keyof typeof attachmentKinds;

export function isAttachmentKind(value: string): value is AttachmentKind {
  return Object.hasOwn(attachmentKinds, value);
}

export const SUMMARY_MIN_CHARS = 50;

/**
 * What the formal check (形式审查) finds missing or wrong in a submitted version's fields and attachments.
 * Each reason is a zh-CN sentence for the applicant. Eligibility and limits need the database and are
 * checked beside this.
 */
export function formalProblems(
  programme: ProgrammeKey,
  rules: ProgrammeRules,
  draft: ApplicationDraft,
  attachments: { kind: string; intact: boolean }[],
  knownFields: ReadonlySet<string>,
): string[] {
  const problems: string[] = [];
  if (!draft.title || draft.title.trim().length < 4) problems.push('缺少项目名称（至少 4 个字）');
  if (!draft.field) problems.push('缺少所属领域');
  else if (!knownFields.has(draft.field)) problems.push(`所属领域“${draft.field}”不在目录中`);
  else if (rules.fields && !rules.fields.includes(draft.field))
    problems.push('所属领域不在本项目类别限定的重点产业范围内');
  if (!draft.summary || draft.summary.trim().length < SUMMARY_MIN_CHARS) {
    problems.push(`缺少项目简介或简介不足 ${SUMMARY_MIN_CHARS} 字`);
  }
  if (programme === 'research_project' && !draft.principal) problems.push('缺少项目负责人');
  if ((draft.avoidExperts?.length ?? 0) > 2) problems.push('申请回避的专家不得超过 2 名');
  for (const [kind, spec] of Object.entries(attachmentKinds)) {
    const present = attachments.filter((a) => a.kind === kind);
    if (spec.required && present.length === 0) problems.push(`缺少附件：${spec.nameZh}`);
    if (present.some((a) => !a.intact)) problems.push(`附件“${spec.nameZh}”已损坏或丢失（校验值不符）`);
  }
  return problems;
}

/** Why a limit refuses one more application, or undefined. Counts exclude the application itself. */
export function limitViolation(
  rules: ProgrammeRules,
  counts: { byApplicant: number; byUniversity: number },
): string | undefined {
  if (counts.byApplicant >= rules.limits.perApplicant) {
    return `本单位本批次已提交 ${counts.byApplicant} 项，已达每单位限报 ${rules.limits.perApplicant} 项`;
  }
  if (counts.byUniversity >= rules.limits.perUniversity) {
    return `所属学校（含各学院）本批次已提交 ${counts.byUniversity} 项，已达每校限报 ${rules.limits.perUniversity} 项`;
  }
  return undefined;
}

/** Why a personal limit refuses this application, or undefined. Counts exclude the application itself. */
export function personalLimitViolation(
  rules: ProgrammeRules,
  principal: { name: string; led: number } | undefined,
  members: { name: string; joined: number }[],
): string | undefined {
  const limits = rules.personalLimits;
  if (!limits) return undefined;
  if (principal && principal.led >= limits.maxLedOpen) {
    return `${principal.name} 已主持 ${principal.led} 项在研或在审项目，每人至多主持 ${limits.maxLedOpen} 项`;
  }
  const over = members.find((m) => m.joined >= limits.maxJoinedOpen);
  if (over) return `${over.name} 已参与 ${over.joined} 项在研或在审项目，每人至多参与 ${limits.maxJoinedOpen} 项`;
  return undefined;
}
