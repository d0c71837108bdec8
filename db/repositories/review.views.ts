import { materialForExperts } from '../../domain/review/material.js';
import type { Db } from '../knex.js';
import type { AssignmentRow } from './review.js';

/**
 * What an assigned expert reads: the item under review, and for an application its submitted version — never
 * the applicant's avoid list (`materialForExperts`, domain/review/material.ts).
 */
export interface AssignmentMaterial {
  title: string;
  institutionName: string;
  /**
   * The submitted application version, or the evaluation or rectification report's content, without the
   * applicant's avoid list (`avoidExperts`).
   */
  content: unknown;
  /** The application's current submitted version; undefined when the item is not an application. */
  applicationVersion: number | undefined;
}

/**
 * The material of assignment `a`'s item (view `review_item_sources`), as the expert reads it: the avoid list
 * stripped whoever asks (staff read it on the application itself, GET /api/applications/:id).
 */
export async function assignmentMaterial(
  db: Db,
  a: Pick<AssignmentRow, 'itemKind' | 'itemId'>,
): Promise<AssignmentMaterial> {
  const item = await db('review_item_sources')
    .where({ item_kind: a.itemKind, item_id: a.itemId })
    .first<{ title_zh: string; institution_name: string; content: unknown }>('title_zh', 'institution_name', 'content');
  const version =
    a.itemKind === 'application'
      ? await db('applications').where({ id: a.itemId }).first<{ current_version: number }>('current_version')
      : undefined;
  return {
    title: item.title_zh,
    institutionName: item.institution_name,
    content: materialForExperts(item.content),
    applicationVersion: version?.current_version,
  };
}
