import type { Db } from '../knex.js';
import { hasVisibleCharacter, VISIBLE_RULE_ZH } from '../../domain/people.js';
import type { SheetRow } from '../../domain/sheets.js';
import { MAILBOX_MAX_LENGTH, normaliseMailbox as normaliseEmail } from '../../mail/address.js';
import {
  column,
  loadExperts,
  PHONE_PATTERN,
  resolve,
  RowChecker,
  withoutBlanks,
  type ExpertRecord,
  type ListContext,
  type ReferenceList,
  type RowPlan,
  type StoredRow,
} from './reference-rows.js';

/**
 * The expert pool as a reference list (issue 16, point 1): each expert's name, title, unit (a university or
 * college, or an enterprise: exactly one), contact (email, phone), the fields they review (industries), whether
 * they are in the pool (在库) or deactivated (停用), and the units they declared a conflict with (回避, apart from
 * those a decline records). The assignment reads all of it (db/repositories/review.assignments.ts): only active
 * experts are invited, matched by field, kept away from their own university and its colleges, from the
 * applications whose partner enterprises (the application's, or its college's or university's partnerships) employ
 * them, and from the units they declared.
 *
 * Deactivating an expert who still has open assignments (invited or accepted) is refused unless the caller
 * replaces them (`ListContext.replacing`, which only the API's confirmed deactivation sets): an import cannot.
 */

type ExpertKey =
  | 'id'
  | 'nameZh'
  | 'titleZh'
  | 'institutionId'
  | 'enterpriseId'
  | 'email'
  | 'phone'
  | 'fields'
  | 'status'
  | 'conflictInstitutions'
  | 'conflictEnterprises';

/** The status column's words: 在库 (in the pool, invited to reviews) and 停用 (deactivated). */
export const EXPERT_STATUS_ZH = { active: '在库', inactive: '停用' } as const;

/** How several values share a cell: 、 (as officials write lists), or a comma or semicolon of either width. */
const SEPARATORS = /[、，,；;]/;
const split = (cell: string | undefined) =>
  (cell ?? '')
    .split(SEPARATORS)
    .map((v) => v.trim())
    .filter((v) => v !== '');

/** A reason recorded with each declared conflict the list writes (the version records the change's own reason). */
const DECLARED_REASON = '专家库登记的回避单位';

export const EXPERTS: ReferenceList<ExpertKey, ExpertRecord> = {
  name: 'experts',
  kind: 'expert',
  titleZh: '评审专家库',
  table: 'experts',
  shape: {
    noun: '专家',
    columns: [
      column('id', '编号', true, '必填，1–40 个小写字母、数字或连字符（如 exp-001）；已有编号即修改该专家', 12),
      column('nameZh', '姓名', true, '必填，一行，至多 40 个字', 10),
      column('titleZh', '职称', true, '必填，一行，至多 40 个字（如 教授、正高级工程师）', 14),
      column(
        'institutionId',
        '所在高校或学院',
        false,
        '高校专家填所在高校或学院的编号或全称；与“所在企业”二者填一',
        24,
      ),
      column('enterpriseId', '所在企业', false, '企业专家填所在企业的编号或全称；与“所在高校或学院”二者填一', 24),
      column('email', '电子邮箱', true, '必填，单个邮箱地址；各专家不得重复（评审邀请发至此地址）', 30),
      column('phone', '联系电话', false, '选填，如 0371-67781234 或 13800138000', 16),
      column('fields', '评审领域', true, '必填，重点产业的名称或代码，多个以“、”分隔（如 新一代信息技术、新材料）', 28),
      column('status', '状态', false, '“在库”或“停用”，不填为在库；尚有未完成评审任务的专家不能在导入中停用', 8),
      column('conflictInstitutions', '申报回避的高校或学院', false, '选填，编号或全称，多个以“、”分隔', 24),
      column('conflictEnterprises', '申报回避的企业', false, '选填，编号或全称，多个以“、”分隔', 24),
    ],
  },
  subjectOf: (r) => r.id,
  load: loadExperts,
  cellsOf: (r, context) =>
    withoutBlanks({
      id: r.id,
      nameZh: r.name_zh,
      titleZh: r.title_zh,
      institutionId: r.institution_id,
      enterpriseId: r.enterprise_id,
      email: r.email,
      phone: r.phone,
      fields: r.fields.map((key) => context.industries.find((i) => i.key === key)?.name_zh ?? key).join('、'),
      status: r.active ? EXPERT_STATUS_ZH.active : EXPERT_STATUS_ZH.inactive,
      conflictInstitutions: r.conflict_institution_ids.join('、'),
      conflictEnterprises: r.conflict_enterprise_ids.join('、'),
    }),
  check(rows, context) {
    const checker = new RowChecker(this.shape);
    const firstRow = new Map<string, number>();
    const emailRow = new Map<string, number>();
    const stored = new Map(context.experts.map((e) => [e.id, e]));
    const records = new Map<number, ExpertRecord>();
    for (const r of rows) {
      const before = checker.problems.length;
      const id = checker.id(r, 'id', firstRow);
      const nameZh = checker.text(r, 'nameZh', 40, true);
      if (nameZh !== undefined && !hasVisibleCharacter(nameZh)) checker.add(r.row, 'nameZh', `姓名${VISIBLE_RULE_ZH}`);
      const titleZh = checker.text(r, 'titleZh', 40, true);
      const unit = affiliation(checker, r, context);
      const email = normaliseEmail(r.cells.email);
      if (r.cells.email === undefined) checker.add(r.row, 'email', '电子邮箱不能为空');
      else if (!email || email.length > MAILBOX_MAX_LENGTH) {
        checker.add(r.row, 'email', `“${r.cells.email}”不是单个邮箱地址（如 name@example.com）`);
      } else {
        const earlier = emailRow.get(email);
        // Another expert's address as stored, even if this file changes theirs: a change of addresses between
        // experts takes two imports (the database keeps each address once at every step).
        const holder = context.experts.find((e) => e.email === email && e.id !== id);
        if (earlier !== undefined) checker.add(r.row, 'email', `电子邮箱 ${email} 与第 ${earlier} 行重复`, true);
        else if (holder) checker.add(r.row, 'email', `电子邮箱 ${email} 已为专家 ${holder.id} 所用`, true);
        emailRow.set(email, r.row);
      }
      const phone = r.cells.phone;
      if (phone !== undefined && !PHONE_PATTERN.test(phone)) {
        checker.add(r.row, 'phone', `“${phone}”不是电话号码（如 0371-67781234 或 13800138000）`);
      }
      const fields = industries(checker, r, context);
      const active = status(checker, r);
      const old = id === undefined ? undefined : stored.get(id);
      const open = old ? (context.openAssignments.get(old.id) ?? 0) : 0;
      if (old?.active && active === false && open > 0 && !context.replacing.has(old.id)) {
        checker.add(
          r.row,
          'status',
          `专家 ${old.id} 尚有 ${open} 项未完成的评审任务：停用须确认由其他专家替换，导入不能替换，请在专家库中单独停用该专家`,
          'EXPERT_HAS_OPEN_ASSIGNMENTS',
        );
      }
      const conflictInstitutions = parties(checker, r, 'conflictInstitutions', context.institutions, '高校或学院');
      const conflictEnterprises = parties(checker, r, 'conflictEnterprises', context.enterprises, '企业');
      if (checker.problems.length > before) continue;
      records.set(r.row, {
        id: id!,
        name_zh: nameZh!,
        title_zh: titleZh!,
        affiliation_kind: unit!.kind,
        institution_id: unit!.kind === 'academic' ? unit!.id : null,
        enterprise_id: unit!.kind === 'industry' ? unit!.id : null,
        email: email!,
        phone: phone ?? null,
        fields: fields!,
        active: active!,
        conflict_institution_ids: conflictInstitutions!,
        conflict_enterprise_ids: conflictEnterprises!,
      });
    }
    return { problems: checker.problems, records };
  },
  async write(trx: Db, plan: RowPlan<ExpertRecord>): Promise<ExpertRecord> {
    const { conflict_institution_ids, conflict_enterprise_ids, ...row } = plan.record;
    if (plan.action === 'create') await trx('experts').insert(row);
    else await trx('experts').where({ id: plan.subjectId }).update(row);
    await trx('expert_conflicts').where({ expert_id: plan.subjectId, source: 'declared' }).delete();
    const declared = [
      ...conflict_institution_ids.map((id) => ({ institution_id: id })),
      ...conflict_enterprise_ids.map((id) => ({ enterprise_id: id })),
    ];
    if (declared.length > 0) {
      await trx('expert_conflicts').insert(
        declared.map((d) => ({ expert_id: plan.subjectId, ...d, reason: DECLARED_REASON, source: 'declared' })),
      );
    }
    return plan.record;
  },
};

/** The expert's unit: exactly one of a university or college (academic) and an enterprise (industry). */
function affiliation(
  checker: RowChecker<ExpertKey>,
  r: SheetRow<ExpertKey>,
  context: ListContext,
): { kind: 'academic' | 'industry'; id: string } | undefined {
  const { institutionId: institution, enterpriseId: enterprise } = r.cells;
  if ((institution === undefined) === (enterprise === undefined)) {
    checker.add(
      r.row,
      institution === undefined ? 'institutionId' : 'enterpriseId',
      '“所在高校或学院”与“所在企业”须填写且只填写其中一项',
    );
    return undefined;
  }
  const [key, pool, what, kind] =
    institution !== undefined
      ? (['institutionId', context.institutions, '高校或学院', 'academic'] as const)
      : (['enterpriseId', context.enterprises, '企业', 'industry'] as const);
  const text = (institution ?? enterprise)!;
  const found = resolve(pool, text);
  if (found === 'ambiguous') checker.add(r.row, key, `“${text}”对应多个${what}，请改填编号`);
  else if (!found) checker.add(r.row, key, `未找到${what}“${text}”，请核对编号或全称`);
  else return { kind, id: found.id! };
  return undefined;
}

/** The fields (industry keys, in the order written, each once), at least one. */
function industries(
  checker: RowChecker<ExpertKey>,
  r: SheetRow<ExpertKey>,
  context: ListContext,
): string[] | undefined {
  const written = split(r.cells.fields);
  if (written.length === 0) {
    checker.add(r.row, 'fields', '评审领域不能为空');
    return undefined;
  }
  const keys: string[] = [];
  for (const text of written) {
    const industry = context.industries.find((i) => i.key === text || i.name_zh === text);
    if (!industry) {
      checker.add(
        r.row,
        'fields',
        `未知的评审领域“${text}”，应为 ${context.industries.map((i) => i.name_zh).join('、')} 之一`,
      );
      return undefined;
    }
    if (!keys.includes(industry.key)) keys.push(industry.key);
  }
  return keys;
}

/** 在库 (or blank) is true, 停用 is false. */
function status(checker: RowChecker<ExpertKey>, r: SheetRow<ExpertKey>): boolean | undefined {
  const text = r.cells.status;
  if (text === undefined || text === EXPERT_STATUS_ZH.active) return true;
  if (text === EXPERT_STATUS_ZH.inactive) return false;
  checker.add(r.row, 'status', `状态应为“${EXPERT_STATUS_ZH.active}”或“${EXPERT_STATUS_ZH.inactive}”，现为“${text}”`);
  return undefined;
}

/** The ids of the units a cell names (by id or full name), each once and sorted; undefined when one is unknown. */
function parties(
  checker: RowChecker<ExpertKey>,
  r: SheetRow<ExpertKey>,
  key: 'conflictInstitutions' | 'conflictEnterprises',
  pool: readonly StoredRow[],
  what: string,
): string[] | undefined {
  const ids = new Set<string>();
  for (const text of split(r.cells[key])) {
    const found = resolve(pool, text);
    if (found === 'ambiguous') checker.add(r.row, key, `“${text}”对应多个${what}，请改填编号`);
    else if (!found) checker.add(r.row, key, `未找到${what}“${text}”，请核对编号或全称`);
    else ids.add(found.id!);
  }
  return checker.problems.some((p) => p.row === r.row && p.key === key) ? undefined : [...ids].sort();
}
