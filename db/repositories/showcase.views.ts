import type { Db } from '../knex.js';

/** A selected case as the public sees it (page, JSON, CSV, XLSX all come from this one list). */
export interface PublishedCase {
  caseId: string;
  title: string;
  summary: string;
  institutionName: string;
  programme: string;
  programmeName: string;
  industry: string | null;
  industryName: string | null;
  score: number | null;
  rank: number | null;
}

/** The selected cases of a showcase, best first; `q` filters on title, summary, institution, programme and industry. */
export async function selectedCases(db: Db, showcaseId: string, q?: string): Promise<PublishedCase[]> {
  const rows = await db('showcase_cases as c')
    .join('institutions as i', 'i.id', 'c.institution_id')
    .join('programmes as p', 'p.key', 'c.programme')
    .leftJoin('industries as n', 'n.key', 'c.industry_key')
    .where({ 'c.showcase_id': showcaseId, 'c.status': 'selected' })
    .modify((query) => {
      const term = q?.trim();
      if (term) {
        const like = `%${term.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;
        void query.where((w) => {
          for (const column of ['c.title_zh', 'c.summary_zh', 'i.name_zh', 'p.name_zh', 'n.name_zh'])
            void w.orWhereILike(column, like);
        });
      }
    })
    .orderBy([{ column: 'c.rank' }, { column: 'c.id' }])
    .select<
      {
        id: string;
        title_zh: string;
        summary_zh: string;
        institution: string;
        programme: string;
        programme_name: string;
        industry_key: string | null;
        industry_name: string | null;
        score: string | null;
        rank: number | null;
      }[]
    >(
      'c.id',
      'c.title_zh',
      'c.summary_zh',
      'i.name_zh as institution',
      'c.programme',
      'p.name_zh as programme_name',
      'c.industry_key',
      'n.name_zh as industry_name',
      'c.score',
      'c.rank',
    );
  return rows.map((r) => ({
    caseId: r.id,
    title: r.title_zh,
    summary: r.summary_zh,
    institutionName: r.institution,
    programme: r.programme,
    programmeName: r.programme_name,
    industry: r.industry_key,
    industryName: r.industry_name,
    score: r.score === null ? null : Number(r.score),
    rank: r.rank,
  }));
}
