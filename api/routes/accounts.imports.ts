import { ACCOUNT_KINDS, STAFF_ROLES } from '../../domain/accounts.js';
import { accountRoleZh } from '../../services/accounts.js';
import {
  CSV_CONTENT_TYPE,
  IMPORT_COLUMNS,
  IMPORT_MAX_BYTES,
  IMPORT_MAX_ROWS,
  importAccounts,
  importTemplateXlsx,
  readImportFile,
  XLSX_CONTENT_TYPE,
  type ImportOutcome,
  type ImportProblem,
} from '../../services/accounts.import.js';
import { AppError } from '../errors.js';
import { readUploadedSheet, XLSX_RESPONSE, xlsxDownload } from '../uploads.js';
import { requestIdOf } from '../request.js';
import { z, type ApiRoutes } from '../route.js';
import { DryRunParam } from '../schemas.js';
import { AccountSchema, accountView, type AccountRouteDeps } from './accounts.js';

const ProblemRowSchema = z.object({
  row: z.number().int().openapi({ description: '表格中的行号（表头为第 1 行）', example: 3 }),
  column: z.string().openapi({ description: '列的表头', example: '电子邮箱' }),
  message: z.string().openapi({ example: 'li.ming@ronghe.example 与第 2 行重复' }),
});

const PlannedRowSchema = z.object({
  row: z.number().int(),
  kind: z.enum(ACCOUNT_KINDS as ['staff', 'institution', 'enterprise', 'expert']),
  staffRole: z.enum(STAFF_ROLES as ['officer', 'administrator', 'ops']).nullable(),
  roleZh: z.string(),
  institutionId: z.string().nullable(),
  enterpriseId: z.string().nullable(),
  expertId: z.string().nullable(),
  actsForZh: z.string().nullable().openapi({ description: '所代表的单位、企业或专家库中的专家姓名' }),
  email: z.string(),
  name: z.string(),
});

const ImportReportSchema = z
  .object({
    dryRun: z.boolean(),
    valid: z.boolean().openapi({ description: '各行均无问题（problems 为空）' }),
    alreadyImported: z
      .boolean()
      .openapi({ description: '同一文件（SHA-256 相同）此前已导入：不再创建或邀请，accounts 为当时创建的账号' }),
    importedAt: z.string().nullable().openapi({ description: '此前导入的时间（alreadyImported 时）' }),
    importedBy: z.string().nullable().openapi({ description: '此前导入的操作者（alreadyImported 时）' }),
    format: z.enum(['xlsx', 'csv']),
    encoding: z.enum(['utf-8', 'gbk']).nullable().openapi({ description: 'CSV 的文本编码；XLSX 为 null' }),
    fileSha256: z.string(),
    rowCount: z.number().int().openapi({ description: '数据行数（不含表头与空行）' }),
    problems: z.array(ProblemRowSchema).openapi({ description: '每行每列的问题，按行号排列' }),
    rows: z.array(PlannedRowSchema).openapi({ description: '试导入：无问题的行将创建的账号' }),
    accounts: z.array(AccountSchema).openapi({ description: '正式导入：已创建（或此前已创建）的账号' }),
  })
  .openapi('AccountImportReport');

type ImportReport = z.infer<typeof ImportReportSchema>;

/** The answer to an import: the report every outcome shares, filled as far as it goes. */
function report(outcome: ImportOutcome, dryRun: boolean): ImportReport {
  const { sheet } = outcome;
  return {
    dryRun,
    valid: outcome.status === 'rejected' ? false : outcome.status === 'checked' ? outcome.problems.length === 0 : true,
    alreadyImported: outcome.status === 'already_imported',
    importedAt: outcome.status === 'already_imported' ? outcome.importedAt.toISOString() : null,
    importedBy: outcome.status === 'already_imported' ? outcome.importedBy : null,
    format: sheet.format,
    encoding: sheet.encoding,
    fileSha256: sheet.sha256,
    rowCount: sheet.rows.length,
    problems: outcome.status === 'checked' || outcome.status === 'rejected' ? outcome.problems : [],
    rows:
      outcome.status === 'checked'
        ? outcome.plans.map((p) => ({
            row: p.row,
            kind: p.kind,
            staffRole: p.staffRole ?? null,
            roleZh: accountRoleZh({ kind: p.kind, staffRole: p.staffRole ?? null }),
            institutionId: p.institutionId ?? null,
            enterpriseId: p.enterpriseId ?? null,
            expertId: p.expertId ?? null,
            actsForZh: p.actsForZh ?? null,
            email: p.email,
            name: p.name,
          }))
        : [],
    accounts:
      outcome.status === 'imported' || outcome.status === 'already_imported' ? outcome.accounts.map(accountView) : [],
  };
}

const problemLabel = (p: ImportProblem) => `第 ${p.row} 行“${p.column}”`;

/**
 * Account import from a spreadsheet for staff administrators (issue 15, point 2): the template, and the import
 * itself — a dry run by default (`dryRun=false` writes), every row checked before anything is written.
 */
export function accountImportRoutes(routes: ApiRoutes, deps: AccountRouteDeps): void {
  const columns = IMPORT_COLUMNS.map((c) => `${c.header}（${c.required ? '必需' : '可选'}）`).join('、');

  routes.add({
    method: 'get',
    path: '/api/accounts/imports/template.xlsx',
    summary: '账号导入模板（XLSX，系统管理员）',
    description: `工作表“账号”第 1 行为表头：${columns}；工作表“填写说明”列出各列的填写要求。`,
    tags: ['账号'],
    access: 'administrator',
    responses: { 200: XLSX_RESPONSE },
    async handler() {
      return xlsxDownload(await importTemplateXlsx(), 'account-import-template.xlsx', '账号导入模板.xlsx');
    },
  });

  routes.add({
    method: 'post',
    path: '/api/accounts/imports',
    summary: '从 XLSX 或 CSV 文件批量创建账号（系统管理员；默认试导入）',
    description:
      `请求体为文件本身：XLSX 工作簿（取第一个工作表）或 CSV 文件，第 1 行为表头：${columns}。` +
      `每个文件至多 ${IMPORT_MAX_ROWS} 行账号、${IMPORT_MAX_BYTES / 1024 / 1024} MB。` +
      'CSV 可为 UTF-8（带或不带 BOM）；未声明字符集且不是有效 UTF-8 时按 GBK（GB18030，即中文版 Excel“CSV（逗号分隔）”的编码）读取，' +
      '两者都不是则答复 415，请另存为“CSV UTF-8（逗号分隔）”。\n\n' +
      '`dryRun` 缺省为 true：试导入只检查、不写入，答复 200，列出每行每列的问题（行号为表格中的行号）与将创建的账号。' +
      '`dryRun=false` 为正式导入：先在同一事务中重新检查全部行，任何一行有问题则不写入任何账号，答复 422 ACCOUNT_IMPORT_INVALID' +
      '（problems 与试导入相同）；否则在一个事务中创建全部账号，答复 201，并在提交后向每个新账号发送邀请邮件。' +
      '导入以文件的 SHA-256 记入审计（account.import）：同一文件再次导入（含试导入）答复 200，alreadyImported 为 true，' +
      '列出当时创建的账号，不再创建或邀请。',
    tags: ['账号'],
    access: 'administrator',
    query: z.object({
      dryRun: DryRunParam,
    }),
    rawBody: { contentTypes: [XLSX_CONTENT_TYPE, CSV_CONTENT_TYPE], description: '导入文件（XLSX 或 CSV）' },
    responses: {
      200: { description: '试导入的检查结果，或此前已导入的同一文件', schema: ImportReportSchema },
      201: { description: '已创建全部账号，邀请邮件已发出', schema: ImportReportSchema },
    },
    errors: ['ACCOUNT_IMPORT_INVALID', 'ACCOUNT_IMPORT_FILE_INVALID', 'UNSUPPORTED_MEDIA_TYPE', 'PAYLOAD_TOO_LARGE'],
    async handler({ query, principal, req }) {
      const dryRun = query.dryRun !== 'false';
      const sheet = await readUploadedSheet(req, readImportFile, 'ACCOUNT_IMPORT_FILE_INVALID');
      const outcome = await importAccounts(
        deps,
        sheet,
        { actor: principal!.actor, role: principal!.role, requestId: requestIdOf(req) },
        deps.baseUrlOf(req),
        { dryRun },
      );
      const body = report(outcome, dryRun);
      if (outcome.status === 'rejected') {
        throw new AppError('ACCOUNT_IMPORT_INVALID', `共 ${outcome.problems.length} 处问题，请按行修改后重新导入`, {
          errors: outcome.problems.map((p) => ({
            path: `row ${p.row}/${p.column}`,
            message: p.message,
            label: problemLabel(p),
          })),
          ...body,
        });
      }
      return { status: outcome.status === 'imported' ? 201 : 200, body };
    },
  });
}
