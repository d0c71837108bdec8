import type { Db } from '../db/knex.js';
import {
  IMPORT_MAX_ROWS,
  readSheetFile,
  writeSheetXlsx,
  type Sheet,
  type SheetColumn,
  type SheetRow,
  type SheetShape,
} from './spreadsheet.js';
import { findAccount, type Account } from '../db/repositories/accounts.js';
import { recordAudit } from '../db/repositories/audit.js';
import {
  ACCOUNT_KIND_ZH,
  ACCOUNT_KINDS,
  STAFF_ROLE_ZH,
  STAFF_ROLES,
  type AccountKind,
  type StaffRole,
} from '../domain/accounts.js';
import { hasVisibleCharacter, isOneLine, ONE_LINE_RULE_ZH, VISIBLE_RULE_ZH } from '../domain/people.js';
import { MAILBOX_MAX_LENGTH } from '../mail/address.js';
import {
  insertAuditedAccount,
  issueAccountLink,
  normaliseEmail,
  type AccountActor,
  type AccountServiceDeps,
} from './accounts.js';

/**
 * Accounts imported from a spreadsheet (issue 15, point 2): an XLSX workbook (its first sheet) or a CSV file
 * whose first row holds the zh-CN headers of `IMPORT_COLUMNS`. Every row is checked before anything is written;
 * a real import writes all rows in one transaction or none, invites each new account through the outbox after
 * the commit, and is recorded by the SHA-256 of the file, so the same file imported twice creates nothing twice.
 */

export {
  CSV_CONTENT_TYPE,
  IMPORT_MAX_BYTES,
  IMPORT_MAX_ROWS,
  ImportFileRejected,
  XLSX_CONTENT_TYPE,
} from './spreadsheet.js';

/** The import sheet's columns, by the key the code reads them under. */
export type ImportColumnKey = 'name' | 'email' | 'kind' | 'staffRole' | 'organisation' | 'expertId' | 'note';

/** One column of the import sheet: its key, its zh-CN header, whether the sheet must have it, what goes in it. */
export type ImportColumn = SheetColumn<ImportColumnKey>;

const KIND_VALUES_ZH = ACCOUNT_KINDS.map((k) => ACCOUNT_KIND_ZH[k]);
const ROLE_VALUES_ZH = STAFF_ROLES.map((r) => STAFF_ROLE_ZH[r]);

/** The columns, in the template's order. Headers are matched exactly (surrounding spaces ignored). */
export const IMPORT_COLUMNS: readonly ImportColumn[] = [
  { key: 'name', header: '姓名', required: true, help: '必填，一行，至多 40 个字', width: 12 },
  { key: 'email', header: '电子邮箱', required: true, help: '必填，单个邮箱地址；邀请邮件发往此地址', width: 30 },
  {
    key: 'kind',
    header: '账号类型',
    required: true,
    help: `必填，填写 ${KIND_VALUES_ZH.join('、')} 之一（也可填 ${ACCOUNT_KINDS.join('、')}）`,
    width: 22,
  },
  {
    key: 'staffRole',
    header: '人员角色',
    required: false,
    help: `工作人员必填：${ROLE_VALUES_ZH.join('、')} 之一（也可填 ${STAFF_ROLES.join('、')}）；其他类型不填`,
    width: 14,
  },
  {
    key: 'organisation',
    header: '单位',
    required: false,
    help: '申报单位用户填所代表的高校或学院，合作企业用户填所代表的企业：全称或编号；其他类型不填',
    width: 32,
  },
  {
    key: 'expertId',
    header: '专家编号',
    required: false,
    help: '评审专家必填：专家库中的编号（如 exp-001）；其他类型不填',
    width: 12,
  },
  { key: 'note', header: '备注', required: false, help: '选填，不导入', width: 24 },
];

const LABEL: Record<ImportColumnKey, string> = Object.fromEntries(
  IMPORT_COLUMNS.map((c) => [c.key, c.header]),
) as Record<ImportColumnKey, string>;

/** One data row as read: its row number in the sheet (the header is row 1) and its cells by column, trimmed. */
export type ImportRow = SheetRow<ImportColumnKey>;

/** A file read: its format, the text encoding a CSV was read in, its SHA-256 (hex) and its data rows. */
export type ImportSheet = Sheet<ImportColumnKey>;

const SHAPE: SheetShape<ImportColumnKey> = { columns: IMPORT_COLUMNS, noun: '账号' };

/**
 * Reads an account import file (`readSheetFile` with the columns of `IMPORT_COLUMNS`).
 *
 * @throws ImportFileRejected as `readSheetFile` does.
 */
export function readImportFile(bytes: Buffer, contentType: string): Promise<ImportSheet> {
  return readSheetFile(bytes, contentType, SHAPE);
}

/** One problem of one row: the row number in the sheet, the column's zh-CN header, and what to fix (zh-CN). */
export interface ImportProblem {
  row: number;
  column: string;
  message: string;
}

/** A row that passed every check: the account it creates. */
export interface ImportPlan {
  row: number;
  kind: AccountKind;
  staffRole?: StaffRole;
  institutionId?: string;
  enterpriseId?: string;
  expertId?: string;
  /** The zh-CN name of the institution, enterprise or expert it acts for, when there is one. */
  actsForZh?: string;
  email: string;
  name: string;
}

const KIND_BY_TEXT = new Map<string, AccountKind>([
  ...ACCOUNT_KINDS.map((k) => [k, k] as const),
  ...ACCOUNT_KINDS.map((k) => [ACCOUNT_KIND_ZH[k], k] as const),
  ['工作人员', 'staff'],
  ['申报单位', 'institution'],
  ['合作企业', 'enterprise'],
  ['专家', 'expert'],
]);
const ROLE_BY_TEXT = new Map<string, StaffRole>([
  ...STAFF_ROLES.map((r) => [r, r] as const),
  ...STAFF_ROLES.map((r) => [STAFF_ROLE_ZH[r], r] as const),
]);

/**
 * Checks every row against the file and the database (read through `db`, which may be a transaction), and
 * returns every problem found (by row and column, zh-CN) and, for the rows without one, the accounts they make.
 * Checked: a blank or too long name; a blank, malformed or repeated email (within the file, and against existing
 * accounts); an unknown account type or staff role; a staff row without a role; an institution, enterprise or
 * expert that is missing, unknown, of the wrong kind or (expert) no longer in the pool or already with an account;
 * a column filled that the row's type does not take.
 */
async function checkImportRows(
  db: Db,
  rows: readonly ImportRow[],
): Promise<{ problems: ImportProblem[]; plans: ImportPlan[] }> {
  const problems: ImportProblem[] = [];
  const plans: ImportPlan[] = [];
  const problem = (row: number, key: ImportColumnKey, message: string) =>
    problems.push({ row, column: LABEL[key], message });

  const emails = rows.map((r) => normaliseEmail(r.cells.email));
  const existing = new Set<string>(
    await db('accounts')
      .whereIn(
        'email',
        emails.filter((e): e is string => e !== undefined),
      )
      .pluck('email'),
  );
  const orgTexts = [...new Set(rows.map((r) => r.cells.organisation).filter((t): t is string => t !== undefined))];
  const institutions: { id: string; name_zh: string }[] = await db('institutions')
    .whereIn('id', orgTexts)
    .orWhereIn('name_zh', orgTexts)
    .select('id', 'name_zh');
  const enterprises: { id: string; name_zh: string }[] = await db('enterprises')
    .whereIn('id', orgTexts)
    .orWhereIn('name_zh', orgTexts)
    .select('id', 'name_zh');
  const expertIds = [...new Set(rows.map((r) => r.cells.expertId).filter((t): t is string => t !== undefined))];
  const experts = new Map(
    (
      await db('experts')
        .whereIn('id', expertIds)
        .select<{ id: string; name_zh: string; active: boolean }[]>('id', 'name_zh', 'active')
    ).map((e) => [e.id, e]),
  );
  const expertsWithAccount = new Set<string>(await db('accounts').whereIn('expert_id', expertIds).pluck('expert_id'));

  const firstRowOfEmail = new Map<string, number>();
  const firstRowOfExpert = new Map<string, number>();
  for (const [i, r] of rows.entries()) {
    const before = problems.length;
    const { cells } = r;

    const name = cells.name ?? '';
    if (name === '') problem(r.row, 'name', '姓名不能为空');
    else if ([...name].length > 40) problem(r.row, 'name', '姓名至多 40 个字');
    else if (!isOneLine(name)) problem(r.row, 'name', `姓名${ONE_LINE_RULE_ZH}`);
    else if (!hasVisibleCharacter(name)) problem(r.row, 'name', `姓名${VISIBLE_RULE_ZH}`);

    const email = emails[i];
    if (cells.email === undefined) problem(r.row, 'email', '电子邮箱不能为空');
    else if (!email || email.length > MAILBOX_MAX_LENGTH) {
      problem(r.row, 'email', `“${cells.email}”不是单个邮箱地址（如 name@example.com）`);
    } else if (firstRowOfEmail.has(email)) {
      problem(r.row, 'email', `${email} 与第 ${firstRowOfEmail.get(email)} 行重复`);
    } else {
      firstRowOfEmail.set(email, r.row);
      if (existing.has(email)) problem(r.row, 'email', `${email} 已有账号，请删除此行或在账号列表中查看`);
    }

    const kind = cells.kind === undefined ? undefined : KIND_BY_TEXT.get(cells.kind);
    if (cells.kind === undefined) problem(r.row, 'kind', `账号类型不能为空，应为 ${KIND_VALUES_ZH.join('、')} 之一`);
    else if (!kind) problem(r.row, 'kind', `无法识别的账号类型“${cells.kind}”，应为 ${KIND_VALUES_ZH.join('、')} 之一`);

    const plan: Partial<ImportPlan> = { row: r.row, email: email ?? '', name };
    if (kind) {
      plan.kind = kind;
      const notFor = (key: ImportColumnKey) => {
        if (cells[key] !== undefined) problem(r.row, key, `${ACCOUNT_KIND_ZH[kind]}不填写${LABEL[key]}，请清空`);
      };
      if (kind === 'staff') {
        const role = cells.staffRole === undefined ? undefined : ROLE_BY_TEXT.get(cells.staffRole);
        if (cells.staffRole === undefined) {
          problem(r.row, 'staffRole', `工作人员须填写人员角色：${ROLE_VALUES_ZH.join('、')} 之一`);
        } else if (!role) {
          problem(r.row, 'staffRole', `无法识别的人员角色“${cells.staffRole}”，应为 ${ROLE_VALUES_ZH.join('、')} 之一`);
        } else plan.staffRole = role;
      } else notFor('staffRole');
      if (kind === 'institution' || kind === 'enterprise') {
        const text = cells.organisation;
        const pool = kind === 'institution' ? institutions : enterprises;
        const other = kind === 'institution' ? enterprises : institutions;
        const what = kind === 'institution' ? '高校或学院' : '合作企业';
        const found = text === undefined ? [] : pool.filter((o) => o.id === text || o.name_zh === text);
        if (text === undefined) problem(r.row, 'organisation', `${ACCOUNT_KIND_ZH[kind]}须填写所代表的${what}`);
        else if (found.length === 1) {
          if (kind === 'institution') plan.institutionId = found[0]!.id;
          else plan.enterpriseId = found[0]!.id;
          plan.actsForZh = found[0]!.name_zh;
        } else if (found.length > 1) {
          problem(r.row, 'organisation', `“${text}”对应多个${what}，请改填编号`);
        } else if (other.some((o) => o.id === text || o.name_zh === text)) {
          problem(r.row, 'organisation', `“${text}”不是${what}：${ACCOUNT_KIND_ZH[kind]}应填所代表的${what}`);
        } else {
          problem(r.row, 'organisation', `未找到${what}“${text}”，请核对全称或编号`);
        }
      } else notFor('organisation');
      if (kind === 'expert') {
        const id = cells.expertId;
        const expert = id === undefined ? undefined : experts.get(id);
        if (id === undefined) problem(r.row, 'expertId', '评审专家须填写专家库中的专家编号');
        else if (!expert) problem(r.row, 'expertId', `专家库中没有编号为“${id}”的专家`);
        else if (!expert.active) problem(r.row, 'expertId', `专家 ${id}（${expert.name_zh}）已不在专家库中（已停用）`);
        else if (expertsWithAccount.has(id)) problem(r.row, 'expertId', `专家 ${id}（${expert.name_zh}）已有账号`);
        else if (firstRowOfExpert.has(id)) {
          problem(r.row, 'expertId', `专家 ${id} 与第 ${firstRowOfExpert.get(id)} 行重复`);
        } else {
          plan.expertId = id;
          plan.actsForZh = expert.name_zh;
        }
        if (id !== undefined && !firstRowOfExpert.has(id)) firstRowOfExpert.set(id, r.row);
      } else notFor('expertId');
    }
    if (problems.length === before) plans.push(plan as ImportPlan);
  }
  return { problems, plans };
}

/** What an import (or its dry run) answers. */
export type ImportOutcome =
  | { status: 'checked'; sheet: ImportSheet; problems: ImportProblem[]; plans: ImportPlan[] }
  | { status: 'rejected'; sheet: ImportSheet; problems: ImportProblem[] }
  | { status: 'imported'; sheet: ImportSheet; accounts: Account[] }
  | { status: 'already_imported'; sheet: ImportSheet; importedAt: Date; importedBy: string; accounts: Account[] };

/** Thrown inside the import's transaction to roll it back with the problems found there. */
class RowsRejected extends Error {
  constructor(readonly problems: ImportProblem[]) {
    super('rows rejected');
  }
}

/** The audit action of an import; its subject is the file's SHA-256, which makes a second import of it a no-op. */
const IMPORT_AUDIT_ACTION = 'account.import';

/** The earlier import of the file with this SHA-256, if there was one (its audit row). */
async function earlierImport(
  db: Db,
  sha256: string,
): Promise<{ occurredAt: Date; actor: string; accountIds: string[] } | undefined> {
  const row = await db('audit_events')
    .where({ action: IMPORT_AUDIT_ACTION, subject_kind: 'account_import', subject_id: sha256 })
    .first<{ occurred_at: Date; actor: string; details: { accountIds?: string[] } } | undefined>(
      'occurred_at',
      'actor',
      'details',
    );
  return row ? { occurredAt: row.occurred_at, actor: row.actor, accountIds: row.details.accountIds ?? [] } : undefined;
}

/** The accounts with these ids, in their order (one query at a time: `db` may be a transaction's one client). */
async function accountsByIds(db: Db, ids: readonly string[]): Promise<Account[]> {
  const accounts: Account[] = [];
  for (const id of ids) {
    const account = await findAccount(db, id);
    if (account) accounts.push(account);
  }
  return accounts;
}

/**
 * Checks (`dryRun`) or imports the sheet. A dry run writes nothing and answers `checked` with every problem and
 * the accounts the rows would make (or `already_imported` when this very file was imported before). A real
 * import, under one lock for all imports (so two imports cannot both take the same email or expert), checks the
 * rows again inside its transaction: with any problem it writes nothing and answers `rejected`; else it creates
 * every account (staff with a TOTP secret to enrol), audits each `account.create` and the import
 * (`account.import`, subject the file's SHA-256, with the file's format and the accounts made), records each
 * invitation in the outbox, commits, and then hands the invitations to SMTP (a failure stays pending for the
 * sweeper). The same file imported again answers `already_imported` with the accounts it made, and invites no
 * one again.
 */
export async function importAccounts(
  deps: AccountServiceDeps,
  sheet: ImportSheet,
  by: AccountActor,
  baseUrl: string,
  { dryRun }: { dryRun: boolean },
): Promise<ImportOutcome> {
  const earlierOf = async (db: Db): Promise<ImportOutcome | undefined> => {
    const earlier = await earlierImport(db, sheet.sha256);
    if (!earlier) return undefined;
    return {
      status: 'already_imported',
      sheet,
      importedAt: earlier.occurredAt,
      importedBy: earlier.actor,
      accounts: await accountsByIds(db, earlier.accountIds),
    };
  };
  if (dryRun) {
    const earlier = await earlierOf(deps.db);
    if (earlier) return earlier;
    return { status: 'checked', sheet, ...(await checkImportRows(deps.db, sheet.rows)) };
  }
  let outcome: ImportOutcome;
  const keys: string[] = [];
  try {
    outcome = await deps.db.transaction(async (trx) => {
      await trx.raw('select pg_advisory_xact_lock(hashtext(?))', ['ronghe:account-import']);
      const earlier = await earlierOf(trx);
      if (earlier) return earlier;
      const { problems, plans } = await checkImportRows(trx, sheet.rows);
      if (problems.length > 0) throw new RowsRejected(problems);
      const accounts: Account[] = [];
      for (const plan of plans) {
        const created = await insertAuditedAccount(
          trx,
          {
            kind: plan.kind,
            staffRole: plan.staffRole,
            institutionId: plan.institutionId,
            enterpriseId: plan.enterpriseId,
            expertId: plan.expertId,
            email: plan.email,
            name: plan.name,
          },
          by,
          { import: sheet.sha256 },
        );
        // Taken since the check (an account created one by one meanwhile): nothing of this import stays.
        if (!created) {
          throw new RowsRejected([{ row: plan.row, column: LABEL.email, message: `${plan.email} 已有账号` }]);
        }
        const link = await issueAccountLink(deps, trx, created, 'invitation', baseUrl);
        keys.push(link.idempotencyKey);
        accounts.push(created);
      }
      await recordAudit(trx, {
        actor: by.actor,
        role: by.role,
        action: IMPORT_AUDIT_ACTION,
        subjectKind: 'account_import',
        subjectId: sheet.sha256,
        details: {
          format: sheet.format,
          encoding: sheet.encoding,
          rows: plans.length,
          accountIds: accounts.map((a) => a.id),
        },
        requestId: by.requestId,
      });
      return { status: 'imported', sheet, accounts };
    });
  } catch (err) {
    if (err instanceof RowsRejected) return { status: 'rejected', sheet, problems: err.problems };
    throw err;
  }
  if (keys.length > 0) await deps.outbox.sendSoon(keys);
  return outcome;
}

/**
 * The import template: sheet 账号 with the headers of `IMPORT_COLUMNS` (bold, frozen), drop-down lists for the
 * account type and staff role, and sheet 填写说明 with each column's rule. An XLSX file (exceljs).
 */
export function importTemplateXlsx(): Promise<Buffer> {
  return writeSheetXlsx(SHAPE, '账号', [], (sheet, letter) => {
    for (let row = 2; row <= IMPORT_MAX_ROWS + 1; row++) {
      sheet.getCell(`${letter('kind')}${row}`).dataValidation = {
        type: 'list',
        allowBlank: true,
        formulae: [`"${KIND_VALUES_ZH.join(',')}"`],
      };
      sheet.getCell(`${letter('staffRole')}${row}`).dataValidation = {
        type: 'list',
        allowBlank: true,
        formulae: [`"${ROLE_VALUES_ZH.join(',')}"`],
      };
    }
  });
}
