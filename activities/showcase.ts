import { recordAudit } from '../db/repositories/audit.js';
import { findProgramme } from '../db/repositories/programmes.js';
import { formatShanghai } from '../domain/calendar/index.js';
import { showcaseCall, showcaseReminder, showcaseResult } from '../mail/templates.js';
import type { ActivityDeps } from './deps.js';
import type { Reminder } from './round.js';
import { refuse } from './refusal.js';
import { NOMINATIONS_PER_INSTITUTION } from '../domain/showcase.js';

export interface NominationInput {
  showcaseId: string;
  institutionId: string;
  sourceKind: 'directory_entry' | 'project';
  sourceId: string;
  title: string;
  summary: string;
  receivedAt: string;
  actor: string;
  requestId?: string | undefined;
}

export interface ShowcaseOpened {
  titleZh: string;
  /** 24:00 Asia/Shanghai on the due day, ISO with +08:00. */
  dueAt: string;
  invited: number;
  /** Reminders k working days before the due day at 09:00, to institutions that have nominated nothing. */
  reminders: Reminder[];
}

export function createShowcaseActivities({ db, outbox, calendar }: ActivityDeps) {
  /** Who may nominate: institutions with an active directory entry or a research project not terminated. */
  const eligible = () =>
    db
      .select<{ id: string; name_zh: string; contact_email: string }[]>('i.id', 'i.name_zh', 'i.contact_email')
      .from('institutions as i')
      .where((w) => {
        void w
          .whereExists(db('directory_entries as d').whereRaw('d.institution_id = i.id').where('d.status', 'active'))
          .orWhereExists(db('projects as p').whereRaw('p.institution_id = i.id').whereNot('p.status', 'terminated'));
      })
      .orderBy('i.id');

  return {
    /** Opens the call: nominations due in the programme's working days; every eligible institution told once. */
    async openShowcase(input: { showcaseId: string; workflowId: string; today: string }): Promise<ShowcaseOpened> {
      const showcase = await db('showcases').where({ id: input.showcaseId }).first<
        | {
            title_zh: string;
            nominations_due_at: Date | null;
            nominations_due_day: string | null;
            estimated: boolean | null;
          }
        | undefined
      >('title_zh', 'nominations_due_at', 'nominations_due_day', 'estimated');
      if (!showcase) refuse('SHOWCASE_NOT_FOUND', input.showcaseId);
      const programme = (await findProgramme(db, 'typical_case'))!;
      const { calendar: cal } = await calendar.snapshot();
      let due = showcase.nominations_due_at;
      let dueDay = showcase.nominations_due_day;
      let estimated = showcase.estimated ?? false;
      if (!due || !dueDay) {
        const period = cal.period(input.today, programme.rules.call.workingDays);
        due = period.endsAt;
        dueDay = period.lastDay;
        estimated = period.estimated;
        await db('showcases').where({ id: input.showcaseId }).update({
          status: 'nominations_open',
          nominations_due_day: period.lastDay,
          nominations_due_at: period.endsAt,
          estimated,
        });
      }
      const institutions = await eligible();
      for (const i of institutions) {
        await outbox.deliver({
          idempotencyKey: `${input.workflowId}/showcase_call/${i.id}`,
          workflowId: input.workflowId,
          purpose: 'showcase_call',
          recipient: i.contact_email,
          ...showcaseCall({
            institutionName: i.name_zh,
            showcaseTitle: showcase.title_zh,
            due,
            dueEstimated: estimated,
          }),
        });
      }
      const reminders = programme.rules.call.reminderWorkingDaysBefore.map((k) => {
        const r = cal.workingDaysBefore(dueDay, k);
        return { k, day: r.day, at: r.atIso };
      });
      return { titleZh: showcase.title_zh, dueAt: formatShanghai(due), invited: institutions.length, reminders };
    },

    /** A reminder k working days before the due day, to the eligible institutions that have nominated nothing. */
    async sendShowcaseReminder(input: { showcaseId: string; workflowId: string; reminder: Reminder }): Promise<number> {
      const showcase = await db('showcases')
        .where({ id: input.showcaseId })
        .first<{ title_zh: string; nominations_due_at: Date; estimated: boolean | null }>(
          'title_zh',
          'nominations_due_at',
          'estimated',
        );
      const silent = await eligible();
      const nominated = new Set(
        (await db('showcase_cases').where({ showcase_id: input.showcaseId }).pluck('institution_id')) as string[],
      );
      const owed = silent.filter((i) => !nominated.has(i.id));
      for (const i of owed) {
        await outbox.deliver({
          idempotencyKey: `${input.workflowId}/showcase_reminder/${input.reminder.k}/${i.id}`,
          workflowId: input.workflowId,
          purpose: 'showcase_reminder',
          recipient: i.contact_email,
          dueAt: new Date(input.reminder.at),
          ...showcaseReminder({
            institutionName: i.name_zh,
            showcaseTitle: showcase.title_zh,
            due: showcase.nominations_due_at,
            dueEstimated: showcase.estimated ?? false,
            workingDaysLeft: input.reminder.k,
          }),
        });
      }
      return owed.length;
    },

    /**
     * A nomination the workflow accepted in time: the source must be the institution's own (an active
     * directory entry or a project not terminated), and an institution nominates at most two cases a year.
     */
    async recordNomination(input: NominationInput): Promise<{ caseId: string; nominated: number }> {
      return db.transaction(async (trx) => {
        // One institution's nominations are counted one at a time.
        await trx.raw('select pg_advisory_xact_lock(hashtext(?))', [`${input.showcaseId}/${input.institutionId}`]);
        const source =
          input.sourceKind === 'directory_entry'
            ? await trx('directory_entries')
                .where({ id: input.sourceId, institution_id: input.institutionId, status: 'active' })
                .first<{ programme: string; field_key: string | null } | undefined>('programme', 'field_key')
            : await trx('projects')
                .where({ id: input.sourceId, institution_id: input.institutionId })
                .whereNot('status', 'terminated')
                .first<{ programme: string; field_key: string | null } | undefined>('programme', 'field_key');
        if (!source) {
          refuse(
            'SOURCE_NOT_ELIGIBLE',
            input.sourceKind === 'directory_entry'
              ? '只能推荐本单位在录的名录成员'
              : '只能推荐本单位承担的、未撤项的研究项目',
          );
        }
        const existing = await trx('showcase_cases')
          .where({ showcase_id: input.showcaseId, institution_id: input.institutionId })
          .select<{ id: string; source_kind: string; source_id: string }[]>('id', 'source_kind', 'source_id');
        const same = existing.find((c) => c.source_kind === input.sourceKind && c.source_id === input.sourceId);
        if (same) refuse('SOURCE_NOT_ELIGIBLE', '该成果已被推荐');
        if (existing.length >= NOMINATIONS_PER_INSTITUTION) {
          refuse(
            'NOMINATION_LIMIT',
            `贵单位本年度已推荐 ${existing.length} 个案例，每个单位至多推荐 ${NOMINATIONS_PER_INSTITUTION} 个`,
          );
        }
        const [row] = await trx('showcase_cases')
          .insert({
            showcase_id: input.showcaseId,
            institution_id: input.institutionId,
            source_kind: input.sourceKind,
            source_id: input.sourceId,
            programme: source.programme,
            industry_key: source.field_key,
            title_zh: input.title,
            summary_zh: input.summary,
            status: 'nominated',
            nominated_at: input.receivedAt,
            nominated_by: input.actor,
          })
          .returning<{ id: string }[]>('id');
        await recordAudit(trx, {
          actor: input.actor,
          role: 'applicant',
          action: 'showcase.nominate',
          subjectKind: 'showcase_case',
          subjectId: row!.id,
          details: { showcaseId: input.showcaseId, sourceKind: input.sourceKind, sourceId: input.sourceId },
          requestId: input.requestId,
          workflowId: input.showcaseId,
        });
        return { caseId: row!.id, nominated: existing.length + 1 };
      });
    },

    async closeNominations(input: { showcaseId: string }): Promise<{ nominated: number }> {
      await db('showcases').where({ id: input.showcaseId }).update({ status: 'reviewing' });
      const n = await db('showcase_cases').where({ showcase_id: input.showcaseId }).count<{ n: number }[]>('* as n');
      return { nominated: Number(n[0]!.n) };
    },

    /**
     * After the publicity period: the cases still listed are selected (with their experts' score and rank),
     * the others not; every nominating institution is told; the showcase is published.
     */
    async publishShowcase(input: {
      showcaseId: string;
      workflowId: string;
      at: string;
    }): Promise<{ selected: number }> {
      const showcase = await db('showcases').where({ id: input.showcaseId }).first<{ title_zh: string }>('title_zh');
      await db.transaction(async (trx) => {
        const listed = (await trx('publicity_entries as e')
          .join('publicity_periods as p', 'p.id', 'e.publicity_id')
          .where({ 'p.subject_kind': 'showcase', 'p.subject_id': input.showcaseId, 'e.status': 'listed' })
          .pluck('e.item_id')) as string[];
        const results = await trx('review_results as rr')
          .join('reviews as r', 'r.id', 'rr.review_id')
          .where({ 'r.subject_kind': 'showcase', 'r.subject_id': input.showcaseId, 'rr.item_kind': 'case' })
          .select<{ item_id: string; score: string | null; rank: number }[]>('rr.item_id', 'rr.score', 'rr.rank');
        for (const r of results) {
          await trx('showcase_cases').where({ id: r.item_id }).update({ score: r.score, rank: r.rank });
        }
        await trx('showcase_cases')
          .where({ showcase_id: input.showcaseId, status: 'nominated' })
          .update({ status: trx.raw(`case when id::text = any(?) then 'selected' else 'not_selected' end`, [listed]) });
        const n = await trx('showcases')
          .where({ id: input.showcaseId })
          .whereNot({ status: 'published' })
          .update({ status: 'published', published_at: new Date(input.at) });
        if (n > 0) {
          await recordAudit(trx, {
            actor: 'system:showcase',
            role: 'system',
            action: 'showcase.publish',
            subjectKind: 'showcase',
            subjectId: input.showcaseId,
            details: { selected: listed.length },
            workflowId: input.workflowId,
          });
        }
      });
      const cases = await db('showcase_cases as c')
        .join('institutions as i', 'i.id', 'c.institution_id')
        .where('c.showcase_id', input.showcaseId)
        .orderBy('c.id')
        .select<{ id: string; status: string; title_zh: string; name_zh: string; contact_email: string }[]>(
          'c.id',
          'c.status',
          'c.title_zh',
          'i.name_zh',
          'i.contact_email',
        );
      for (const c of cases) {
        await outbox.deliver({
          idempotencyKey: `${input.workflowId}/showcase_result/${c.id}`,
          workflowId: input.workflowId,
          purpose: 'showcase_result',
          recipient: c.contact_email,
          ...showcaseResult({
            institutionName: c.name_zh,
            showcaseTitle: showcase.title_zh,
            caseTitle: c.title_zh,
            selected: c.status === 'selected',
          }),
        });
      }
      return { selected: cases.filter((c) => c.status === 'selected').length };
    },
  };
}
