import type { Access, RouteEntry } from '../../api/route.js';
import { CONTRACT_INSTITUTION, CONTRACT_RECEIPT_EMAIL, type ContractIds } from './contract.seed.js';
import { programmeCatalogue } from '../../domain/programmes.js';
import { pdf } from './round.call.js';
import { REFERENCE_LISTS } from '../../db/repositories/reference-lists.js';
import { writeWorkbookXlsx, XLSX_CONTENT_TYPE } from '../../services/spreadsheet.js';

/**
 * The authorization matrix of issue 15, point 5: every API route × every kind of caller → the expected outcome.
 * test/e2e/authorization.matrix.test.ts reads the routes from the running API (`ApiRoutes.table`), finds each
 * one's row here, sends the row's sample request as every caller and compares. A route without a row, or a row
 * without a route, fails that test.
 *
 * Adding a route: add a row under its key `'METHOD /express/path'` — reads with the reads, writes after, the
 * ones that end a record last, each on a record of its own from `seedContract` — with a sample request that is
 * VALID for an allowed caller (ownership is checked after validation: an invalid body would hide a denial
 * behind a 422) and its `access` as meant (the test fails while the route declares another). The columns follow
 * from that `access` (`byAccess`); write `expect` only for what
 * ownership adds: the owner against another university, a college of the owner and the enterprise, the
 * assigned expert against another.
 */

/** The callers, in the order each row is sent. */
export const CALLERS = [
  'anonymous',
  'officer',
  'administrator',
  'ops',
  'owner',
  'otherUniversity',
  'college',
  'enterprise',
  'expertAssigned',
  'expertNotAssigned',
] as const;

/** A caller of the matrix: no token, or an account's personal access token (see `callerTokens`). */
export type Caller = (typeof CALLERS)[number];

/**
 * What a caller gets: `'allow'` — past access control and ownership (not 401, not 403, not 404, not 5xx, not
 * 422 VALIDATION_FAILED: the sample is valid; a 409/422 from the record's state is fine, earlier rows may have
 * changed it) — or a denial `'<status> <CODE>'`, matched exactly (status and problem+json `code`): 401/403, a
 * 404 that does not say whether the record exists, or a refusal that names no one else's record (422
 * SOURCE_NOT_ELIGIBLE).
 */
export type Outcome = 'allow' | `${number} ${string}`;

/** A request as the matrix sends it: path filled in, query, and a JSON body or raw bytes. */
export interface Sample {
  path: string;
  query?: Record<string, string>;
  body?: unknown;
  raw?: { contentType: string; data: Uint8Array | string };
}

export interface MatrixRow {
  /** `'METHOD /express/path'`, as `routeKey` names a route of the table. */
  key: string;
  /**
   * Who the route is meant for, written here rather than read from the code: a change to a route's `access`
   * fails the first test until its row says the same (reviewed), and the columns follow from this (`byAccess`).
   */
  access: Access;
  sample: (ids: ContractIds) => Sample;
  /** Outcomes that differ from `byAccess` (ownership). */
  expect?: Partial<Record<Caller, Outcome>>;
  /**
   * Text (a seeded id, an institution) an allowed caller among `from` must not find in the answer: the route
   * answers them, but without the owner's records.
   */
  hides?: { from: Caller[]; text: (ids: ContractIds) => string };
  /**
   * The same route asked again once every row has run, on a record an earlier row's write left in another state
   * (the assigned expert's declined assignment): its sample, the outcomes that differ from `byAccess`, and why.
   */
  again?: { sample: (ids: ContractIds) => Sample; expect?: Partial<Record<Caller, Outcome>>; why: string };
  /**
   * A known leak not fixed yet: these callers are expected to be denied (`expect`), and a mismatch is reported
   * as to do instead of failing — until it is fixed, when the marker must go.
   */
  todo?: { callers: Caller[]; reason: string };
}

/** A route's key in the matrix: `GET /api/rounds/:roundId`. */
export function routeKey(route: Pick<RouteEntry, 'method' | 'path'>): string {
  return `${route.method.toUpperCase()} ${route.path}`;
}

const UNAUTHENTICATED: Outcome = '401 UNAUTHENTICATED';
const FORBIDDEN: Outcome = '403 FORBIDDEN';

/**
 * The outcome of each caller from the route's `access` alone (api/route.ts `authorise`): public — everyone;
 * otherwise anonymous 401 UNAUTHENTICATED, and every caller the access list does not name 403 FORBIDDEN
 * (`staff` names the officer and the administrator, `administrator` the administrator alone, `ops` the ops
 * engineer, `applicant` every institution user, `expert` both experts).
 */
export function byAccess(access: Access): Record<Caller, Outcome> {
  const grants = (caller: Caller): boolean => {
    if (access === 'public' || access === 'authenticated') return true;
    if (access === 'administrator') return caller === 'administrator';
    switch (caller) {
      case 'officer':
      case 'administrator':
        return access.includes('staff');
      case 'ops':
        return access.includes('ops');
      case 'owner':
      case 'otherUniversity':
      case 'college':
        return access.includes('applicant');
      case 'enterprise':
        return access.includes('enterprise');
      default:
        return access.includes('expert');
    }
  };
  return Object.fromEntries(
    CALLERS.map((caller) => [
      caller,
      caller === 'anonymous' ? (access === 'public' ? 'allow' : UNAUTHENTICATED) : grants(caller) ? 'allow' : FORBIDDEN,
    ]),
  ) as Record<Caller, Outcome>;
}

/** Another institution (of another university, or a college of the owner's) reaching the owner's record. */
const notOthers = (outcome: Outcome) => ({ otherUniversity: outcome, college: outcome });
/** An expert not assigned reaching the assigned expert's record. */
const notUnassigned = (outcome: Outcome) => ({ expertNotAssigned: outcome });

/** Every caller but the officer and the administrator: ops engineers see no programme content or decision. */
const notStaff: Caller[] = CALLERS.filter((c) => c !== 'officer' && c !== 'administrator');

const YEAR = new Date().getUTCFullYear();
const reason = '授权矩阵测试';
/** A seeded partnership (demo data) the administrator's row removes last: 河南科技大学 ↔ 洛阳钼业. */
const MATRIX_PARTNERSHIP = 'haust/cmoc';
/** A reference workbook with one worksheet (an enterprise), for the workbook import's dry run. */
const MATRIX_WORKBOOK = await writeWorkbookXlsx([
  {
    name: REFERENCE_LISTS.enterprises.titleZh,
    shape: REFERENCE_LISTS.enterprises.shape,
    rows: [{ id: 'matrix-workbook', nameZh: '授权矩阵工作簿企业', industry: '新材料', city: '郑州' }],
  },
]);
/** An expert of the demo pool, read by staff. */
const MATRIX_EXPERT = 'exp-001';
/** The expert the administrator's rows create, then change (deactivated from the start: it is never invited). */
const MATRIX_EXPERT_FIELDS = {
  nameZh: '矩阵专家',
  titleZh: '教授',
  enterpriseId: 'hanwei',
  email: 'matrix.expert@pool.ronghe.example',
  fields: ['next_gen_it'],
  active: false,
  conflictInstitutionIds: [],
  conflictEnterpriseIds: [],
};
/** A text long enough for the fields that ask for at least 20 characters (reports, summaries). */
const statement = '本单位已按要求完成各项建设任务，校企双方共同制定培养方案并组织实施，成效明显。';

/**
 * The rows, in the order they are sent: reads, then writes, then the writes that end a record (each on a record
 * of its own).
 */
export const MATRIX: MatrixRow[] = [
  // Reads.
  { key: 'GET /healthz', access: 'public', sample: () => ({ path: '/healthz' }) },
  { key: 'GET /api/session', access: 'public', sample: () => ({ path: '/api/session' }) },
  {
    key: 'GET /api/calendar/period',
    access: 'public',
    sample: () => ({ path: '/api/calendar/period', query: { opens: `${YEAR}-09-30`, workingDays: '5' } }),
  },
  {
    key: 'GET /api/calendar/reminder',
    access: 'public',
    sample: () => ({ path: '/api/calendar/reminder', query: { deadlineDay: `${YEAR}-09-30`, workingDaysBefore: '3' } }),
  },
  { key: 'GET /api/calendar/years/:year', access: 'public', sample: () => ({ path: `/api/calendar/years/${YEAR}` }) },
  { key: 'GET /api/programmes', access: 'authenticated', sample: () => ({ path: '/api/programmes' }) },
  {
    key: 'GET /api/programmes/:programme',
    access: 'authenticated',
    sample: () => ({ path: '/api/programmes/alliance' }),
  },
  {
    key: 'GET /api/programmes/:programme/rules/versions',
    access: ['staff'],
    sample: () => ({ path: '/api/programmes/alliance/rules/versions' }),
  },
  {
    key: 'GET /api/rounds/:roundId',
    access: 'authenticated',
    sample: (ids) => ({ path: `/api/rounds/${ids.roundId}` }),
  },
  {
    key: 'GET /api/rounds/:roundId/progress',
    access: ['staff', 'ops'],
    sample: (ids) => ({ path: `/api/rounds/${ids.roundId}/progress` }),
  },
  {
    key: 'GET /api/rounds/:roundId/applications',
    access: ['staff', 'applicant'],
    sample: (ids) => ({ path: `/api/rounds/${ids.roundId}/applications` }),
    hides: { from: ['otherUniversity', 'college'], text: (ids) => ids.applicationId },
  },
  {
    key: 'GET /api/applications/:applicationId',
    access: ['staff', 'applicant'],
    sample: (ids) => ({ path: `/api/applications/${ids.applicationId}` }),
    expect: notOthers(FORBIDDEN),
  },
  {
    key: 'GET /api/applications/:applicationId/attachments/:attachmentId',
    access: ['staff', 'applicant', 'expert'],
    sample: (ids) => ({
      path: `/api/applications/${ids.reviewedApplicationId}/attachments/${ids.reviewedAttachmentId}`,
    }),
    expect: { ...notOthers(FORBIDDEN), ...notUnassigned(FORBIDDEN) },
  },
  {
    key: 'GET /api/me/assignments',
    access: ['expert'],
    sample: () => ({ path: '/api/me/assignments' }),
    hides: { from: ['expertNotAssigned'], text: (ids) => ids.assignmentId },
  },
  {
    key: 'GET /api/assignments/:assignmentId',
    access: ['expert', 'staff'],
    sample: (ids) => ({ path: `/api/assignments/${ids.assignmentId}` }),
    expect: notUnassigned(FORBIDDEN),
    again: {
      why: 'an expert reads the material only while the assignment is live: not once declined',
      sample: (ids) => ({ path: `/api/assignments/${ids.declinableAssignmentId}` }),
      expect: { expertAssigned: '409 ASSIGNMENT_CLOSED', ...notUnassigned(FORBIDDEN) },
    },
  },
  {
    key: 'GET /api/rounds/:roundId/shortlist',
    access: ['staff'],
    sample: (ids) => ({ path: `/api/rounds/${ids.reviewRoundId}/shortlist` }),
  },
  {
    key: 'GET /api/publicity/:publicityId',
    access: 'public',
    sample: (ids) => ({ path: `/api/publicity/${ids.publicityId}` }),
  },
  {
    key: 'GET /api/rounds/:roundId/publicity',
    access: 'public',
    sample: (ids) => ({ path: `/api/rounds/${ids.publicityRoundId}/publicity` }),
  },
  {
    key: 'GET /api/publicity/:publicityId/objections',
    access: ['staff'],
    sample: (ids) => ({ path: `/api/publicity/${ids.publicityId}/objections` }),
  },
  {
    key: 'GET /api/rounds/:roundId/outcome',
    access: 'public',
    sample: (ids) => ({ path: `/api/rounds/${ids.publicityRoundId}/outcome` }),
  },
  { key: 'GET /api/directory', access: 'public', sample: () => ({ path: '/api/directory' }) },
  {
    key: 'GET /api/directory/:entryId',
    access: 'public',
    sample: (ids) => ({ path: `/api/directory/${ids.entryId}` }),
    // Who decided (the seeded admission's actor): officers and administrators only.
    hides: { from: notStaff, text: () => '"actor"' },
  },
  {
    key: 'GET /api/evaluations/:evaluationId',
    access: 'authenticated',
    sample: (ids) => ({ path: `/api/evaluations/${ids.evaluationId}` }),
    hides: {
      from: ['ops', 'otherUniversity', 'college', 'enterprise', 'expertAssigned', 'expertNotAssigned'],
      text: (ids) => ids.entryId,
    },
  },
  {
    key: 'GET /api/events/:eventId',
    access: ['staff', 'applicant'],
    sample: (ids) => ({ path: `/api/events/${ids.eventId}` }),
  },
  {
    key: 'GET /api/projects/:projectId',
    access: ['staff', 'applicant'],
    sample: (ids) => ({ path: `/api/projects/${ids.projectId}` }),
    expect: notOthers('404 PROJECT_NOT_FOUND'),
  },
  {
    key: 'GET /api/showcases/:showcaseId',
    access: 'public',
    sample: (ids) => ({ path: `/api/showcases/${ids.showcaseId}` }),
  },
  {
    key: 'GET /api/showcases/:showcaseId/cases',
    access: 'public',
    sample: (ids) => ({ path: `/api/showcases/${ids.showcaseId}/cases` }),
  },
  { key: 'GET /api/schedules', access: ['staff', 'ops'], sample: () => ({ path: '/api/schedules' }) },
  {
    key: 'GET /api/schedules/:scheduleId',
    access: ['staff', 'ops'],
    sample: (ids) => ({ path: `/api/schedules/${ids.scheduleId}` }),
  },
  { key: 'GET /api/outbox', access: ['staff', 'ops'], sample: () => ({ path: '/api/outbox' }) },
  {
    key: 'GET /api/receipts/:receiptId',
    access: 'public',
    sample: (ids) => ({ path: `/api/receipts/${encodeURIComponent(ids.receiptId)}` }),
    // The request's contents (the objector's personal data): officers and administrators only.
    hides: { from: notStaff, text: () => CONTRACT_RECEIPT_EMAIL },
  },
  { key: 'GET /api/accounts', access: 'administrator', sample: () => ({ path: '/api/accounts' }) },
  {
    key: 'GET /api/accounts/imports/template.xlsx',
    access: 'administrator',
    sample: () => ({ path: '/api/accounts/imports/template.xlsx' }),
  },
  {
    key: 'GET /api/access-tokens',
    access: 'authenticated',
    sample: () => ({ path: '/api/access-tokens' }),
    hides: {
      from: CALLERS.filter((c) => c !== 'owner'),
      text: (ids) => ids.accounts.applicant.spareTokenId,
    },
  },

  // Reference data (issue 16): staff read, the administrator changes.
  { key: 'GET /api/reference/export.xlsx', access: ['staff'], sample: () => ({ path: '/api/reference/export.xlsx' }) },
  ...(['institutions', 'enterprises', 'partnerships', 'experts'] as const).flatMap((list): MatrixRow[] => [
    { key: `GET /api/reference/${list}`, access: ['staff'], sample: () => ({ path: `/api/reference/${list}` }) },
    {
      key: `GET /api/reference/${list}/export.xlsx`,
      access: ['staff'],
      sample: () => ({ path: `/api/reference/${list}/export.xlsx` }),
    },
  ]),
  {
    key: 'GET /api/reference/institutions/:institutionId',
    access: ['staff'],
    sample: () => ({ path: `/api/reference/institutions/${CONTRACT_INSTITUTION}` }),
  },
  {
    key: 'GET /api/reference/institutions/:institutionId/versions',
    access: ['staff'],
    sample: () => ({ path: `/api/reference/institutions/${CONTRACT_INSTITUTION}/versions` }),
  },
  {
    key: 'GET /api/reference/enterprises/:enterpriseId',
    access: ['staff'],
    sample: (ids) => ({ path: `/api/reference/enterprises/${ids.enterpriseId}` }),
  },
  {
    key: 'GET /api/reference/enterprises/:enterpriseId/versions',
    access: ['staff'],
    sample: (ids) => ({ path: `/api/reference/enterprises/${ids.enterpriseId}/versions` }),
  },
  {
    key: 'GET /api/reference/partnerships/:institutionId/:enterpriseId/versions',
    access: ['staff'],
    sample: () => ({ path: `/api/reference/partnerships/${MATRIX_PARTNERSHIP}/versions` }),
  },
  // An expert of the demo pool (the seed's: it has its version 1); its email and phone are for staff only.
  {
    key: 'GET /api/reference/experts/:expertId',
    access: ['staff'],
    sample: () => ({ path: `/api/reference/experts/${MATRIX_EXPERT}` }),
  },
  {
    key: 'GET /api/reference/experts/:expertId/versions',
    access: ['staff'],
    sample: () => ({ path: `/api/reference/experts/${MATRIX_EXPERT}/versions` }),
  },

  // Writes.
  // Reference data: a new institution and enterprise (then changed), imports checked only (dry run).
  {
    key: 'POST /api/reference/institutions',
    access: 'administrator',
    sample: () => ({
      path: '/api/reference/institutions',
      body: { id: 'matrix-univ', nameZh: '授权矩阵测试大学', city: '郑州', contactEmail: 'jwc@matrix-univ.example' },
    }),
  },
  {
    key: 'PUT /api/reference/institutions/:institutionId',
    access: 'administrator',
    sample: () => ({
      path: '/api/reference/institutions/matrix-univ',
      body: { nameZh: '授权矩阵测试大学', city: '开封', contactEmail: 'jwc@matrix-univ.example', reason },
    }),
  },
  {
    key: 'POST /api/reference/enterprises',
    access: 'administrator',
    sample: () => ({
      path: '/api/reference/enterprises',
      body: { id: 'matrix-enterprise', nameZh: '授权矩阵测试企业', industry: 'next_gen_it', city: '郑州' },
    }),
  },
  {
    key: 'PUT /api/reference/enterprises/:enterpriseId',
    access: 'administrator',
    sample: () => ({
      path: '/api/reference/enterprises/matrix-enterprise',
      body: { nameZh: '授权矩阵测试企业', industry: 'new_materials', city: '郑州', reason },
    }),
  },
  {
    key: 'POST /api/reference/experts',
    access: 'administrator',
    sample: () => ({ path: '/api/reference/experts', body: { id: 'matrix-expert', ...MATRIX_EXPERT_FIELDS } }),
  },
  {
    key: 'PUT /api/reference/experts/:expertId',
    access: 'administrator',
    sample: () => ({
      path: '/api/reference/experts/matrix-expert',
      body: { ...MATRIX_EXPERT_FIELDS, titleZh: '研究员', reason },
    }),
  },
  {
    key: 'POST /api/reference/partnerships',
    access: 'administrator',
    sample: () => ({
      path: '/api/reference/partnerships',
      body: { institutionId: 'matrix-univ', enterpriseId: 'matrix-enterprise', reason },
    }),
  },
  ...(
    [
      ['institutions', '编号,名称,城市,联系邮箱\nmatrix-import,授权矩阵导入大学,郑州,jwc@matrix-import.example\n'],
      ['enterprises', '编号,名称,所属行业,城市\nmatrix-import,授权矩阵导入企业,新材料,郑州\n'],
      ['partnerships', `单位编号,企业编号\n${CONTRACT_INSTITUTION},hanwei\n`],
      [
        'experts',
        '编号,姓名,职称,所在企业,电子邮箱,评审领域\nmatrix-import,矩阵专家,教授,hanwei,mi@pool.example,新材料\n',
      ],
    ] as const
  ).map(([list, csv]): MatrixRow => ({
    key: `POST /api/reference/${list}/import`,
    access: 'administrator',
    sample: () => ({
      path: `/api/reference/${list}/import`,
      query: { dryRun: 'true' },
      raw: { contentType: 'text/csv', data: csv },
    }),
  })),
  {
    key: 'POST /api/reference/import',
    access: 'administrator',
    sample: () => ({
      path: '/api/reference/import',
      query: { dryRun: 'true' },
      raw: { contentType: XLSX_CONTENT_TYPE, data: MATRIX_WORKBOOK },
    }),
  },
  {
    key: 'POST /api/session',
    access: 'public',
    sample: (ids) => ({ path: '/api/session', body: { email: ids.signIn.email, password: ids.signIn.password } }),
  },
  {
    key: 'PUT /api/calendar/years/:year',
    access: ['staff'],
    sample: () => ({
      path: '/api/calendar/years/2045',
      body: { holidays: [{ date: '2045-10-02', name: '国庆节' }], workdays: [], reference: reason },
    }),
  },
  {
    key: 'POST /api/rounds',
    access: ['staff'],
    sample: () => ({ path: '/api/rounds', body: { programme: 'demo_college', year: YEAR + 2 } }),
  },
  {
    key: 'PUT /api/rounds/:roundId/deadline',
    access: ['staff'],
    sample: (ids) => ({
      path: `/api/rounds/${ids.roundId}/deadline`,
      body: { deadline: new Date(Date.now() + 200 * 86_400_000).toISOString().slice(0, 10), reason },
    }),
  },
  {
    key: 'POST /api/rounds/:roundId/applications',
    access: ['applicant'],
    sample: (ids) => ({
      path: `/api/rounds/${ids.roundId}/applications`,
      body: { title: '授权矩阵测试申报', field: 'next_gen_it', summary: reason },
    }),
  },
  {
    key: 'PUT /api/applications/:applicationId',
    access: ['applicant'],
    sample: (ids) => ({
      path: `/api/applications/${ids.applicationId}`,
      body: {
        title: '教师企业实践流动站建设方案',
        field: 'next_gen_it',
        summary:
          '依托行业龙头企业建设教师企业实践流动站，组织专业教师定期赴企业跟岗实践，参与技术研发与项目攻关，' +
          '提升专业课教师的技术跟进和技能指导水平，形成校企共享的师资培养机制。',
      },
    }),
    expect: notOthers(FORBIDDEN),
  },
  {
    key: 'POST /api/applications/:applicationId/attachments',
    access: ['applicant'],
    sample: (ids) => ({
      path: `/api/applications/${ids.applicationId}/attachments`,
      query: { kind: 'supporting', fileName: 'fujian.pdf' },
      raw: { contentType: 'application/pdf', data: pdf },
    }),
    expect: notOthers(FORBIDDEN),
  },
  {
    key: 'POST /api/applications/:applicationId/submit',
    access: ['applicant'],
    sample: (ids) => ({ path: `/api/applications/${ids.applicationId}/submit` }),
    expect: notOthers(FORBIDDEN),
  },
  {
    key: 'POST /api/applications/:applicationId/withdraw',
    access: ['applicant'],
    sample: (ids) => ({ path: `/api/applications/${ids.applicationId}/withdraw`, body: { reason } }),
    expect: notOthers(FORBIDDEN),
  },
  {
    key: 'POST /api/assignments/:assignmentId/accept',
    access: ['expert'],
    sample: (ids) => ({ path: `/api/assignments/${ids.assignmentId}/accept` }),
    expect: notUnassigned(FORBIDDEN),
  },
  {
    key: 'PUT /api/assignments/:assignmentId/review',
    access: ['expert'],
    sample: (ids) => ({
      path: `/api/assignments/${ids.assignmentId}/review`,
      body: { scores: Object.fromEntries(ids.rubricKeys.map((k) => [k, 80])), comment: reason },
    }),
    expect: notUnassigned(FORBIDDEN),
  },
  {
    key: 'POST /api/rounds/:roundId/shortlist/confirm',
    access: ['staff'],
    sample: (ids) => ({ path: `/api/rounds/${ids.reviewRoundId}/shortlist/confirm`, body: {} }),
  },
  {
    key: 'POST /api/rounds/:roundId/review/retry',
    access: ['staff', 'ops'],
    sample: (ids) => ({ path: `/api/rounds/${ids.reviewRoundId}/review/retry` }),
  },
  {
    key: 'POST /api/reviews/:reviewId/retry',
    access: ['staff', 'ops'],
    sample: (ids) => ({ path: `/api/reviews/${ids.reviewId}/retry` }),
  },
  {
    key: 'POST /api/workflows/:workflowId/retry-child',
    access: ['staff', 'ops'],
    sample: (ids) => ({ path: `/api/workflows/${ids.workflowId}/retry-child`, body: {} }),
  },
  {
    key: 'POST /api/publicity/:publicityId/objections',
    access: 'public',
    sample: (ids) => ({
      path: `/api/publicity/${ids.publicityId}/objections`,
      body: {
        entryId: ids.publicityEntryId,
        name: '陈立',
        unit: '某研究所',
        phone: '0371-88886666',
        email: 'chen.li@objector.example',
        facts: '该项目的合作企业实践岗位数量与实际不符，请核查。',
      },
    }),
  },
  {
    key: 'POST /api/objections/:objectionId/resolution',
    access: ['staff'],
    sample: (ids) => ({
      path: `/api/objections/${ids.objectionId}/resolution`,
      body: { outcome: 'dismissed', reason: '经核查，合作企业实践岗位数量与申报一致。' },
    }),
  },
  {
    key: 'POST /api/directory/:entryId/rectification-report',
    access: ['applicant'],
    sample: (ids) => ({ path: `/api/directory/${ids.entryId}/rectification-report`, body: { summary: statement } }),
    expect: notOthers('404 DIRECTORY_ENTRY_NOT_FOUND'),
  },
  {
    key: 'POST /api/directory/:entryId/rectification-grade',
    access: ['staff'],
    sample: (ids) => ({
      path: `/api/directory/${ids.entryId}/rectification-grade`,
      body: { passed: true, reason },
    }),
  },
  {
    key: 'POST /api/evaluations',
    access: ['staff'],
    sample: () => ({ path: '/api/evaluations', body: { programme: 'practice_base', year: YEAR + 1 } }),
  },
  {
    key: 'POST /api/evaluations/:evaluationId/reports',
    access: ['applicant'],
    sample: (ids) => ({
      path: `/api/evaluations/${ids.evaluationId}/reports`,
      body: { entryId: ids.entryId, summary: statement },
    }),
    expect: notOthers('404 DIRECTORY_ENTRY_NOT_FOUND'),
  },
  {
    key: 'POST /api/evaluations/:evaluationId/grades',
    access: ['staff'],
    sample: (ids) => ({
      path: `/api/evaluations/${ids.evaluationId}/grades`,
      body: { entryId: ids.entryId, grade: 'good', reason },
    }),
  },
  {
    key: 'POST /api/schedules',
    access: ['staff'],
    sample: () => ({ path: '/api/schedules', body: { kind: 'round', programme: 'demo_college', month: 3, day: 1 } }),
  },
  {
    key: 'POST /api/schedules/:scheduleId/pause',
    access: ['staff'],
    sample: (ids) => ({ path: `/api/schedules/${ids.scheduleId}/pause`, body: { reason } }),
  },
  {
    key: 'POST /api/schedules/:scheduleId/resume',
    access: ['staff'],
    sample: (ids) => ({ path: `/api/schedules/${ids.scheduleId}/resume`, body: { reason } }),
  },
  {
    key: 'POST /api/schedules/:scheduleId/trigger',
    access: ['staff'],
    sample: (ids) => ({ path: `/api/schedules/${ids.scheduleId}/trigger`, body: { reason } }),
  },
  {
    key: 'POST /api/events',
    access: ['staff'],
    sample: (ids) => ({
      path: '/api/events',
      body: {
        kind: 'exhibition',
        title: `${YEAR}年产教融合成果展`,
        startsAt: `${new Date(Date.now() + 120 * 86_400_000).toISOString().slice(0, 10)}T09:30:00+08:00`,
        place: '郑州国际会展中心 1 号馆',
        presenters: [CONTRACT_INSTITUTION],
        showcaseId: ids.showcaseId,
      },
    }),
  },
  {
    key: 'POST /api/events/:eventId/rsvp',
    access: ['applicant'],
    sample: (ids) => ({ path: `/api/events/${ids.eventId}/rsvp`, body: { response: 'confirm' } }),
    expect: notOthers('403 NOT_INVITED'),
  },
  {
    key: 'POST /api/events/:eventId/attendance',
    access: ['staff'],
    sample: (ids) => ({ path: `/api/events/${ids.eventId}/attendance`, body: { attended: [CONTRACT_INSTITUTION] } }),
  },
  {
    key: 'POST /api/projects/:projectId/reports',
    access: ['applicant'],
    sample: (ids) => ({
      path: `/api/projects/${ids.projectId}/reports`,
      body: { kind: 'midterm', summary: statement },
    }),
    expect: notOthers('404 PROJECT_NOT_FOUND'),
  },
  {
    key: 'POST /api/projects/:projectId/extension',
    access: ['applicant'],
    sample: (ids) => ({ path: `/api/projects/${ids.projectId}/extension`, body: { months: 6, reason } }),
    expect: notOthers('404 PROJECT_NOT_FOUND'),
  },
  {
    key: 'POST /api/projects/:projectId/extension/decision',
    access: ['staff'],
    sample: (ids) => ({ path: `/api/projects/${ids.projectId}/extension/decision`, body: { approve: true, reason } }),
  },
  {
    key: 'POST /api/projects/:projectId/report-grade',
    access: ['staff'],
    sample: (ids) => ({ path: `/api/projects/${ids.projectId}/report-grade`, body: { passed: true, reason } }),
  },
  { key: 'POST /api/showcases', access: ['staff'], sample: () => ({ path: '/api/showcases', body: { year: YEAR } }) },
  {
    key: 'POST /api/showcases/:showcaseId/nominations',
    access: ['applicant'],
    sample: (ids) => ({
      path: `/api/showcases/${ids.showcaseId}/nominations`,
      body: {
        sourceKind: 'directory_entry',
        sourceId: ids.nominableEntryId,
        title: '“校企双元”实训基地建设',
        summary: statement,
      },
    }),
    // The workflow answers another institution's entry as it answers an ineligible one: nothing leaks.
    expect: notOthers('422 SOURCE_NOT_ELIGIBLE'),
  },
  {
    key: 'POST /api/outbox/:id/resend',
    access: ['staff', 'ops'],
    sample: (ids) => ({ path: `/api/outbox/${ids.outboxId}/resend`, body: { reason } }),
  },
  {
    key: 'POST /api/accounts',
    access: 'administrator',
    sample: () => ({
      path: '/api/accounts',
      body: { kind: 'institution', institutionId: 'zzu', email: 'matrix-new@zzu.example', name: '矩阵新账号' },
    }),
  },
  {
    key: 'POST /api/accounts/imports',
    access: 'administrator',
    sample: () => ({
      path: '/api/accounts/imports',
      query: { dryRun: 'true' },
      raw: {
        contentType: 'text/csv',
        data: '姓名,电子邮箱,账号类型,单位\n导入测试,matrix-import@zzu.example,申报单位,zzu\n',
      },
    }),
  },
  {
    key: 'POST /api/accounts/:accountId/invitation',
    access: 'administrator',
    sample: (ids) => ({ path: `/api/accounts/${ids.invitableAccountId}/invitation` }),
  },
  {
    key: 'POST /api/access-tokens',
    access: 'authenticated',
    sample: () => ({ path: '/api/access-tokens', body: { name: '授权矩阵测试' } }),
    // Made from a browser session only (test/e2e/accounts.guards.test.ts): every bearer caller is refused.
    expect: Object.fromEntries(CALLERS.filter((c) => c !== 'anonymous').map((c) => [c, '403 SESSION_REQUIRED'])),
  },

  // Writes that end a record, each on a record of its own.
  {
    key: 'DELETE /api/reference/partnerships/:institutionId/:enterpriseId',
    access: 'administrator',
    sample: () => ({ path: `/api/reference/partnerships/${MATRIX_PARTNERSHIP}`, body: { reason } }),
  },
  {
    key: 'DELETE /api/applications/:applicationId/attachments/:attachmentId',
    access: ['applicant'],
    sample: (ids) => ({ path: `/api/applications/${ids.applicationId}/attachments/${ids.attachmentId}` }),
    expect: notOthers(FORBIDDEN),
  },
  {
    key: 'POST /api/assignments/:assignmentId/decline',
    access: ['expert'],
    sample: (ids) => ({
      path: `/api/assignments/${ids.declinableAssignmentId}/decline`,
      body: { reason: '时间冲突，无法按期完成评审' },
    }),
    expect: notUnassigned(FORBIDDEN),
  },
  {
    key: 'POST /api/directory/:entryId/revoke',
    access: ['staff'],
    sample: (ids) => ({ path: `/api/directory/${ids.revocableEntryId}/revoke`, body: { reason } }),
  },
  {
    key: 'PUT /api/events/:eventId',
    access: ['staff'],
    sample: (ids) => ({ path: `/api/events/${ids.changeableEventId}`, body: { cancel: true, reason } }),
  },
  {
    key: 'POST /api/projects/:projectId/terminate',
    access: ['staff'],
    sample: (ids) => ({ path: `/api/projects/${ids.terminableProjectId}/terminate`, body: { reason } }),
  },
  {
    key: 'POST /api/rounds/:roundId/cancel',
    access: ['staff'],
    sample: (ids) => ({ path: `/api/rounds/${ids.cancellableRoundId}/cancel`, body: { reason } }),
  },
  {
    key: 'POST /api/accounts/:accountId/disable',
    access: 'administrator',
    sample: (ids) => ({ path: `/api/accounts/${ids.disablableAccountId}/disable`, body: { reason } }),
  },
  {
    key: 'PUT /api/programmes/:programme/rules',
    access: 'administrator',
    // The seed's rules again, as version 2 (a later allowed call meets 409 RULES_VERSION_CONFLICT: still allowed).
    sample: () => ({
      path: '/api/programmes/alliance/rules',
      body: { baseVersion: 1, reason, rules: programmeCatalogue.find((p) => p.key === 'alliance')!.rules },
    }),
  },
  {
    key: 'POST /api/accounts/:accountId/enable',
    access: 'administrator',
    sample: (ids) => ({ path: `/api/accounts/${ids.disablableAccountId}/enable` }),
  },
  {
    // The owner's spare token: its account revokes it; every other account finds no such token of its own.
    key: 'DELETE /api/access-tokens/:tokenId',
    access: 'authenticated',
    sample: (ids) => ({ path: `/api/access-tokens/${ids.accounts.applicant.spareTokenId}` }),
    expect: {
      officer: '404 ACCESS_TOKEN_NOT_FOUND',
      administrator: '404 ACCESS_TOKEN_NOT_FOUND',
      ops: '404 ACCESS_TOKEN_NOT_FOUND',
      otherUniversity: '404 ACCESS_TOKEN_NOT_FOUND',
      college: '404 ACCESS_TOKEN_NOT_FOUND',
      enterprise: '404 ACCESS_TOKEN_NOT_FOUND',
      expertAssigned: '404 ACCESS_TOKEN_NOT_FOUND',
      expertNotAssigned: '404 ACCESS_TOKEN_NOT_FOUND',
    },
  },
  // Signing out with a token ends no session; last all the same.
  { key: 'DELETE /api/session', access: 'authenticated', sample: () => ({ path: '/api/session' }) },
];

/** Each caller's bearer token (none for anonymous), from the contract seed. */
export function callerTokens(ids: ContractIds): Record<Caller, string | undefined> {
  return {
    anonymous: undefined,
    officer: ids.others.officer.token,
    administrator: ids.accounts.staff.token,
    ops: ids.others.ops.token,
    owner: ids.accounts.applicant.token,
    otherUniversity: ids.others.otherUniversity.token,
    college: ids.others.college.token,
    enterprise: ids.others.enterprise.token,
    expertAssigned: ids.accounts.expert.token,
    expertNotAssigned: ids.others.unassignedExpert.token,
  };
}
