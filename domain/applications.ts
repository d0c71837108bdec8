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

export const SUMMARY_MIN_CHARS = 50;
export const TITLE_MIN_CHARS = 4;
export const MAX_AVOIDED_EXPERTS = 2;

/** The rules of the formal check (形式审查), one key each. */
export type FormalRuleKey =
  | 'title'
  | 'field'
  | 'summary'
  | 'principal'
  | 'avoid_experts'
  | 'attachments'
  | 'attachments_intact'
  | 'applicant_kind'
  | 'not_barred'
  | 'limits'
  | 'personal_limits';

/**
 * When a rule of the formal check is judged:
 * - `submission`: certain once submitted (it reads only the submitted version and the seeded catalogues), so a
 *   submission that breaks it is refused (`FORMAL_CHECK_FAILED`); the formal check judges it again.
 * - `both`: judged at submission (refused with its own code: `INSTITUTION_NOT_ELIGIBLE`, `BARRED`,
 *   `LIMIT_EXCEEDED`, `PERSONAL_LIMIT_EXCEEDED`) and again at the formal check on the records of that day (other
 *   applications, bans and open projects may change before the deadline).
 * - `formal_check`: judged only after the deadline (the stored attachments are verified then).
 */
export type FormalRuleTiming = 'submission' | 'both' | 'formal_check';

/** One rule of the formal check as the README, the call notice and a submission's warnings state it. */
export interface FormalRule {
  key: FormalRuleKey;
  /** zh-CN, one sentence without a final full stop. */
  textZh: string;
  judged: FormalRuleTiming;
}

/** What a formal check found wrong: the rule broken and why, in zh-CN for the applicant. */
export interface FormalProblem {
  rule: FormalRuleKey;
  message: string;
}

const kindZh = { university: '学校', college: '学院' } as const;

/**
 * The formal check's rules for one programme under a round's rules, in the order the check reports them
 * (source: the programme catalogue of 教高〔2022〕52号, `domain/programmes.ts`, and the constants above).
 * `fieldNames` (industry key → zh-CN name) names the fields a programme is restricted to; keys when absent.
 */
export function formalRules(
  programme: ProgrammeKey,
  rules: ProgrammeRules,
  fieldNames: ReadonlyMap<string, string> = new Map(),
): FormalRule[] {
  const restricted = rules.fields?.map((f) => fieldNames.get(f) ?? f).join('、');
  const required = Object.values(attachmentKinds)
    .filter((k) => k.required)
    .map((k) => k.nameZh)
    .join('、');
  const list: FormalRule[] = [
    { key: 'title', textZh: `填写项目名称，至少 ${TITLE_MIN_CHARS} 个字`, judged: 'submission' },
    {
      key: 'field',
      textZh: restricted ? `所属领域须为本项目类别限定的重点产业之一：${restricted}` : '所属领域须为领域目录中的一项',
      judged: 'submission',
    },
    { key: 'summary', textZh: `项目简介不少于 ${SUMMARY_MIN_CHARS} 字`, judged: 'submission' },
  ];
  if (programme === 'research_project') {
    list.push({ key: 'principal', textZh: '填写项目负责人（工号、姓名）', judged: 'submission' });
  }
  list.push(
    { key: 'avoid_experts', textZh: `申请回避的专家不超过 ${MAX_AVOIDED_EXPERTS} 名`, judged: 'submission' },
    { key: 'attachments', textZh: `上传附件：${required}`, judged: 'submission' },
    {
      key: 'applicant_kind',
      textZh: `申报单位须为${rules.applicantKinds.map((k) => kindZh[k]).join('或')}`,
      judged: 'both',
    },
    { key: 'not_barred', textZh: '申报单位及其所属学校在接收之日不处于本项目类别的禁止申报期内', judged: 'both' },
    {
      key: 'limits',
      textZh:
        `每个申报单位限报 ${rules.limits.perApplicant} 项，每所学校（含各学院）限报 ${rules.limits.perUniversity} 项；` +
        '形式审查按接收先后计数',
      judged: 'both',
    },
  );
  if (rules.personalLimits) {
    list.push({
      key: 'personal_limits',
      textZh:
        `每人至多主持 ${rules.personalLimits.maxLedOpen} 项、参与 ${rules.personalLimits.maxJoinedOpen} 项` +
        '在研或在审项目（含本批次已提交的申报）',
      judged: 'both',
    });
  }
  list.push({
    key: 'attachments_intact',
    textZh: '附件在截止后核验时完好，与提交时的校验值一致',
    judged: 'formal_check',
  });
  return list;
}

/**
 * What the formal check (形式审查) finds missing or wrong in a submitted version's fields and attachments, each
 * with the rule it breaks (`formalRules`). Eligibility and limits need the database and are checked beside this.
 */
export function formalFindings(
  programme: ProgrammeKey,
  rules: ProgrammeRules,
  draft: ApplicationDraft,
  attachments: { kind: string; intact: boolean }[],
  knownFields: ReadonlySet<string>,
): FormalProblem[] {
  const problems: FormalProblem[] = [];
  const add = (rule: FormalRuleKey, message: string) => problems.push({ rule, message });
  if (!draft.title || draft.title.trim().length < TITLE_MIN_CHARS) {
    add('title', `缺少项目名称（至少 ${TITLE_MIN_CHARS} 个字）`);
  }
  if (!draft.field) add('field', '缺少所属领域');
  else if (!knownFields.has(draft.field)) add('field', `所属领域“${draft.field}”不在目录中`);
  else if (rules.fields && !rules.fields.includes(draft.field)) {
    add('field', '所属领域不在本项目类别限定的重点产业范围内');
  }
  if (!draft.summary || draft.summary.trim().length < SUMMARY_MIN_CHARS) {
    add('summary', `缺少项目简介或简介不足 ${SUMMARY_MIN_CHARS} 字`);
  }
  if (programme === 'research_project' && !draft.principal) add('principal', '缺少项目负责人');
  if ((draft.avoidExperts?.length ?? 0) > MAX_AVOIDED_EXPERTS) {
    add('avoid_experts', `申请回避的专家不得超过 ${MAX_AVOIDED_EXPERTS} 名`);
  }
  for (const [kind, spec] of Object.entries(attachmentKinds)) {
    const present = attachments.filter((a) => a.kind === kind);
    if (spec.required && present.length === 0) add('attachments', `缺少附件：${spec.nameZh}`);
    if (present.some((a) => !a.intact)) add('attachments_intact', `附件“${spec.nameZh}”已损坏或丢失（校验值不符）`);
  }
  return problems;
}

/**
 * What the formal check (形式审查) finds missing or wrong in a submitted version's fields and attachments: the
 * messages of `formalFindings`, each a zh-CN sentence for the applicant.
 */
export function formalProblems(
  programme: ProgrammeKey,
  rules: ProgrammeRules,
  draft: ApplicationDraft,
  attachments: { kind: string; intact: boolean }[],
  knownFields: ReadonlySet<string>,
): string[] {
  return formalFindings(programme, rules, draft, attachments, knownFields).map((p) => p.message);
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

/**
 * The problems a submission is refused for at once (`FORMAL_CHECK_FAILED`): those of rules judged certain at
 * submission (`formalRules`, `judged: 'submission'`). The rest are left to the formal check.
 */
export function certainAtSubmission(
  programme: ProgrammeKey,
  rules: ProgrammeRules,
  problems: readonly FormalProblem[],
): FormalProblem[] {
  const certain = new Set(
    formalRules(programme, rules)
      .filter((r) => r.judged === 'submission')
      .map((r) => r.key),
  );
  return problems.filter((p) => certain.has(p.rule));
}

/**
 * The zh-CN detail of a submission refused for its formal problems (non-empty), listing each; when an earlier
 * version is on record (`submittedVersion`), it says that version still stands.
 */
export function formalRefusalZh(problems: readonly FormalProblem[], submittedVersion?: number): string {
  const kept = submittedVersion ? `此前提交的第 ${submittedVersion} 版仍然有效。` : '';
  return `申报材料不符合形式审查要求，本次提交未予受理：${problems.map((p) => p.message).join('；')}。请补正后重新提交。${kept}`;
}

/**
 * What a submission that was accepted is told about the rules the formal check judges only after the deadline
 * (`judged` is `both` or `formal_check`): one zh-CN sentence per rule, saying that it is judged then on the
 * records of that day.
 */
export function laterJudgedWarnings(programme: ProgrammeKey, rules: ProgrammeRules): string[] {
  return formalRules(programme, rules)
    .filter((r) => r.judged !== 'submission')
    .map((r) => `截止后形式审查时按届时记录再行判定：${r.textZh}`);
}
