import type { Db } from '../../db/knex.js';
import { listReferenceVersions } from '../../db/repositories/reference-versions.js';
import {
  applyReferenceRows,
  REFERENCE_LISTS,
  removePartnership,
  type ApplyMode,
  type ApplyOutcome,
  type ReferenceActor,
} from '../../db/repositories/reference-lists.js';
import {
  openAssignmentCounts,
  PHONE_PATTERN,
  REFERENCE_ID_PATTERN,
  type AnyRecord,
  type ExpertRecord,
  type ReferenceList,
  type ReferenceListName,
  type RowPlan,
  type RowProblem,
  type StoredRow,
} from '../../db/repositories/reference-rows.js';
import {
  exportReferenceWorkbook,
  exportReferenceXlsx,
  importReferenceWorkbook,
  WORKBOOK_SHAPES,
} from '../../services/reference-data.js';
import { EXPERT_STATUS_ZH } from '../../db/repositories/reference-experts.js';
import {
  CSV_CONTENT_TYPE,
  IMPORT_MAX_BYTES,
  IMPORT_MAX_ROWS,
  readSheetFile,
  readWorkbookFile,
  XLSX_CONTENT_TYPE,
} from '../../services/spreadsheet.js';
import { MAILBOX_MAX_LENGTH, MAILBOX_PATTERN, MailboxSchema } from '../../mail/address.js';
import type { Principal } from '../auth.js';
import { AppError } from '../errors.js';
import { requestIdOf } from '../request.js';
import { z, type ApiRoutes, type RouteContext } from '../route.js';
import { DryRunParam, oneLineText } from '../schemas.js';
import { readUploadedSheet, XLSX_RESPONSE, xlsxDownload } from '../uploads.js';
import type { Request } from 'express';
import type { Client } from '@temporalio/client';
import type { Clock } from '../clock.js';
import { BreachSchema, breachView, guardedReferenceChange, ReplacementSchema } from '../reference-changes.js';

/**
 * Reference data for staff (issue 16, points 1–3): institutions, enterprises and partnerships — read by officers
 * and administrators, changed by administrators only, each change a new version (who, when, why, how); each list
 * imported from and exported to XLSX in one shape.
 */

export const TAG = '基础数据';
const READERS = ['staff'] as ['staff'];

export const IdSchema = (title: string) =>
  z
    .string()
    .regex(REFERENCE_ID_PATTERN, '应为 1–40 个小写字母、数字或连字符（如 zzu、zzu-cs）')
    .openapi({ title, example: 'zzu' });

export const ReasonSchema = oneLineText(1, 500).openapi({ title: '修改原因', example: '联系人调整' });

const InstitutionFields = {
  nameZh: oneLineText(1, 100).openapi({ title: '名称', example: '郑州大学' }),
  parentId: z
    .string()
    .regex(REFERENCE_ID_PATTERN, '所属高校应为高校的编号')
    .nullable()
    .optional()
    .openapi({ title: '所属高校', description: '学院必填；高校为 null' }),
  city: oneLineText(1, 20).openapi({ title: '城市', example: '郑州' }),
  contactName: oneLineText(1, 40).nullable().optional().openapi({ title: '联系人' }),
  contactPhone: z
    .string()
    .regex(PHONE_PATTERN, '联系电话应为电话号码（如 0371-67781234 或 13800138000）')
    .nullable()
    .optional()
    .openapi({ title: '联系电话', example: '0371-67781234' }),
  contactEmail: MailboxSchema.max(MAILBOX_MAX_LENGTH).openapi({
    title: '联系邮箱',
    example: 'jwc@zzu.edu.example',
    pattern: MAILBOX_PATTERN.source,
  }),
};

const EnterpriseFields = {
  nameZh: oneLineText(1, 100).openapi({ title: '名称', example: '宇通客车股份有限公司' }),
  industry: z
    .string()
    .max(100)
    .openapi({ title: '所属行业', description: '重点产业的代码或名称', example: 'nev_connected' }),
  city: oneLineText(1, 20).openapi({ title: '城市', example: '郑州' }),
};

/** One value of a list cell: no separator of the sheet's lists (、，,；;). */
const ListValue = (title: string, max: number) =>
  z
    .string()
    .regex(/^[^、，,；;]+$/, `${title}的每一项不能含“、”“，”“；”等分隔符`)
    .max(max)
    .openapi({ title });

export const ExpertFields = {
  nameZh: oneLineText(1, 40).openapi({ title: '姓名', example: '王建国' }),
  titleZh: oneLineText(1, 40).openapi({ title: '职称', example: '教授' }),
  institutionId: z
    .string()
    .regex(REFERENCE_ID_PATTERN, '所在高校或学院应为单位编号')
    .nullable()
    .optional()
    .openapi({ title: '所在高校或学院', description: '高校专家填写；与 enterpriseId 二者填一' }),
  enterpriseId: z
    .string()
    .regex(REFERENCE_ID_PATTERN, '所在企业应为企业编号')
    .nullable()
    .optional()
    .openapi({ title: '所在企业', description: '企业专家填写；与 institutionId 二者填一' }),
  email: MailboxSchema.max(MAILBOX_MAX_LENGTH).openapi({
    title: '电子邮箱',
    description: '评审邀请发至此地址；各专家不得重复',
    example: 'wang@experts.example',
    pattern: MAILBOX_PATTERN.source,
  }),
  phone: z
    .string()
    .regex(PHONE_PATTERN, '联系电话应为电话号码（如 0371-67781234 或 13800138000）')
    .nullable()
    .optional()
    .openapi({ title: '联系电话', example: '13800138000' }),
  fields: z
    .array(ListValue('评审领域', 100))
    .min(1, '至少填写一个评审领域')
    .max(20)
    .openapi({ title: '评审领域', description: '重点产业的代码或名称', example: ['nev_connected'] }),
  active: z
    .boolean()
    .default(true)
    .openapi({ title: '在库', description: 'true 在库（参与评审分派），false 停用；缺省为 true' }),
  conflictInstitutionIds: z
    .array(z.string().regex(REFERENCE_ID_PATTERN, '应为单位编号（如 zzu）'))
    .max(50)
    .default([])
    .openapi({
      title: '申报回避的高校或学院',
      description: '单位编号；该专家不评审这些单位所属高校（及其学院）的申报',
    }),
  conflictEnterpriseIds: z
    .array(z.string().regex(REFERENCE_ID_PATTERN, '应为企业编号（如 hanwei）'))
    .max(50)
    .default([])
    .openapi({ title: '申报回避的企业', description: '企业编号；该专家不评审与这些企业合作的申报' }),
};

export const ExpertSchema = z
  .object({
    id: z.string(),
    nameZh: z.string(),
    titleZh: z.string(),
    affiliationKind: z.enum(['academic', 'industry']).openapi({ description: 'academic 高校专家，industry 企业专家' }),
    institutionId: z.string().nullable(),
    enterpriseId: z.string().nullable(),
    email: z.string(),
    phone: z.string().nullable(),
    fields: z.array(z.string()).openapi({ description: '评审领域（重点产业代码）' }),
    active: z.boolean(),
    conflictInstitutionIds: z.array(z.string()),
    conflictEnterpriseIds: z.array(z.string()),
    openAssignments: z.number().int().openapi({ description: '未完成（已邀请或已接受）的评审任务数' }),
  })
  .openapi('Expert', { description: '评审专家库中的一位专家' });

const InstitutionSchema = z
  .object({
    id: z.string(),
    nameZh: z.string(),
    kind: z.enum(['university', 'college']),
    parentId: z.string().nullable(),
    city: z.string(),
    contactName: z.string().nullable(),
    contactPhone: z.string().nullable(),
    contactEmail: z.string(),
  })
  .openapi('Institution');

const EnterpriseSchema = z
  .object({ id: z.string(), nameZh: z.string(), industry: z.string(), city: z.string() })
  .openapi('Enterprise');

const PartnershipSchema = z
  .object({ institutionId: z.string(), enterpriseId: z.string() })
  .openapi('Partnership', { description: '校企合作关系（回避关系）' });

const VersionSchema = z
  .object({
    version: z.number().int(),
    data: z
      .record(z.string(), z.unknown())
      .nullable()
      .openapi({ description: '该版本的记录（数据库列名为键）；删除后为 null' }),
    reason: z.string(),
    actor: z.string(),
    accountId: z.string().nullable(),
    source: z.enum(['api', 'import', 'seed', 'migration']),
    importSha256: z.string().nullable(),
    createdAt: z.string(),
  })
  .openapi('ReferenceVersion');

/** What an import tells of open assignments: those it would leave breaking 回避, and their replacements. */
const AVOIDANCE_REPORT = {
  breaksAvoidance: z
    .array(BreachSchema)
    .openapi({ description: '导入后将违反回避规定的未完成评审任务（试导入同样列出）；正式导入须确认替换' }),
  replacements: z.array(ReplacementSchema).openapi({ description: '确认替换后各任务的替换结果' }),
};

const ImportReportSchema = z
  .object({
    dryRun: z.boolean(),
    valid: z.boolean().openapi({ description: '各行均无问题（problems 为空）' }),
    format: z.enum(['xlsx', 'csv']),
    encoding: z.enum(['utf-8', 'gbk']).nullable(),
    fileSha256: z.string(),
    rowCount: z.number().int(),
    problems: z.array(z.object({ row: z.number().int(), column: z.string(), message: z.string() })),
    rows: z
      .array(
        z.object({ row: z.number().int(), subject: z.string(), action: z.enum(['create', 'change', 'unchanged']) }),
      )
      .openapi({ description: '无问题的行：新建、修改或不变' }),
    created: z.number().int(),
    changed: z.number().int(),
    unchanged: z.number().int(),
    ...AVOIDANCE_REPORT,
  })
  .openapi('ReferenceImportReport');

/** The record as the API shows it (camelCase), given the open assignments of each expert. */
const VIEWS: Record<ReferenceListName, (r: AnyRecord, open: ReadonlyMap<string, number>) => Record<string, unknown>> = {
  institutions: (row) => {
    const r = row as StoredRow;
    return {
      id: r.id,
      nameZh: r.name_zh,
      kind: r.kind,
      parentId: r.parent_id,
      city: r.city,
      contactName: r.contact_name,
      contactPhone: r.contact_phone,
      contactEmail: r.contact_email,
    };
  },
  enterprises: (row) => {
    const r = row as StoredRow;
    return { id: r.id, nameZh: r.name_zh, industry: r.industry_key, city: r.city };
  },
  partnerships: (row) => {
    const r = row as StoredRow;
    return { institutionId: r.institution_id, enterpriseId: r.enterprise_id };
  },
  experts: (row, open) => {
    const r = row as ExpertRecord;
    return {
      id: r.id,
      nameZh: r.name_zh,
      titleZh: r.title_zh,
      affiliationKind: r.affiliation_kind,
      institutionId: r.institution_id,
      enterpriseId: r.enterprise_id,
      email: r.email,
      phone: r.phone,
      fields: r.fields,
      active: r.active,
      conflictInstitutionIds: r.conflict_institution_ids,
      conflictEnterpriseIds: r.conflict_enterprise_ids,
      openAssignments: open.get(r.id) ?? 0,
    };
  },
};

const SCHEMAS: Record<ReferenceListName, z.ZodType> = {
  institutions: InstitutionSchema,
  enterprises: EnterpriseSchema,
  partnerships: PartnershipSchema,
  experts: ExpertSchema,
};

/** Records of `list` as the API shows them. */
export async function present(db: Db, list: ReferenceList, records: readonly AnyRecord[]): Promise<unknown[]> {
  const open = list.name === 'experts' ? await openAssignmentCounts(db) : new Map<string, number>();
  return records.map((r) => VIEWS[list.name](r, open));
}

export function actorOf(
  principal: Principal | undefined,
  req: Request,
  reason: string,
  extra: Partial<ReferenceActor> = {},
): ReferenceActor {
  return {
    actor: principal!.actor,
    role: principal!.role,
    requestId: requestIdOf(req),
    source: 'api',
    reason,
    ...extra,
  };
}

/** Body fields that are not cells of the list's sheet. */
const NOT_CELLS = new Set(['reason', 'replaceOpenAssignments']);

/**
 * A body's fields as the sheet's cells: trimmed text, blanks and nulls left out; a list of values as one cell
 * joined by 、 (as the sheet writes it); an expert's `active` as the status column's word; the expert's conflict
 * lists under their columns.
 */
export function cellsOf(body: Record<string, unknown>): Record<string, string> {
  const cells: Record<string, string> = {};
  for (const [key, value] of Object.entries(body)) {
    if (NOT_CELLS.has(key)) continue;
    const column = EXPERT_CELL_OF[key] ?? key;
    if (typeof value === 'string' && value.trim() !== '') cells[column] = value.trim();
    else if (Array.isArray(value) && value.length > 0) cells[column] = value.map((v) => String(v).trim()).join('、');
    else if (key === 'active' && typeof value === 'boolean') {
      cells.status = value ? EXPERT_STATUS_ZH.active : EXPERT_STATUS_ZH.inactive;
    }
  }
  return cells;
}

/** The expert body's fields whose sheet column has another key. */
const EXPERT_CELL_OF: Partial<Record<string, string>> = {
  conflictInstitutionIds: 'conflictInstitutions',
  conflictEnterpriseIds: 'conflictEnterprises',
};

/** The body field a sheet column's problem names (the column's key, unless the body calls it otherwise). */
const BODY_FIELD_OF: Partial<Record<string, string>> = {
  ...Object.fromEntries(Object.entries(EXPERT_CELL_OF).map(([field, column]): [string, string] => [column!, field])),
  status: 'active',
};

/**
 * The refusal of rows with problems: a clash's own code (409 REFERENCE_EXISTS unless it names another), else 422
 * VALIDATION_FAILED, naming each field.
 */
export function refusal(problems: readonly RowProblem[]): AppError {
  const errors = problems.map((p) => ({ path: BODY_FIELD_OF[p.key] ?? p.key, message: p.message, label: p.column }));
  const detail = problems.map((p) => p.message).join('；');
  const clash = problems.find((p) => p.clash);
  const code = clash ? (clash.code ?? 'REFERENCE_EXISTS') : 'VALIDATION_FAILED';
  return new AppError(code as 'REFERENCE_EXISTS', detail, { errors });
}

/** The stored record of `subjectId` in `list`. @throws AppError REFERENCE_NOT_FOUND. */
export async function findStored(db: Db, list: ReferenceList, subjectId: string): Promise<AnyRecord> {
  const row = (await list.load(db)).find((r) => list.subjectOf(r) === subjectId);
  if (!row) throw new AppError('REFERENCE_NOT_FOUND', `未找到${list.titleZh}中的 ${subjectId}`);
  return row;
}

/** Creates or changes one record from an API body; answers the record as stored and its version. */
async function writeOne(
  db: Db,
  list: ReferenceList,
  cells: Record<string, string>,
  by: ReferenceActor,
  mode: ApplyMode,
): Promise<{ record: AnyRecord; version: number | null }> {
  const outcome: ApplyOutcome = await applyReferenceRows(db, list, [{ row: 1, cells }], by, { dryRun: false, mode });
  if (outcome.status === 'missing') throw new AppError('REFERENCE_NOT_FOUND');
  if (outcome.status === 'rejected') throw refusal(outcome.problems);
  const plan = outcome.plans[0]!;
  return { record: await findStored(db, list, plan.subjectId), version: outcome.versions.get(plan.subjectId) ?? null };
}

export const WrittenSchema = (schema: z.ZodType) =>
  z.object({
    record: schema,
    version: z.number().int().nullable().openapi({ description: '新版本号；内容未变时为 null（不记新版本）' }),
  });

/** What an import may be refused with. */
const IMPORT_ERRORS = [
  'REFERENCE_IMPORT_INVALID',
  'REFERENCE_IMPORT_FILE_INVALID',
  'UNSUPPORTED_MEDIA_TYPE',
  'PAYLOAD_TOO_LARGE',
] as const;

/** An import's query: a dry run by default, and the reason its versions record (`defaultReason` if none). */
const importQuery = (defaultReason: string) =>
  z.object({
    dryRun: DryRunParam,
    replaceOpenAssignments: z.enum(['true', 'false']).default('false').openapi({
      title: '确认替换未完成的评审任务',
      description:
        '导入后若有未完成的评审任务违反回避规定（如新增合作关系、专家申报回避），须为 true 才导入，并由其他专家替换这些任务',
    }),
    reason: oneLineText(1, 500)
      .optional()
      .openapi({ title: '修改原因', description: `缺省为“${defaultReason}”` }),
  });

/** The sound rows of an import as its report lists them: each row's subject and action, and their counts. */
function planReport(plans: readonly RowPlan[]) {
  const count = (action: RowPlan['action']) => plans.filter((p) => p.action === action).length;
  return {
    rows: plans.map((p) => ({ row: p.row, subject: p.subjectId, action: p.action })),
    created: count('create'),
    changed: count('change'),
    unchanged: count('unchanged'),
  };
}

/** The routes every list has: list, versions of one record, export and import. */
function listRoutes(
  routes: ApiRoutes,
  deps: ReferenceRouteDeps,
  list: ReferenceList,
  subjectParams: z.ZodObject,
  subjectPath: string,
): void {
  const { db } = deps;
  const base = `/api/reference/${list.name}`;
  const schema = SCHEMAS[list.name];
  const columns = list.shape.columns.map((c) => `${c.header}（${c.required ? '必需' : '可选'}）`).join('、');
  const subjectOf = (params: Record<string, string>) =>
    Object.keys(subjectParams.shape)
      .map((k) => params[k])
      .join('/');

  routes.add({
    method: 'get',
    path: base,
    summary: `${list.titleZh}名单（工作人员）`,
    tags: [TAG],
    access: READERS,
    responses: { 200: { description: list.titleZh, schema: z.object({ items: z.array(schema) }) } },
    async handler() {
      return { status: 200, body: { items: await present(db, list, await list.load(db)) } };
    },
  });

  routes.add({
    method: 'get',
    path: `${base}/export.xlsx`,
    summary: `导出${list.titleZh}名单（XLSX，工作人员）`,
    description: `与导入格式相同：工作表“${list.titleZh}”第 1 行为表头：${columns}。原样导入不产生任何修改。`,
    tags: [TAG],
    access: READERS,
    responses: { 200: XLSX_RESPONSE },
    async handler() {
      return xlsxDownload(await exportReferenceXlsx(db, list), `${list.name}.xlsx`, `${list.titleZh}.xlsx`);
    },
  });

  routes.add({
    method: 'get',
    path: `${base}/${subjectPath}/versions`,
    summary: `${list.titleZh}中一条记录的各版本（工作人员）`,
    description: '新版本在前：每个版本是修改后的整条记录，附修改人、时间、原因与来源（api、import、seed、migration）。',
    tags: [TAG],
    access: READERS,
    params: subjectParams,
    responses: { 200: { description: '各版本', schema: z.object({ items: z.array(VersionSchema) }) } },
    errors: ['REFERENCE_NOT_FOUND'],
    async handler({ params }) {
      const versions = await listReferenceVersions(db, list.kind, subjectOf(params as Record<string, string>));
      if (versions.length === 0) throw new AppError('REFERENCE_NOT_FOUND');
      return {
        status: 200,
        body: {
          items: versions.map((v) => ({
            version: v.version,
            data: v.data as Record<string, unknown> | null,
            reason: v.reason,
            actor: v.actor,
            accountId: v.accountId,
            source: v.source,
            importSha256: v.importSha256,
            createdAt: v.createdAt.toISOString(),
          })),
        },
      };
    },
  });

  routes.add({
    method: 'post',
    path: `${base}/import`,
    summary: `从 XLSX 或 CSV 文件导入${list.titleZh}（系统管理员；默认试导入）`,
    description:
      `请求体为文件本身：XLSX 工作簿（取第一个工作表）或 CSV 文件，第 1 行为表头：${columns}。` +
      `每个文件至多 ${IMPORT_MAX_ROWS} 行、${IMPORT_MAX_BYTES / 1024 / 1024} MB。` +
      '`dryRun` 缺省为 true：只检查、不写入，列出每行每列的问题与每行将新建、修改或不变。' +
      '`dryRun=false` 在一个事务中重新检查并写入：任何一行有问题则不写入任何数据，答复 422 REFERENCE_IMPORT_INVALID；' +
      '否则每条新建或修改的记录成为其新版本（来源 import，附文件的 SHA-256），与现有内容相同的行不产生版本，' +
      '故同一文件导入两次、导出后原样导入均不改变任何数据。文件中没有的记录保持不变（导入不删除）。',
    tags: [TAG],
    access: 'administrator',
    query: importQuery(`导入${list.titleZh}名单`),
    rawBody: { contentTypes: [XLSX_CONTENT_TYPE, CSV_CONTENT_TYPE], description: '导入文件（XLSX 或 CSV）' },
    responses: { 200: { description: '试导入的检查结果，或导入的结果', schema: ImportReportSchema } },
    errors: [...IMPORT_ERRORS, 'AVOIDANCE_BROKEN'],
    async handler({ query, principal, req }) {
      const dryRun = query.dryRun !== 'false';
      const sheet = await readUploadedSheet(
        req,
        (bytes, contentType) => readSheetFile(bytes, contentType, list.shape),
        'REFERENCE_IMPORT_FILE_INVALID',
      );
      const by = actorOf(principal, req, query.reason ?? `导入${list.titleZh}名单`, {
        source: 'import',
        importSha256: sheet.sha256,
      });
      // Checked by writing it in a transaction (rolled back for a dry run): 回避 on the open assignments is read
      // as the import leaves the data.
      const changed = await guardedReferenceChange(
        deps,
        { confirmed: query.replaceOpenAssignments === 'true', dryRun, by, receivedAt: deps.clock() },
        async (trx) => {
          // With problems the sound rows are written all the same (rolled back): the report tells what they
          // would break beside the problems.
          const outcome = await applyReferenceRows(trx, list, sheet.rows, by, {
            dryRun: false,
            mode: 'upsert',
            columns: sheet.columns,
            writeSoundRows: true,
          });
          return { valid: outcome.status !== 'rejected', value: outcome };
        },
      );
      const outcome = changed.value;
      const plans = outcome.status === 'missing' ? [] : outcome.plans;
      const problems = outcome.status === 'rejected' ? outcome.problems : [];
      const body = {
        dryRun,
        valid: problems.length === 0,
        format: sheet.format,
        encoding: sheet.encoding,
        fileSha256: sheet.sha256,
        rowCount: sheet.rows.length,
        problems: problems.map((p) => ({ row: p.row, column: p.column, message: p.message })),
        ...planReport(plans),
        breaksAvoidance: changed.breaches.map(breachView),
        replacements: changed.replacements,
      };
      if (problems.length > 0 && !dryRun) {
        throw new AppError('REFERENCE_IMPORT_INVALID', `共 ${problems.length} 处问题，请按行修改后重新导入`, {
          errors: problems.map((p) => ({
            path: `row ${p.row}/${p.column}`,
            message: p.message,
            label: `第 ${p.row} 行“${p.column}”`,
          })),
          ...body,
        });
      }
      return { status: 200, body };
    },
  });
}

/**
 * The routes of a list whose records have an id: read one, create and (unless `change` is false: the expert
 * pool's has its own, api/routes/reference-experts.ts) change.
 */
function recordRoutes(
  routes: ApiRoutes,
  db: Db,
  list: ReferenceList,
  fields: Record<string, z.ZodType>,
  subject: { param: 'institutionId' | 'enterpriseId' | 'expertId'; title: string; change?: false },
): void {
  const base = `/api/reference/${list.name}`;
  const schema = SCHEMAS[list.name];
  const view = async (record: AnyRecord) => (await present(db, list, [record]))[0];
  const params = z.object({ [subject.param]: IdSchema(subject.title) }) as z.ZodType<Record<string, string>>;
  const idTitle = subject.title;
  const write = async (
    ctx: RouteContext<unknown, unknown, Record<string, unknown>>,
    cells: Record<string, string>,
    reason: string,
    mode: ApplyMode,
  ) => {
    const { record, version } = await writeOne(db, list, cells, actorOf(ctx.principal, ctx.req, reason), mode);
    return { record: await view(record), version };
  };

  routes.add({
    method: 'get',
    path: `${base}/:${subject.param}`,
    summary: `${list.titleZh}中的一条记录（工作人员）`,
    tags: [TAG],
    access: READERS,
    params,
    responses: { 200: { description: list.titleZh, schema } },
    errors: ['REFERENCE_NOT_FOUND'],
    async handler({ params: p }) {
      return { status: 200, body: await view(await findStored(db, list, p[subject.param]!)) };
    },
  });

  routes.add({
    method: 'post',
    path: base,
    summary: `新建${list.titleZh}中的一条记录（系统管理员）`,
    description: '记为该记录的第 1 版（来源 api）。',
    tags: [TAG],
    access: 'administrator',
    body: z.object({ id: IdSchema(idTitle), ...fields, reason: ReasonSchema.optional() }).strict(),
    responses: { 201: { description: '已新建', schema: WrittenSchema(schema) } },
    errors: ['REFERENCE_EXISTS'],
    async handler(ctx) {
      const body = ctx.body as Record<string, unknown>;
      const reason = typeof body.reason === 'string' ? body.reason : `新建${list.shape.noun}`;
      return { status: 201, body: await write(ctx, cellsOf(body), reason, 'create') };
    },
  });

  if (subject.change === false) return;
  routes.add({
    method: 'put',
    path: `${base}/:${subject.param}`,
    summary: `修改${list.titleZh}中的一条记录（系统管理员，须说明原因）`,
    description:
      '请求体为修改后的整条记录与修改原因；内容有变化时记为新版本（修改人、时间、原因），内容未变时不记版本。',
    tags: [TAG],
    access: 'administrator',
    params,
    body: z.object({ ...fields, reason: ReasonSchema }).strict(),
    responses: { 200: { description: '修改后的记录', schema: WrittenSchema(schema) } },
    errors: ['REFERENCE_NOT_FOUND', 'REFERENCE_EXISTS'],
    async handler(ctx) {
      const id = ctx.params[subject.param]!;
      await findStored(db, list, id);
      const body = ctx.body as Record<string, unknown>;
      return { status: 200, body: await write(ctx, { ...cellsOf(body), id }, String(body.reason), 'change') };
    },
  });
}

const WorkbookReportSchema = z
  .object({
    dryRun: z.boolean(),
    valid: z.boolean().openapi({ description: '各工作表各行均无问题（problems 为空）' }),
    fileSha256: z.string(),
    sheets: z.array(
      z.object({
        list: z.enum(['institutions', 'enterprises', 'partnerships', 'experts']),
        sheet: z.string(),
        rowCount: z.number().int(),
        rows: z.array(
          z.object({ row: z.number().int(), subject: z.string(), action: z.enum(['create', 'change', 'unchanged']) }),
        ),
        created: z.number().int(),
        changed: z.number().int(),
        unchanged: z.number().int(),
      }),
    ),
    problems: z.array(z.object({ sheet: z.string(), row: z.number().int(), column: z.string(), message: z.string() })),
  })
  .openapi('ReferenceWorkbookImportReport');

/** The whole reference data as one workbook: export and import (a worksheet per list). */
function workbookRoutes(routes: ApiRoutes, deps: ReferenceRouteDeps): void {
  const { db } = deps;
  const sheetNames = [...WORKBOOK_SHAPES.keys()].map((n) => `“${n}”`).join('、');
  routes.add({
    method: 'get',
    path: '/api/reference/export.xlsx',
    summary: '导出全部基础数据（XLSX 工作簿，工作人员）',
    description: `工作表 ${sheetNames} 各为一份名单，格式与各名单的导入相同，另附“填写说明”。原样导入不产生任何修改。`,
    tags: [TAG],
    access: READERS,
    responses: { 200: XLSX_RESPONSE },
    async handler() {
      return xlsxDownload(await exportReferenceWorkbook(db), 'reference-data.xlsx', '基础数据.xlsx');
    },
  });

  routes.add({
    method: 'post',
    path: '/api/reference/import',
    summary: '从一个 XLSX 工作簿导入多份基础数据名单（系统管理员；默认试导入）',
    description:
      `请求体为 XLSX 工作簿：名为 ${sheetNames} 的工作表各按该名单的导入格式读取（可只含其中几张，其他工作表不读）。` +
      '各名单依次在同一个事务中导入（单位、企业、合作关系、专家），后面的工作表可引用前面新建的记录（如专家所在的新学院）。' +
      '`dryRun` 缺省为 true：检查并列出每张工作表每行的问题与每行将新建、修改或不变，不写入任何数据。' +
      '`dryRun=false`：任何一行有问题则不写入任何数据，答复 422 REFERENCE_IMPORT_INVALID；否则全部写入，' +
      '每条新建或修改的记录成为其新版本（来源 import，附文件的 SHA-256）。CSV 只能容纳一份名单，请按名单分别导入。',
    tags: [TAG],
    access: 'administrator',
    query: importQuery('导入基础数据工作簿'),
    rawBody: { contentTypes: [XLSX_CONTENT_TYPE], description: '导入的 XLSX 工作簿' },
    responses: { 200: { description: '试导入的检查结果，或导入的结果', schema: WorkbookReportSchema } },
    errors: [...IMPORT_ERRORS, 'AVOIDANCE_BROKEN'],
    async handler({ query, principal, req }) {
      const dryRun = query.dryRun !== 'false';
      const file = await readUploadedSheet(
        req,
        (bytes, contentType) => readWorkbookFile(bytes, contentType, WORKBOOK_SHAPES),
        'REFERENCE_IMPORT_FILE_INVALID',
      );
      const by = actorOf(principal, req, query.reason ?? '导入基础数据工作簿', {
        source: 'import',
        importSha256: file.sha256,
      });
      const changed = await guardedReferenceChange(
        deps,
        { confirmed: query.replaceOpenAssignments === 'true', dryRun, by, receivedAt: deps.clock() },
        async (trx) => {
          const outcome = await importReferenceWorkbook(trx, file.sheets, by);
          return { valid: outcome.valid, value: outcome };
        },
      );
      const outcome = changed.value;
      const body = {
        dryRun,
        valid: outcome.valid,
        fileSha256: file.sha256,
        sheets: outcome.sheets.map((r) => ({
          list: r.list,
          sheet: r.sheet,
          rowCount: r.rowCount,
          ...planReport(r.plans),
        })),
        problems: outcome.problems.map((p) => ({ sheet: p.sheet, row: p.row, column: p.column, message: p.message })),
        breaksAvoidance: changed.breaches.map(breachView),
        replacements: changed.replacements,
      };
      if (!outcome.valid && !dryRun) {
        throw new AppError('REFERENCE_IMPORT_INVALID', `共 ${outcome.problems.length} 处问题，请按行修改后重新导入`, {
          errors: outcome.problems.map((p) => ({
            path: `${p.sheet}/row ${p.row}/${p.column}`,
            message: p.message,
            label: `工作表“${p.sheet}”第 ${p.row} 行“${p.column}”`,
          })),
          ...body,
        });
      }
      return { status: 200, body };
    },
  });
}

/** Reference-data routes (issue 16): institutions, enterprises, partnerships, the expert pool (its change: api/routes/reference-experts.ts). */
/** What the reference routes reach: the database, Temporal (replacements of open assignments) and the clock. */
export interface ReferenceRouteDeps {
  db: Db;
  temporal: Client;
  clock: Clock;
}

export function referenceDataRoutes(routes: ApiRoutes, deps: ReferenceRouteDeps): void {
  const { db } = deps;
  const institutions = REFERENCE_LISTS.institutions;
  const enterprises = REFERENCE_LISTS.enterprises;
  const partnerships = REFERENCE_LISTS.partnerships;
  const institution = { param: 'institutionId', title: '单位编号' } as const;
  const enterprise = { param: 'enterpriseId', title: '企业编号' } as const;
  listRoutes(routes, deps, institutions, z.object({ institutionId: IdSchema(institution.title) }), ':institutionId');
  recordRoutes(routes, db, institutions, InstitutionFields, institution);
  listRoutes(routes, deps, enterprises, z.object({ enterpriseId: IdSchema(enterprise.title) }), ':enterpriseId');
  recordRoutes(routes, db, enterprises, EnterpriseFields, enterprise);
  const pairParams = z.object({ institutionId: IdSchema('单位编号'), enterpriseId: IdSchema('企业编号') });
  listRoutes(routes, deps, partnerships, pairParams, ':institutionId/:enterpriseId');
  workbookRoutes(routes, deps);
  const expert = { param: 'expertId', title: '专家编号', change: false } as const;
  listRoutes(routes, deps, REFERENCE_LISTS.experts, z.object({ expertId: IdSchema(expert.title) }), ':expertId');
  recordRoutes(routes, db, REFERENCE_LISTS.experts, ExpertFields, expert);

  routes.add({
    method: 'post',
    path: '/api/reference/partnerships',
    summary: '新增校企合作关系（系统管理员，须说明原因）',
    description:
      '合作关系即回避关系：该单位的申报不由该企业的专家评审。记为该关系的新版本。' +
      '该企业的专家若有该单位（或其所属高校、学院）未完成的评审任务，须给出 replaceOpenAssignments: true 确认由其他专家替换，' +
      '否则答复 409 AVOIDANCE_BROKEN 并列出这些任务。',
    tags: [TAG],
    access: 'administrator',
    body: z
      .object({
        institutionId: IdSchema('单位编号'),
        enterpriseId: IdSchema('企业编号'),
        reason: ReasonSchema,
        replaceOpenAssignments: z.boolean().default(false).openapi({
          title: '确认替换未完成的评审任务',
          description: '新增后若有未完成的评审任务违反回避规定，须为 true',
        }),
      })
      .strict(),
    responses: {
      201: {
        description: '已新增',
        schema: WrittenSchema(PartnershipSchema).extend({ replacements: z.array(ReplacementSchema) }),
      },
    },
    errors: ['REFERENCE_EXISTS', 'AVOIDANCE_BROKEN'],
    async handler({ body, principal, req }) {
      const subject = `${body.institutionId}/${body.enterpriseId}`;
      const by = actorOf(principal, req, body.reason);
      const changed = await guardedReferenceChange(
        deps,
        { confirmed: body.replaceOpenAssignments, dryRun: false, by, receivedAt: deps.clock() },
        async (trx) => {
          const outcome = await applyReferenceRows(
            trx,
            partnerships,
            [{ row: 1, cells: { institutionId: body.institutionId, enterpriseId: body.enterpriseId } }],
            by,
            { dryRun: false, mode: 'create' },
          );
          if (outcome.status === 'rejected') throw refusal(outcome.problems);
          return { valid: true, value: outcome.status === 'applied' ? (outcome.versions.get(subject) ?? null) : null };
        },
      );
      return {
        status: 201,
        body: {
          record: { institutionId: body.institutionId, enterpriseId: body.enterpriseId },
          version: changed.value,
          replacements: changed.replacements,
        },
      };
    },
  });

  routes.add({
    method: 'delete',
    path: '/api/reference/partnerships/:institutionId/:enterpriseId',
    summary: '解除校企合作关系（系统管理员，须说明原因）',
    description: '记为该关系的新版本（内容为 null）。',
    tags: [TAG],
    access: 'administrator',
    params: pairParams,
    body: z.object({ reason: ReasonSchema }),
    responses: { 200: { description: '已解除', schema: z.object({ version: z.number().int() }) } },
    errors: ['REFERENCE_NOT_FOUND'],
    async handler({ params, body, principal, req }) {
      const version = await removePartnership(
        db,
        params.institutionId,
        params.enterpriseId,
        actorOf(principal, req, body.reason),
      );
      if (version === undefined)
        throw new AppError('REFERENCE_NOT_FOUND', `${params.institutionId} 与 ${params.enterpriseId} 没有合作关系`);
      return { status: 200, body: { version } };
    },
  });
}
