import type { Db } from '../knex.js';
import { isDeepStrictEqual } from 'node:util';
import { recordAudit, type AuditRole } from './audit.js';
import { recordReferenceVersion, type ReferenceSource } from './reference-versions.js';
import type { SheetRow } from '../../domain/sheets.js';
import { MAILBOX_MAX_LENGTH, normaliseMailbox as normaliseEmail } from '../../mail/address.js';
import { EXPERTS } from './reference-experts.js';
import {
  checkUniqueNames,
  column,
  loadContext,
  PHONE_PATTERN,
  resolve,
  RowChecker,
  withoutBlanks,
  type AnyRecord,
  type ReferenceList,
  type ReferenceListName,
  type RowPlan,
  type RowProblem,
  type StoredRow,
} from './reference-rows.js';

/**
 * Reference data belongs to staff (issue 16, points 1–4): institutions (universities and their colleges, with a
 * contact), partner enterprises, partnerships between them (回避 relations) and the expert pool. Each list is one
 * `ReferenceList` (db/repositories/reference-rows.ts): its columns (the same in the import sheet, the export and,
 * by key, the API's body), how a row is checked against the file and the database, and the record as stored.
 * Creating, changing, importing and seeding all go through `applyReferenceRows`: every row checked first, then
 * every change written in one transaction, each as the record's next version (`reference_versions`) with an
 * audit row.
 */

type InstitutionKey = 'id' | 'nameZh' | 'parentId' | 'city' | 'contactName' | 'contactPhone' | 'contactEmail';

const INSTITUTIONS: ReferenceList<InstitutionKey, StoredRow> = {
  name: 'institutions',
  kind: 'institution',
  titleZh: '高校与学院',
  table: 'institutions',
  shape: {
    noun: '单位',
    columns: [
      column('id', '编号', true, '必填，1–40 个小写字母、数字或连字符（如 zzu、zzu-cs）；已有编号即修改该单位', 14),
      column('nameZh', '名称', true, '必填，一行，至多 100 个字；同一高校下的学院（或各高校之间）不得重名', 32),
      column(
        'parentId',
        '所属高校',
        false,
        '学院必填所属高校的编号或全称（须为高校，不能是学院）；高校不填；已有单位不能改变所属高校',
        14,
      ),
      column('city', '城市', true, '必填，一行，至多 20 个字', 10),
      column('contactName', '联系人', false, '选填，一行，至多 40 个字', 16),
      column('contactPhone', '联系电话', false, '选填，如 0371-67781234 或 13800138000', 16),
      column('contactEmail', '联系邮箱', true, '必填，单个邮箱地址', 30),
    ],
  },
  subjectOf: (r) => r.id!,
  load: (db) =>
    db('institutions')
      .orderByRaw('coalesce(parent_id, id), parent_id nulls first, id')
      .select<StoredRow[]>(
        'id',
        'name_zh',
        'kind',
        'parent_id',
        'city',
        'contact_email',
        'contact_name',
        'contact_phone',
      ),
  cellsOf: (r) =>
    withoutBlanks({
      id: r.id,
      nameZh: r.name_zh,
      parentId: r.parent_id,
      city: r.city,
      contactName: r.contact_name,
      contactPhone: r.contact_phone,
      contactEmail: r.contact_email,
    }),
  check(rows, context) {
    const checker = new RowChecker(this.shape);
    const stored = new Map(context.institutions.map((r) => [r.id!, r]));
    const firstRow = new Map<string, number>();
    // The universities once the file is applied: stored ones (unless the file makes them colleges: it cannot)
    // and the file's rows without a parent.
    const fileUniversities = rows
      .filter((r) => r.cells.parentId === undefined && r.cells.id !== undefined)
      .map((r) => ({ id: r.cells.id!, name_zh: r.cells.nameZh ?? null, kind: 'university', parent_id: null }));
    const universities = [
      ...context.institutions.filter((i) => i.kind === 'university' && !fileUniversities.some((f) => f.id === i.id)),
      ...fileUniversities,
    ];
    const records = new Map<number, StoredRow>();
    for (const r of rows) {
      const before = checker.problems.length;
      const id = checker.id(r, 'id', firstRow);
      const nameZh = checker.text(r, 'nameZh', 100, true);
      const city = checker.text(r, 'city', 20, true);
      const contactName = checker.text(r, 'contactName', 40, false);
      const phone = r.cells.contactPhone;
      if (phone !== undefined && !PHONE_PATTERN.test(phone)) {
        checker.add(r.row, 'contactPhone', `“${phone}”不是电话号码（如 0371-67781234 或 13800138000）`);
      }
      const email = normaliseEmail(r.cells.contactEmail);
      if (r.cells.contactEmail === undefined) checker.add(r.row, 'contactEmail', '联系邮箱不能为空');
      else if (!email || email.length > MAILBOX_MAX_LENGTH) {
        checker.add(r.row, 'contactEmail', `“${r.cells.contactEmail}”不是单个邮箱地址（如 name@example.com）`);
      }
      let parentId: string | null = null;
      const parentText = r.cells.parentId;
      if (parentText !== undefined) {
        const parent = resolve(universities, parentText);
        const college = resolve(
          context.institutions.filter((i) => i.kind === 'college'),
          parentText,
        );
        if (parent === 'ambiguous') checker.add(r.row, 'parentId', `“${parentText}”对应多个高校，请改填编号`);
        else if (parent) parentId = parent.id!;
        else if (college && college !== 'ambiguous') {
          checker.add(r.row, 'parentId', `“${parentText}”是学院：学院只能隶属于高校，不能隶属于学院`);
        } else if (rows.some((o) => o.cells.id === parentText)) {
          checker.add(r.row, 'parentId', `“${parentText}”在本文件中是学院：学院只能隶属于高校`);
        } else checker.add(r.row, 'parentId', `未找到高校“${parentText}”，请核对编号或全称`);
      }
      const old = id === undefined ? undefined : stored.get(id);
      if (old && parentId !== old.parent_id && checker.problems.length === before) {
        checker.add(
          r.row,
          'parentId',
          old.parent_id === null
            ? `${id} 是高校，不能改为学院；如需调整请新建单位`
            : `${id} 隶属于 ${old.parent_id}，已有单位不能改变所属高校；如需调整请新建单位`,
        );
      }
      if (checker.problems.length > before) continue;
      records.set(r.row, {
        id: id!,
        name_zh: nameZh!,
        kind: parentId === null ? 'university' : 'college',
        parent_id: parentId,
        city: city!,
        contact_email: email!,
        contact_name: contactName ?? null,
        contact_phone: phone ?? null,
      });
    }
    checkUniqueNames(checker, 'nameZh', context.institutions, records, (r) => r.parent_id ?? '', '单位');
    return { problems: checker.problems, records };
  },
};

type EnterpriseKey = 'id' | 'nameZh' | 'industry' | 'city';

const ENTERPRISES: ReferenceList<EnterpriseKey, StoredRow> = {
  name: 'enterprises',
  kind: 'enterprise',
  titleZh: '合作企业',
  table: 'enterprises',
  shape: {
    noun: '企业',
    columns: [
      column('id', '编号', true, '必填，1–40 个小写字母、数字或连字符（如 yutong）；已有编号即修改该企业', 16),
      column('nameZh', '名称', true, '必填，一行，至多 100 个字；各企业不得重名', 36),
      column('industry', '所属行业', true, '必填，重点产业的名称（如 新一代信息技术）或代码', 18),
      column('city', '城市', true, '必填，一行，至多 20 个字', 10),
    ],
  },
  subjectOf: (r) => r.id!,
  load: (db) => db('enterprises').orderBy('id').select<StoredRow[]>('id', 'name_zh', 'industry_key', 'city'),
  cellsOf: (r, context) =>
    withoutBlanks({
      id: r.id,
      nameZh: r.name_zh,
      industry: context.industries.find((i) => i.key === r.industry_key)?.name_zh ?? r.industry_key,
      city: r.city,
    }),
  check(rows, context) {
    const checker = new RowChecker(this.shape);
    const firstRow = new Map<string, number>();
    const records = new Map<number, StoredRow>();
    for (const r of rows) {
      const before = checker.problems.length;
      const id = checker.id(r, 'id', firstRow);
      const nameZh = checker.text(r, 'nameZh', 100, true);
      const city = checker.text(r, 'city', 20, true);
      const text = r.cells.industry;
      const industry = context.industries.find((i) => i.key === text || i.name_zh === text);
      if (text === undefined) checker.add(r.row, 'industry', '所属行业不能为空');
      else if (!industry) {
        checker.add(
          r.row,
          'industry',
          `未知的行业“${text}”，应为 ${context.industries.map((i) => i.name_zh).join('、')} 之一`,
        );
      }
      if (checker.problems.length > before) continue;
      records.set(r.row, { id: id!, name_zh: nameZh!, industry_key: industry!.key, city: city! });
    }
    checkUniqueNames(checker, 'nameZh', context.enterprises, records, () => '', '企业');
    return { problems: checker.problems, records };
  },
};

type PartnershipKey = 'institutionId' | 'institutionName' | 'enterpriseId' | 'enterpriseName';

const PARTNERSHIPS: ReferenceList<PartnershipKey, StoredRow> = {
  name: 'partnerships',
  kind: 'partnership',
  titleZh: '校企合作关系',
  table: 'institution_partners',
  shape: {
    noun: '合作关系',
    columns: [
      column('institutionId', '单位编号', true, '必填，高校或学院的编号（或全称）', 14),
      column('institutionName', '单位名称', false, '仅供核对，不导入', 32),
      column('enterpriseId', '企业编号', true, '必填，合作企业的编号（或全称）', 16),
      column('enterpriseName', '企业名称', false, '仅供核对，不导入', 36),
    ],
  },
  subjectOf: (r) => `${r.institution_id}/${r.enterprise_id}`,
  load: (db) =>
    db('institution_partners')
      .orderBy(['institution_id', 'enterprise_id'])
      .select<StoredRow[]>('institution_id', 'enterprise_id'),
  cellsOf: (r, context) =>
    withoutBlanks({
      institutionId: r.institution_id,
      institutionName: context.institutions.find((i) => i.id === r.institution_id)?.name_zh,
      enterpriseId: r.enterprise_id,
      enterpriseName: context.enterprises.find((e) => e.id === r.enterprise_id)?.name_zh,
    }),
  check(rows, context) {
    const checker = new RowChecker(this.shape);
    const firstRow = new Map<string, number>();
    const records = new Map<number, StoredRow>();
    const party = (r: SheetRow<PartnershipKey>, key: 'institutionId' | 'enterpriseId') => {
      const [pool, what] =
        key === 'institutionId' ? [context.institutions, '高校或学院'] : [context.enterprises, '合作企业'];
      const text = r.cells[key];
      const found = text === undefined ? undefined : resolve(pool, text);
      if (text === undefined) checker.add(r.row, key, `须填写${what}的编号`);
      else if (found === 'ambiguous') checker.add(r.row, key, `“${text}”对应多个${what}，请改填编号`);
      else if (!found) checker.add(r.row, key, `未找到${what}“${text}”，请核对编号或全称`);
      else return found.id!;
      return undefined;
    };
    for (const r of rows) {
      const institutionId = party(r, 'institutionId');
      const enterpriseId = party(r, 'enterpriseId');
      if (institutionId === undefined || enterpriseId === undefined) continue;
      const subject = `${institutionId}/${enterpriseId}`;
      const first = firstRow.get(subject);
      if (first !== undefined) {
        checker.add(r.row, 'enterpriseId', `${institutionId} 与 ${enterpriseId} 的合作关系与第 ${first} 行重复`, true);
        continue;
      }
      firstRow.set(subject, r.row);
      records.set(r.row, { institution_id: institutionId, enterprise_id: enterpriseId });
    }
    return { problems: checker.problems, records };
  },
};

/** The four lists, by the name the API gives them. */
export const REFERENCE_LISTS: Record<ReferenceListName, ReferenceList> = {
  institutions: INSTITUTIONS,
  enterprises: ENTERPRISES,
  partnerships: PARTNERSHIPS,
  experts: EXPERTS,
};

/** Who changes reference data, why and how. */
export interface ReferenceActor {
  actor: string;
  role: AuditRole;
  requestId?: string | undefined;
  source: ReferenceSource;
  /** Why, zh-CN (every version records it). */
  reason: string;
  /** The imported file's SHA-256, for `source` import. */
  importSha256?: string | undefined;
}

/**
 * How rows are applied: `upsert` (an import: new ids created, existing ones changed); `create` (the API: an
 * existing record is a clash); `change` (the API: the record must exist, else `missing`); `onlyMissing` (the
 * seed: a record that exists, or ever existed, is left as it is — a restart never undoes a staff change).
 */
export type ApplyMode = 'upsert' | 'create' | 'change' | 'onlyMissing';

/** What applying rows gives: the problems (nothing written) or the plans, with the versions written. */
export type ApplyOutcome =
  | { status: 'rejected'; problems: RowProblem[]; plans: RowPlan[] }
  | { status: 'missing' }
  | { status: 'checked' | 'applied'; problems: []; plans: RowPlan[]; versions: Map<string, number> };

const sameRecord = (a: AnyRecord, b: AnyRecord) =>
  Object.keys(a).every((k) => isDeepStrictEqual(a[k] ?? null, b[k] ?? null));

/**
 * Checks `rows` of `list` against one another and the database and, unless `dryRun`, writes every change in one
 * transaction under the list's lock: each created or changed record becomes its next version (`by.source`, the
 * file's SHA-256) with an audit row (`<kind>.create` or `<kind>.change`, the reason and version); rows already
 * as stored write nothing. With any problem nothing is written (`rejected`). Works inside a caller's
 * transaction too (the seed's).
 */
export async function applyReferenceRows(
  db: Db,
  list: ReferenceList,
  rows: readonly SheetRow<string>[],
  by: ReferenceActor,
  {
    dryRun,
    mode,
    replacing,
    columns,
    writeSoundRows = false,
  }: {
    dryRun: boolean;
    mode: ApplyMode;
    /**
     * The columns an imported file has. A record the file names and the database holds keeps, in each column the
     * file lacks, its stored value (a sheet without 状态 never reactivates an expert). Absent: every column is
     * the row's (the API sends whole records).
     */
    columns?: readonly string[];
    /** Experts whose open assignments the caller replaces once deactivated (staff confirmed it; see ListContext). */
    replacing?: ReadonlySet<string>;
    /**
     * With problems, write the sound rows all the same (still `rejected`): for a caller whose transaction is rolled
     * back anyway and who reads what the file would leave (the next worksheet, 回避 on open assignments).
     */
    writeSoundRows?: boolean;
  },
): Promise<ApplyOutcome> {
  const run = async (trx: Db): Promise<ApplyOutcome> => {
    if (!dryRun) await trx.raw('select pg_advisory_xact_lock(hashtext(?))', [`ronghe:reference:${list.kind}`]);
    const context = await loadContext(trx, replacing);
    const stored = new Map((context[list.name] ?? []).map((r) => [list.subjectOf(r), r]));
    const subjectOfCells = (r: SheetRow<string>) =>
      list.name === 'partnerships' ? `${r.cells.institutionId}/${r.cells.enterpriseId}` : (r.cells.id ?? '');
    let pending = rows;
    if (mode === 'onlyMissing') {
      const everVersioned = new Set<string>(
        await trx('reference_versions').where({ kind: list.kind }).distinct('subject_id').pluck('subject_id'),
      );
      const known = (subject: string) => stored.has(subject) || everVersioned.has(subject);
      pending = rows.filter((r) => !known(subjectOfCells(r)));
    }
    if (columns) {
      const absent = list.shape.columns.map((c) => c.key).filter((k) => !columns.includes(k));
      pending = pending.map((r) => {
        const old = stored.get(subjectOfCells(r));
        if (!old || absent.length === 0) return r;
        const kept = list.cellsOf(old, context);
        return {
          row: r.row,
          cells: { ...Object.fromEntries(absent.flatMap((k) => (kept[k] ? [[k, kept[k]]] : []))), ...r.cells },
        };
      });
    }
    const { problems, records } = list.check(pending, context);
    const plans: RowPlan[] = [];
    for (const [row, record] of records) {
      const subjectId = list.subjectOf(record);
      const old = stored.get(subjectId);
      if (old && mode === 'create') {
        const key = list.shape.columns[0]!;
        problems.push({ row, key: key.key, column: key.header, message: `${subjectId} 已存在`, clash: true });
      } else if (!old && mode === 'change') return { status: 'missing' };
      else
        plans.push({
          row,
          subjectId,
          record,
          action: !old ? 'create' : sameRecord(record, old) ? 'unchanged' : 'change',
        });
    }
    const versions = new Map<string, number>();
    if (problems.length > 0) {
      problems.sort((a, b) => a.row - b.row);
      if (writeSoundRows && !dryRun) await writePlans(trx, list, plans, by, versions);
      return { status: 'rejected', problems, plans };
    }
    if (dryRun) return { status: 'checked', problems: [], plans, versions };
    await writePlans(trx, list, plans, by, versions);
    if (by.source === 'import' && versions.size > 0) await auditImport(trx, list, plans, by);
    return { status: 'applied', problems: [], plans, versions };
  };
  return dryRun ? run(db) : db.transaction(run);
}

/** Writes each created or changed record of `plans` as its next version (universities before their colleges). */
async function writePlans(
  trx: Db,
  list: ReferenceList,
  plans: readonly RowPlan[],
  by: ReferenceActor,
  versions: Map<string, number>,
): Promise<void> {
  // Universities before their colleges.
  const ordered = [...plans].sort((a, b) => Number(a.record.parent_id != null) - Number(b.record.parent_id != null));
  for (const plan of ordered) {
    if (plan.action === 'unchanged') continue;
    const written = list.write
      ? await list.write(trx, plan)
      : (
          await (plan.action === 'create'
            ? trx(list.table).insert(plan.record).returning<AnyRecord[]>('*')
            : trx(list.table).where({ id: plan.subjectId }).update(plan.record).returning<AnyRecord[]>('*'))
        )[0]!;
    versions.set(plan.subjectId, await recordChange(trx, list, plan.subjectId, written, plan.action, by));
  }
}

/** Records a change of `subjectId` (its stored row after, or null once removed) as its next version, audited. */
async function recordChange(
  trx: Db,
  list: ReferenceList,
  subjectId: string,
  data: AnyRecord | null,
  action: 'create' | 'change' | 'remove',
  by: ReferenceActor,
): Promise<number> {
  const version = await recordReferenceVersion(trx, {
    kind: list.kind,
    subjectId,
    data,
    reason: by.reason,
    actor: by.actor,
    source: by.source,
    importSha256: by.importSha256,
  });
  await recordAudit(trx, {
    actor: by.actor,
    role: by.role,
    action: `${list.kind}.${action}`,
    subjectKind: list.kind,
    subjectId,
    reason: by.reason,
    details: { version, source: by.source, ...(by.importSha256 ? { importSha256: by.importSha256 } : {}) },
    requestId: by.requestId,
  });
  return version;
}

/**
 * Removes a partnership (institution ↔ enterprise) as `by`: its next version records `null`, audited
 * `partnership.remove`. Returns the version, or undefined when there is no such partnership.
 */
export function removePartnership(
  db: Db,
  institutionId: string,
  enterpriseId: string,
  by: ReferenceActor,
): Promise<number | undefined> {
  return db.transaction(async (trx) => {
    await trx.raw('select pg_advisory_xact_lock(hashtext(?))', ['ronghe:reference:partnership']);
    const removed = await trx('institution_partners')
      .where({ institution_id: institutionId, enterprise_id: enterpriseId })
      .delete();
    if (removed === 0) return undefined;
    return recordChange(trx, PARTNERSHIPS, `${institutionId}/${enterpriseId}`, null, 'remove', by);
  });
}

/** Records an import that changed something (`reference.import`, subject the file's SHA-256, with its counts). */
async function auditImport(db: Db, list: ReferenceList, plans: readonly RowPlan[], by: ReferenceActor): Promise<void> {
  const count = (action: RowPlan['action']) => plans.filter((p) => p.action === action).length;
  await recordAudit(db, {
    actor: by.actor,
    role: by.role,
    action: 'reference.import',
    subjectKind: `${list.kind}_import`,
    subjectId: by.importSha256 ?? '',
    reason: by.reason,
    details: { list: list.name, created: count('create'), changed: count('change'), unchanged: count('unchanged') },
    requestId: by.requestId,
  });
}
