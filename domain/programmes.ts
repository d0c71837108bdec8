/**
 * The programmes of 教高〔2022〕52号 and their rules, as data. This catalogue is the seed of the
 * `programmes` table; at run time the table is the source of truth (staff may tune a programme), and a
 * round may override any rule for itself.
 */
export type ProgrammeKey =
  | 'research_project'
  | 'demo_university'
  | 'demo_college'
  | 'practice_base'
  | 'brand_project'
  | 'teacher_station'
  | 'alliance'
  | 'typical_case';

export const programmeKeys: readonly ProgrammeKey[] = [
  'research_project',
  'demo_university',
  'demo_college',
  'practice_base',
  'brand_project',
  'teacher_station',
  'alliance',
  'typical_case',
];

export type InstitutionKind = 'university' | 'college';
export type Track = 'project' | 'directory' | 'showcase';

export interface RubricCriterion {
  key: string;
  nameZh: string;
  /** Weights of one rubric sum to 100. */
  weight: number;
}

export interface ProgrammeRules {
  /** Who may apply. */
  applicantKinds: InstitutionKind[];
  /** Applications per round: per applicant, and per university counting its colleges together. */
  limits: { perApplicant: number; perUniversity: number };
  /** Personal limits on open projects (research_project): lead at most one, join at most two. */
  personalLimits?: { maxLedOpen: number; maxJoinedOpen: number };
  /** Places per year (or in total), from the seed text. */
  quota: { perYear?: number; min?: number; max?: number; total?: number; overYears?: number };
  /** Restricts the fields an application may declare (practice_base: the seed's key industries). */
  fields?: string[];
  call: { workingDays: number; reminderWorkingDaysBefore: number[] };
  review: {
    expertsPerApplication: number;
    minValidScores: number;
    dueWorkingDays: number;
    reminderWorkingDaysBefore: number[];
    /** Drop the highest and lowest score when at least this many are valid. */
    trimAtOrAbove: number;
    /** A spread (max − min) above this is flagged to staff. */
    spreadFlagAbove: number;
  };
  publicity: { workingDays: number };
  rubric: RubricCriterion[];
  /** The research-project lifecycle after 立项 (research_project only). */
  project?: {
    durationYears: number;
    /** Working days to hand in a midterm or final report, from the day it is asked for. */
    reportWorkingDays: number;
    /** A report passes at or above this aggregated score. */
    passMark: number;
    /** One extension, of at most this many months. */
    maxExtensionMonths: number;
  };
  directory?: {
    evaluationReportWorkingDays: number;
    rectificationMonths: number;
    maxRectificationMonths: number;
    banYears: number;
    /** The annual evaluation's rubric (also used to re-evaluate a rectification); the common one if absent. */
    evaluationRubric?: RubricCriterion[];
  };
}

export interface Programme {
  key: ProgrammeKey;
  nameZh: string;
  track: Track;
  entersDirectory: boolean;
  quotaNote: string;
  rules: ProgrammeRules;
}

const keyIndustries = [
  'next_gen_it',
  'high_end_equipment',
  'biomedicine',
  'new_materials',
  'nev_connected',
  'energy_saving',
  'new_energy',
];

const commonCall = { workingDays: 20, reminderWorkingDaysBefore: [7, 3, 1] };
const commonReview = {
  expertsPerApplication: 3,
  minValidScores: 3,
  dueWorkingDays: 10,
  reminderWorkingDaysBefore: [3, 1],
  trimAtOrAbove: 5,
  spreadFlagAbove: 20,
};
const commonPublicity = { workingDays: 5 };
/** The annual dynamic evaluation's rubric (动态评价): what a directory member is judged on each year. */
export const evaluationRubric: readonly RubricCriterion[] = [
  { key: 'outcomes', nameZh: '年度建设成效与目标达成', weight: 35 },
  { key: 'mechanism', nameZh: '产教融合机制创新与运行', weight: 25 },
  { key: 'industry_service', nameZh: '服务产业与企业参与程度', weight: 20 },
  { key: 'demonstration', nameZh: '示范引领与持续发展', weight: 20 },
];

/** The rubric on which experts judge a research project's midterm and final reports (中期检查, 结项). */
export const projectReportRubric: readonly RubricCriterion[] = [
  { key: 'progress', nameZh: '研究进展与目标完成情况', weight: 40 },
  { key: 'outcomes', nameZh: '成果质量与应用价值', weight: 30 },
  { key: 'cooperation', nameZh: '校企合作实效', weight: 20 },
  { key: 'funds', nameZh: '经费使用与管理', weight: 10 },
];

/** Grades of the annual evaluation: 优秀 ≥ 90, 良好 ≥ 75, 合格 ≥ 60, 不合格 < 60. */
export type EvaluationGrade = 'excellent' | 'good' | 'pass' | 'fail';

export const gradeZh: Record<EvaluationGrade, string> = {
  excellent: '优秀',
  good: '良好',
  pass: '合格',
  fail: '不合格',
};

export function gradeOf(score: number): EvaluationGrade {
  if (score >= 90) return 'excellent';
  if (score >= 75) return 'good';
  if (score >= 60) return 'pass';
  return 'fail';
}

const commonDirectory = {
  evaluationReportWorkingDays: 20,
  rectificationMonths: 6,
  maxRectificationMonths: 24,
  banYears: 5,
};

export const programmeCatalogue: readonly Programme[] = [
  {
    key: 'research_project',
    nameZh: '产教融合研究项目',
    track: 'project',
    entersDirectory: false,
    quotaNote: '五年内立项和培育 1000 项（每年约 200 项）',
    rules: {
      applicantKinds: ['university', 'college'],
      limits: { perApplicant: 5, perUniversity: 15 },
      personalLimits: { maxLedOpen: 1, maxJoinedOpen: 2 },
      quota: { perYear: 200, total: 1000, overYears: 5 },
      project: { durationYears: 2, reportWorkingDays: 20, passMark: 60, maxExtensionMonths: 12 },
      call: commonCall,
      review: commonReview,
      publicity: commonPublicity,
      rubric: [
        { key: 'significance', nameZh: '选题意义与创新性', weight: 30 },
        { key: 'approach', nameZh: '研究内容与技术路线', weight: 30 },
        { key: 'industry_fit', nameZh: '校企合作与产业需求契合度', weight: 25 },
        { key: 'team', nameZh: '研究基础与团队', weight: 15 },
      ],
    },
  },
  {
    key: 'demo_university',
    nameZh: '产教融合示范高校',
    track: 'directory',
    entersDirectory: true,
    quotaNote: '每年遴选认定 3–5 所',
    rules: {
      applicantKinds: ['university'],
      limits: { perApplicant: 1, perUniversity: 1 },
      quota: { min: 3, max: 5 },
      call: commonCall,
      review: { ...commonReview, expertsPerApplication: 5 },
      publicity: commonPublicity,
      rubric: [
        { key: 'collaborative_education', nameZh: '产教协同育人', weight: 30 },
        { key: 'faculty', nameZh: '校企合作培养师资', weight: 20 },
        { key: 'governance', nameZh: '学校治理体制机制创新', weight: 20 },
        { key: 'rd_centres', nameZh: '与企业共建研发中心', weight: 20 },
        { key: 'plan', nameZh: '建设规划与保障', weight: 10 },
      ],
      directory: commonDirectory,
    },
  },
  {
    key: 'demo_college',
    nameZh: '产教融合示范学院',
    track: 'directory',
    entersDirectory: true,
    quotaNote: '每年遴选认定 50 个',
    rules: {
      applicantKinds: ['college'],
      limits: { perApplicant: 1, perUniversity: 2 },
      quota: { perYear: 50 },
      call: commonCall,
      review: commonReview,
      publicity: commonPublicity,
      rubric: [
        { key: 'industry_alignment', nameZh: '服务新产业新业态新技术', weight: 25 },
        { key: 'co_construction', nameZh: '校企共建机制', weight: 25 },
        { key: 'outcomes', nameZh: '人才培养成效', weight: 30 },
        { key: 'plan', nameZh: '建设规划与保障', weight: 20 },
      ],
      directory: commonDirectory,
    },
  },
  {
    key: 'practice_base',
    nameZh: '产教融合示范实践教学基地',
    track: 'directory',
    entersDirectory: true,
    quotaNote: '每年遴选 50 个左右，围绕重点或新兴行业产业',
    rules: {
      applicantKinds: ['university', 'college'],
      limits: { perApplicant: 1, perUniversity: 2 },
      quota: { perYear: 50 },
      fields: keyIndustries,
      call: commonCall,
      review: commonReview,
      publicity: commonPublicity,
      rubric: [
        { key: 'platform', nameZh: '基地条件与平台载体', weight: 30 },
        { key: 'practice_teaching', nameZh: '实践教学内容与方法', weight: 30 },
        { key: 'sharing', nameZh: '共建共享机制', weight: 25 },
        { key: 'demonstration', nameZh: '示范引领作用', weight: 15 },
      ],
      directory: commonDirectory,
    },
  },
  {
    key: 'brand_project',
    nameZh: '产教融合品牌项目',
    track: 'directory',
    entersDirectory: true,
    quotaNote: '每年遴选认定 100 项（新工科、新文科、新农科、新医科）',
    rules: {
      applicantKinds: ['university', 'college'],
      limits: { perApplicant: 2, perUniversity: 4 },
      quota: { perYear: 100 },
      call: commonCall,
      review: commonReview,
      publicity: commonPublicity,
      rubric: [
        { key: 'brand', nameZh: '品牌特色与示范辐射', weight: 35 },
        { key: 'strategy_fit', nameZh: '对接国家战略与产业重点', weight: 25 },
        { key: 'outcomes', nameZh: '建设成效', weight: 25 },
        { key: 'sustainability', nameZh: '可持续性', weight: 15 },
      ],
      directory: commonDirectory,
    },
  },
  {
    key: 'teacher_station',
    nameZh: '教师企业实践流动站',
    track: 'directory',
    entersDirectory: true,
    quotaNote: '建立 50 个左右',
    rules: {
      applicantKinds: ['university', 'college'],
      limits: { perApplicant: 1, perUniversity: 2 },
      quota: { perYear: 50 },
      call: commonCall,
      review: commonReview,
      publicity: commonPublicity,
      rubric: [
        { key: 'host_enterprise', nameZh: '依托单位与实践岗位', weight: 30 },
        { key: 'teacher_development', nameZh: '教师技术跟进与技能提升', weight: 30 },
        { key: 'sharing', nameZh: '技术共享与成果转化', weight: 25 },
        { key: 'management', nameZh: '运行管理', weight: 15 },
      ],
      directory: commonDirectory,
    },
  },
  {
    key: 'alliance',
    nameZh: '产教融合联盟',
    track: 'directory',
    entersDirectory: true,
    quotaNote: '组建 10 个左右（总数）',
    rules: {
      applicantKinds: ['university'],
      limits: { perApplicant: 1, perUniversity: 1 },
      quota: { total: 10 },
      call: commonCall,
      review: commonReview,
      publicity: commonPublicity,
      rubric: [
        { key: 'members', nameZh: '成员构成与集聚优势', weight: 30 },
        { key: 'organisation', nameZh: '组织运行机制', weight: 25 },
        { key: 'future_fields', nameZh: '面向新兴与未来产业', weight: 25 },
        { key: 'plan', nameZh: '建设规划', weight: 20 },
      ],
      directory: commonDirectory,
    },
  },
  {
    key: 'typical_case',
    nameZh: '产教融合典型案例',
    track: 'showcase',
    entersDirectory: false,
    quotaNote: '每年选树一批',
    rules: {
      applicantKinds: ['university', 'college'],
      limits: { perApplicant: 2, perUniversity: 2 },
      quota: {},
      call: commonCall,
      review: commonReview,
      publicity: commonPublicity,
      rubric: [
        { key: 'integration', nameZh: '产教精准对接与充分融合', weight: 35 },
        { key: 'education', nameZh: '协同育人成效', weight: 35 },
        { key: 'replicability', nameZh: '可复制可推广', weight: 30 },
      ],
    },
  },
];

export function rubricWeightTotal(rubric: readonly RubricCriterion[]): number {
  return rubric.reduce((sum, c) => sum + c.weight, 0);
}

/** "2027年度产教融合示范学院申报" — the Chinese title of a round (memo, emails, pages). */
export function roundTitleZh(programmeNameZh: string, year: number): string {
  return `${year}年度${programmeNameZh}申报`;
}

/** Rules a round may override for itself (stored with the round). */
export interface RoundRuleOverrides {
  limits?: Partial<ProgrammeRules['limits']>;
  call?: Partial<ProgrammeRules['call']>;
  personalLimits?: ProgrammeRules['personalLimits'];
  quota?: ProgrammeRules['quota'];
  publicity?: Partial<ProgrammeRules['publicity']>;
}

/** A programme's rules as one round applies them. */
export function effectiveRules(rules: ProgrammeRules, overrides: RoundRuleOverrides | undefined): ProgrammeRules {
  if (!overrides) return rules;
  return {
    ...rules,
    limits: { ...rules.limits, ...overrides.limits },
    call: { ...rules.call, ...overrides.call },
    publicity: { ...rules.publicity, ...overrides.publicity },
    ...(overrides.quota ? { quota: overrides.quota } : {}),
    ...(overrides.personalLimits ? { personalLimits: overrides.personalLimits } : {}),
  };
}
