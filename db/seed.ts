import type { Db } from './knex.js';
import { programmeCatalogue } from '../domain/programmes.js';
import {
  collegeEmail,
  collegeId,
  enterprises,
  experts,
  industries,
  universities,
  universityEmail,
} from './seeds/reference-data.js';
import { bundledCalendarDays, CHINESE_DAYS_SOURCE } from './seeds/bundled-calendar.js';
import { insertCalendarVersion } from './repositories/calendar.js';
import { recordFirstVersions } from './repositories/reference-versions.js';
import { isSingleMailbox } from '../mail/address.js';
import { applyReferenceRows, REFERENCE_LISTS, type ReferenceActor } from './repositories/reference-lists.js';
import type { ReferenceListName } from './repositories/reference-rows.js';
import type { SheetRow } from '../domain/sheets.js';

export interface SeedSummary {
  programmes: number;
  institutions: number;
  enterprises: number;
  experts: number;
  calendarYears: number;
}

/**
 * Inserts the reference data that is missing and leaves existing rows alone: staff may have tuned a
 * programme's rules or entered an official calendar, and a restart must never undo that.
 */
export async function seed(db: Db): Promise<SeedSummary> {
  assertSeededAddresses();
  return db.transaction(async (trx) => {
    await trx('industries')
      .insert(industries.map((i) => ({ key: i.key, name_zh: i.nameZh })))
      .onConflict('key')
      .ignore();
    await trx('programmes')
      .insert(
        programmeCatalogue.map((p) => ({
          key: p.key,
          name_zh: p.nameZh,
          track: p.track,
          enters_directory: p.entersDirectory,
          quota_note: p.quotaNote,
          rules: JSON.stringify(p.rules),
        })),
      )
      .onConflict('key')
      .ignore();
    // Institutions, enterprises, partnerships and the expert pool load through the import's path (issue 16, point 4): the same
    // checks, each new record its version 1 (source seed); a record that exists or ever existed is left alone.
    for (const [list, rows] of referenceSeedRows()) {
      const outcome = await applyReferenceRows(trx, REFERENCE_LISTS[list], rows, SEED_ACTOR, {
        dryRun: false,
        mode: 'onlyMissing',
      });
      if (outcome.status === 'rejected') {
        throw new Error(
          `seed ${list} rejected: ${outcome.problems.map((p) => `row ${p.row} ${p.column}: ${p.message}`).join('; ')}`,
        );
      }
    }
    // What the seed inserted is each row's version 1 (issue 16): later changes are versions 2, 3, ….
    await recordFirstVersions(trx, { reason: '演示数据（种子）', actor: 'system:seed', source: 'seed' });
    const calendarYears = await seedCalendar(trx);
    const count = async (table: string) =>
      Number((await trx(table).count<{ count: number }[]>('* as count'))[0]!.count);
    return {
      programmes: await count('programmes'),
      institutions: await count('institutions'),
      enterprises: await count('enterprises'),
      experts: await count('experts'),
      calendarYears,
    };
  });
}

const SEED_ACTOR: ReferenceActor = { actor: 'system:seed', role: 'system', source: 'seed', reason: '演示数据（种子）' };

/** The demo institutions, enterprises, partnerships and experts as rows of their import sheets, in that order. */
export function referenceSeedRows(): [ReferenceListName, SheetRow<string>[]][] {
  const numbered = (cells: Record<string, string>[]) => cells.map((c, i) => ({ row: i + 2, cells: c }));
  return [
    [
      'institutions',
      numbered(
        universities.flatMap((u) => [
          {
            id: u.id,
            nameZh: u.nameZh,
            city: u.city,
            contactName: `${u.nameZh}教务处`,
            contactEmail: universityEmail(u.id),
          },
          ...u.colleges.map(([suffix, name]) => ({
            id: collegeId(u.id, suffix),
            nameZh: `${u.nameZh}${name}`,
            parentId: u.id,
            city: u.city,
            contactName: `${name}办公室`,
            contactEmail: collegeEmail(u.id, suffix),
          })),
        ]),
      ),
    ],
    [
      'enterprises',
      numbered(enterprises.map((e) => ({ id: e.id, nameZh: e.nameZh, industry: e.industry, city: e.city }))),
    ],
    [
      'partnerships',
      numbered(universities.flatMap((u) => u.partners.map((p) => ({ institutionId: u.id, enterpriseId: p })))),
    ],
    [
      'experts',
      numbered(
        experts.map((e) => ({
          id: e.id,
          nameZh: e.nameZh,
          titleZh: e.titleZh,
          ...(e.institutionId ? { institutionId: e.institutionId } : {}),
          ...(e.enterpriseId ? { enterpriseId: e.enterpriseId } : {}),
          email: e.email,
          fields: e.fields.join('、'),
        })),
      ),
    ],
  ];
}

/**
 * Every contact and expert address the seeds write is a single plain mailbox, as every intake requires.
 *
 * @throws Error naming the first address that is not.
 */
function assertSeededAddresses(): void {
  const addresses = [
    ...universities.flatMap((u) => [
      universityEmail(u.id),
      ...u.colleges.map(([suffix]) => collegeEmail(u.id, suffix)),
    ]),
    ...experts.map((e) => e.email),
  ];
  const bad = addresses.find((a) => !isSingleMailbox(a));
  if (bad !== undefined) throw new Error(`seed address is not a single plain mailbox: ${JSON.stringify(bad)}`);
}

/** Seeds each year chinese-days knows as one calendar version, once. Returns the years now known. */
async function seedCalendar(trx: Db): Promise<number> {
  const byYear = bundledCalendarDays();
  const seeded = new Set(
    (await trx('calendar_versions').where({ source: CHINESE_DAYS_SOURCE }).select('year')).map(
      (r: { year: number }) => r.year,
    ),
  );
  const years = [...byYear.keys()].sort((a, b) => a - b);
  for (const year of years) {
    if (seeded.has(year)) continue;
    // A year staff already entered officially stays as they entered it.
    const official: unknown = await trx('calendar_versions')
      .where({ year })
      .whereNot({ source: CHINESE_DAYS_SOURCE })
      .first();
    if (official) continue;
    await insertCalendarVersion(
      trx,
      {
        year,
        source: CHINESE_DAYS_SOURCE,
        reference: '国务院办公厅节假日安排通知（chinese-days 收录）',
        enteredBy: 'system',
      },
      byYear.get(year)!,
    );
  }
  return years.length;
}
