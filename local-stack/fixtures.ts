import { Readable } from 'node:stream';
import type { Db } from '../db/knex.js';
import type { AttachmentStore } from '../storage/attachments.js';

/** A draft as the bulk fixtures insert it: its id, its institution and its title. */
export interface BulkDraft {
  id: string;
  institution_id: string;
  title_zh: string;
}

/**
 * `count` research-project drafts of a round, ready to submit, with their 申报书 (one small PDF, stored once),
 * inserted in bulk — for the benchmark and the chaos run, which are about the workflows, not about typing.
 * Application `i` (1-based) is titled `产教融合研究项目 i`, from `institutions[(i - 1) % n]`, in
 * `fields[(i - 1) % m]`; principals are numbered `<staffNoPrefix>000001…`.
 */
export async function insertBulkDrafts(
  db: Db,
  store: AttachmentStore,
  options: { roundId: string; count: number; institutions: string[]; fields: string[]; staffNoPrefix: string },
): Promise<BulkDraft[]> {
  const pdf = await store.save(Readable.from([Buffer.from('%PDF-1.7\nbulk\n%%EOF\n')]), 'application/pdf');
  const summary =
    '面向产业需求开展产教融合研究，校企共建课程与实践平台，形成可推广的协同育人模式与评价机制，服务区域经济高质量发展。';
  const rows = Array.from({ length: options.count }, (_, i) => {
    const institution = options.institutions[i % options.institutions.length]!;
    const field = options.fields[i % options.fields.length]!;
    const title = `产教融合研究项目 ${i + 1}`;
    const draft = {
      title,
      field,
      summary,
      principal: { staffNo: `${options.staffNoPrefix}${String(i + 1).padStart(6, '0')}`, name: `负责人${i + 1}` },
    };
    return {
      round_id: options.roundId,
      institution_id: institution,
      status: 'draft',
      title_zh: title,
      field_key: field,
      draft: JSON.stringify(draft),
      // An attachment makes a revision: the draft is at its second, as if typed and then uploaded.
      revision: 2,
      created_by: `applicant:${institution}`,
    };
  });
  const drafts: BulkDraft[] = [];
  for (let i = 0; i < rows.length; i += 1000) {
    drafts.push(
      ...(await db('applications')
        .insert(rows.slice(i, i + 1000))
        .returning<BulkDraft[]>(['id', 'institution_id', 'title_zh'])),
    );
  }
  for (let i = 0; i < drafts.length; i += 1000) {
    await db('attachments').insert(
      drafts.slice(i, i + 1000).map((a) => ({
        application_id: a.id,
        kind: 'application_form',
        file_name: '申报书.pdf',
        content_type: 'application/pdf',
        size_bytes: pdf.size,
        sha256: pdf.sha256,
        storage_key: pdf.storageKey,
        uploaded_by: `applicant:${a.institution_id}`,
      })),
    );
  }
  return drafts;
}

/**
 * Replaces the active expert pool with `size` industry experts `<prefix>-0001…`, spread over `fields` in turn
 * (expert `i` in `fields[(i - 1) % n]`), for the benchmark and the chaos run. They work for an enterprise that
 * is no institution's partner, or — the seeds have none — for no recorded enterprise: 回避 keeps an applicant's
 * partners' experts away, so a pool at one seeded partner could review none of its universities. The seeded experts stay in the table, inactive. Returns the new experts' ids.
 */
export async function replaceExpertPool(
  db: Db,
  options: { prefix: string; size: number; fields: string[] },
): Promise<string[]> {
  await db('experts').update({ active: false });
  const neutral = await db('enterprises')
    .whereNotIn('id', db('institution_partners').select('enterprise_id'))
    .orderBy('id')
    .first<{ id: string } | undefined>('id');
  const pool = Array.from({ length: options.size }, (_, i) => ({
    id: `${options.prefix}-${String(i + 1).padStart(4, '0')}`,
    name_zh: `评审专家${i + 1}`,
    email: `${options.prefix}-${i + 1}@experts.ronghe.example`,
    affiliation_kind: 'industry',
    enterprise_id: neutral?.id ?? null,
    title_zh: '正高级工程师',
    fields: [options.fields[i % options.fields.length]!],
  }));
  for (let i = 0; i < pool.length; i += 500) await db('experts').insert(pool.slice(i, i + 500));
  return pool.map((e) => e.id);
}
