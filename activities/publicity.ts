import type { Knex } from 'knex';
import type { Db } from '../db/knex.js';
import { recordAudit } from '../db/repositories/audit.js';
import { roundContext } from '../db/repositories/round.rules.js';
import { shanghaiDayOf, shanghaiInstant, formatShanghai, addDays } from '../domain/calendar/index.js';
import { gradeZh, type EvaluationGrade } from '../domain/programmes.js';
import { findProgramme } from '../db/repositories/programmes.js';
import { approvalNotice, entryRemoved, objectionResolved, objectionsPending } from '../mail/templates.js';
import type { ActivityDeps } from './deps.js';
import { refuse } from './refusal.js';

/**
 * What a publicity period publishes: a round's list to be approved (拟认定名单), a year's evaluation results
 * (objections are appeals), or a member's removal from the directory (appeals on procedural grounds only).
 */
export type PublicitySubjectKind = 'round' | 'evaluation' | 'removal' | 'showcase';

export interface OpenPublicityInput {
  workflowId: string;
  subjectKind: PublicitySubjectKind;
  /** The round id, the evaluation id, or the rectification id whose failure leads to the removal. */
  subjectId: string;
  /** The period this one re-publicises the changes of (递补, a corrected grade); none for the first. */
  parentId?: string | undefined;
  /** For a re-publicity: the items changed (applications substituted in, reports regraded). */
  itemIds?: string[] | undefined;
  /** Today on the workflow's clock: the list is published today. */
  today: string;
}

export interface PublicityPeriod {
  publicityId: string;
  firstDay: string;
  lastDay: string;
  /** 24:00 Asia/Shanghai on lastDay, ISO with +08:00. */
  endsAt: string;
  estimated: boolean;
  calendarVersion: number;
  entries: number;
}

export interface ObjectionInput {
  publicityId: string;
  entryId?: string | undefined;
  name: string;
  unit: string;
  phone: string;
  email: string;
  onBehalfOfUnit: boolean;
  facts: string;
  evidence: string[];
  /** For an appeal against a removal: only procedural grounds are heard. */
  grounds?: 'substantive' | 'procedural' | undefined;
  receivedAt: string;
  idempotencyKey?: string | undefined;
  clientIp?: string | undefined;
}

export interface ObjectionRecorded {
  objectionId: string;
  receivedAt: string;
  /** True when this idempotency key had been filed already: not counted twice. */
  repeated: boolean;
}

export interface ResolutionInput {
  workflowId: string;
  objectionId: string;
  outcome: 'upheld' | 'dismissed';
  reason: string;
  /** An upheld appeal against an evaluation result: the grade staff now give. */
  grade?: EvaluationGrade | undefined;
  actor: string;
  requestId?: string | undefined;
}

export interface ResolutionResult {
  objectionId: string;
  outcome: 'upheld' | 'dismissed';
  /** The application taken off the list, and the one substituted for it (递补), if any. */
  removedApplicationId: string | undefined;
  substituteApplicationId: string | undefined;
  /** An item whose change is publicised again for a full period (a substitute, a regraded report). */
  changedItemId?: string | undefined;
}

/** One row of a published list, before it becomes a `publicity_entries` row. */
interface PublishedRow {
  item_kind: string;
  item_id: string;
  institution_id: string;
  title_zh: string;
  rank: number | null;
  result_zh: string | null;
}

/**
 * The reviewed items of a list (query aliased `a`, joined to `review_results rr`), best rank first: the named
 * items (a re-publicity of changes), else those the first period lists.
 */
function ranked(
  db: Db,
  query: Knex.QueryBuilder,
  itemKind: 'application' | 'case',
  itemIds: string[] | undefined,
  firstPeriod: (q: Knex.QueryBuilder) => Knex.QueryBuilder,
): Promise<PublishedRow[]> {
  return (itemIds ? query.whereIn('a.id', itemIds) : firstPeriod(query))
    .orderBy([{ column: 'rr.rank' }, { column: 'a.id' }])
    .select<PublishedRow[]>(
      db.raw(`'${itemKind}' as item_kind`),
      db.raw('a.id::text as item_id'),
      'a.institution_id',
      'a.title_zh',
      'rr.rank',
      db.raw('null as result_zh'),
    );
}

export function createPublicityActivities({ db, outbox, calendar, staffEmail }: ActivityDeps) {
  /** The title, length and entries of what a period publishes. */
  const subjectOf = async (trx: Db, kind: PublicitySubjectKind, subjectId: string, parentId: string | undefined) => {
    const again = parentId ? '（变更部分）' : '';
    if (kind === 'round') {
      const ctx = await roundContext(trx, subjectId);
      if (!ctx) refuse('ROUND_NOT_FOUND', subjectId);
      const round = await trx('rounds').where({ id: subjectId }).first<{ title_zh: string }>('title_zh');
      return {
        titleZh: `${round.title_zh}拟认定名单${parentId ? '（递补）' : ''}公示`,
        workingDays: ctx.rules.publicity.workingDays,
        entries: (itemIds: string[] | undefined): Promise<PublishedRow[]> =>
          ranked(
            trx,
            trx('applications as a')
              .joinRaw('left join review_results rr on rr.item_id = a.id::text')
              .where('a.round_id', subjectId),
            'application',
            itemIds,
            (q) => q.where('a.status', 'shortlisted'),
          ),
      };
    }
    if (kind === 'showcase') {
      const showcase = await trx('showcases')
        .where({ id: subjectId })
        .first<{ title_zh: string } | undefined>('title_zh');
      if (!showcase) refuse('SHOWCASE_NOT_FOUND', subjectId);
      const programme = (await findProgramme(trx, 'typical_case'))!;
      return {
        titleZh: `${showcase.title_zh}拟入选案例公示`,
        workingDays: programme.rules.publicity.workingDays,
        // The cases the experts recommended, best first.
        entries: (itemIds: string[] | undefined): Promise<PublishedRow[]> =>
          ranked(
            trx,
            trx('showcase_cases as a')
              .join('review_results as rr', (j) => {
                j.on('rr.item_id', '=', trx.raw('a.id::text')).andOnVal('rr.item_kind', 'case');
              })
              .where('a.showcase_id', subjectId),
            'case',
            itemIds,
            (q) => q.where({ 'rr.recommended': true, 'a.status': 'nominated' }),
          ),
      };
    }
    if (kind === 'evaluation') {
      const evaluation = await trx('evaluations')
        .where({ id: subjectId })
        .first<{ title_zh: string; programme: string } | undefined>('title_zh', 'programme');
      if (!evaluation) refuse('EVALUATION_NOT_FOUND', subjectId);
      const programme = (await findProgramme(trx, evaluation.programme))!;
      return {
        titleZh: `${evaluation.title_zh}结果${again}公示`,
        workingDays: programme.rules.publicity.workingDays,
        entries: async (itemIds: string[] | undefined): Promise<PublishedRow[]> => {
          const rows = await trx('evaluation_reports as r')
            .join('directory_entries as d', 'd.id', 'r.directory_entry_id')
            .where('r.evaluation_id', subjectId)
            .whereNotNull('r.grade')
            .modify((q) => {
              if (itemIds) void q.whereIn('r.id', itemIds);
            })
            .orderBy([{ column: 'd.institution_id' }, { column: 'r.id' }])
            .select<
              {
                id: string;
                institution_id: string;
                title_zh: string;
                grade: EvaluationGrade;
                score: string | null;
                status: string;
              }[]
            >('r.id', 'd.institution_id', 'd.title_zh', 'r.grade', 'r.score', 'r.status');
          return rows.map((r) => ({
            item_kind: 'evaluation_report',
            item_id: r.id,
            institution_id: r.institution_id,
            title_zh: r.title_zh,
            rank: null,
            result_zh:
              r.status === 'missing'
                ? `${gradeZh[r.grade]}（未按期提交自评报告）`
                : `${gradeZh[r.grade]}${r.score === null ? '' : `（${Number(Number(r.score).toFixed(2))} 分）`}`,
          }));
        },
      };
    }
    const x = await trx('rectifications as x')
      .join('directory_entries as d', 'd.id', 'x.directory_entry_id')
      .where('x.id', subjectId)
      .first<
        | { directory_entry_id: string; institution_id: string; title_zh: string; programme: string; outcome: string }
        | undefined
      >('x.directory_entry_id', 'd.institution_id', 'd.title_zh', 'd.programme', 'x.outcome');
    if (!x) refuse('REVIEW_NOT_FOUND', subjectId);
    const programme = (await findProgramme(trx, x.programme))!;
    return {
      titleZh: `关于拟将“${x.title_zh}”移出${programme.nameZh}名录的公示`,
      workingDays: programme.rules.publicity.workingDays,
      entries: (_itemIds: string[] | undefined): Promise<PublishedRow[]> =>
        Promise.resolve([
          {
            item_kind: 'directory_entry',
            item_id: x.directory_entry_id,
            institution_id: x.institution_id,
            title_zh: x.title_zh,
            rank: null,
            result_zh: x.outcome === 'no_report' ? '拟移出名录（逾期未提交整改报告）' : '拟移出名录（整改复评不合格）',
          },
        ]),
    };
  };

  return {
    /** Publishes a list for N working days by the SPEC's counting rule; idempotent per workflow and parent. */
    async openPublicity(input: OpenPublicityInput): Promise<PublicityPeriod> {
      const subject = await subjectOf(db, input.subjectKind, input.subjectId, input.parentId);
      const { version, calendar: cal } = await calendar.snapshot();
      const period = cal.period(input.today, subject.workingDays);
      return db.transaction(async (trx) => {
        const existing = await trx('publicity_periods')
          .where({ workflow_id: input.workflowId, parent_id: input.parentId ?? null })
          .first<
            | {
                id: string;
                first_day: string;
                last_day: string;
                ends_at: Date;
                estimated: boolean;
                calendar_version: number;
              }
            | undefined
          >();
        if (existing) {
          const n = await trx('publicity_entries')
            .where({ publicity_id: existing.id })
            .count<{ n: number }[]>('* as n');
          return {
            publicityId: existing.id,
            firstDay: existing.first_day,
            lastDay: existing.last_day,
            endsAt: formatShanghai(existing.ends_at),
            estimated: existing.estimated,
            calendarVersion: existing.calendar_version,
            entries: Number(n[0]!.n),
          };
        }
        const [row] = await trx('publicity_periods')
          .insert({
            subject_kind: input.subjectKind,
            subject_id: input.subjectId,
            parent_id: input.parentId ?? null,
            title_zh: subject.titleZh,
            working_days: subject.workingDays,
            opens_on: input.today,
            first_day: period.firstDay,
            last_day: period.lastDay,
            ends_at: period.endsAt,
            estimated: period.estimated,
            calendar_version: version,
            status: 'open',
            workflow_id: input.workflowId,
          })
          .returning<{ id: string }[]>('id');
        const publicityId = row!.id;
        const apps = await (
          await subjectOf(trx, input.subjectKind, input.subjectId, input.parentId)
        ).entries(input.itemIds);
        if (apps.length > 0) {
          await trx('publicity_entries').insert(
            apps.map((a) => ({
              publicity_id: publicityId,
              item_kind: a.item_kind,
              item_id: a.item_id,
              institution_id: a.institution_id,
              title_zh: a.title_zh,
              rank: a.rank,
              result_zh: a.result_zh,
              status: 'listed',
            })),
          );
          if (input.subjectKind === 'round') {
            await trx('applications')
              .whereIn(
                'id',
                apps.map((a) => a.item_id),
              )
              .update({ status: 'in_publicity', updated_at: trx.fn.now() });
          }
        }
        await recordAudit(trx, {
          actor: 'system:publicity',
          role: 'system',
          action: 'publicity.open',
          subjectKind: 'publicity',
          subjectId: publicityId,
          details: {
            subjectKind: input.subjectKind,
            subjectId: input.subjectId,
            entries: apps.length,
            lastDay: period.lastDay,
            calendarVersion: version,
            parentId: input.parentId ?? null,
          },
          workflowId: input.workflowId,
        });
        return {
          publicityId,
          firstDay: period.firstDay,
          lastDay: period.lastDay,
          endsAt: period.endsAtIso,
          estimated: period.estimated,
          calendarVersion: version,
          entries: apps.length,
        };
      });
    },

    /** Files an objection the workflow accepted on time. A repeated idempotency key returns the first. */
    async recordObjection(input: ObjectionInput): Promise<ObjectionRecorded> {
      if (input.idempotencyKey) {
        const seen = await db('objections')
          .where({ idempotency_key: input.idempotencyKey })
          .first<{ id: string; received_at: Date; publicity_id: string } | undefined>(
            'id',
            'received_at',
            'publicity_id',
          );
        if (seen) return { objectionId: seen.id, receivedAt: seen.received_at.toISOString(), repeated: true };
      }
      if (input.entryId) {
        const entry = await db('publicity_entries')
          .where({ id: input.entryId, publicity_id: input.publicityId })
          .first<{ id: string } | undefined>('id');
        if (!entry) refuse('VALIDATION_FAILED', '异议所涉项目不在本次公示名单中');
      }
      return db.transaction(async (trx) => {
        const [row] = await trx('objections')
          .insert({
            publicity_id: input.publicityId,
            entry_id: input.entryId ?? null,
            objector_name: input.name,
            objector_unit: input.unit,
            objector_phone: input.phone,
            objector_email: input.email,
            on_behalf_of_unit: input.onBehalfOfUnit,
            facts: input.facts,
            evidence: JSON.stringify(input.evidence),
            grounds: input.grounds ?? null,
            received_at: input.receivedAt,
            idempotency_key: input.idempotencyKey ?? null,
            client_ip: input.clientIp ?? null,
            status: 'pending',
          })
          .onConflict('idempotency_key')
          .ignore()
          .returning<{ id: string }[]>('id');
        if (!row) {
          const first = await trx('objections')
            .where({ idempotency_key: input.idempotencyKey })
            .first<{ id: string; received_at: Date }>('id', 'received_at');
          return { objectionId: first.id, receivedAt: first.received_at.toISOString(), repeated: true };
        }
        await recordAudit(trx, {
          actor: `public:${input.name}`,
          role: 'public',
          action: 'objection.file',
          subjectKind: 'objection',
          subjectId: row.id,
          details: {
            publicityId: input.publicityId,
            entryId: input.entryId ?? null,
            unit: input.unit,
            onBehalfOfUnit: input.onBehalfOfUnit,
            receivedAt: input.receivedAt,
          },
        });
        return { objectionId: row.id, receivedAt: input.receivedAt, repeated: false };
      });
    },

    /**
     * Staff's resolution. Upheld against an entry: the entry leaves the list and the next-ranked candidate
     * below the cut line — neither excluded by staff at confirmation nor already removed — is substituted
     * (递补). The objector and the affected applicant are told, in the same transaction.
     */
    async recordResolution(input: ResolutionInput): Promise<ResolutionResult> {
      const result = await db.transaction(async (trx) => {
        const objection = await trx('objections as o')
          .join('publicity_periods as p', 'p.id', 'o.publicity_id')
          .where('o.id', input.objectionId)
          .forUpdate('o')
          .first<
            | {
                id: string;
                status: string;
                entry_id: string | null;
                objector_name: string;
                objector_email: string;
                publicity_id: string;
                subject_kind: PublicitySubjectKind;
                subject_id: string;
                title_zh: string;
              }
            | undefined
          >(
            'o.id',
            'o.status',
            'o.entry_id',
            'o.objector_name',
            'o.objector_email',
            'o.publicity_id',
            'p.subject_kind',
            'p.subject_id',
            'p.title_zh',
          );
        if (!objection) refuse('OBJECTION_NOT_FOUND', input.objectionId);
        if (objection.status !== 'pending')
          refuse('ALREADY_RESOLVED', `该异议已处理（${objection.status === 'upheld' ? '成立' : '不成立'}）`);
        if (objection.subject_kind === 'evaluation' && input.outcome === 'upheld' && objection.entry_id && !input.grade)
          refuse('VALIDATION_FAILED', '申诉成立时须给出更正后的评价等级（grade）');
        await trx('objections').where({ id: objection.id }).update({
          status: input.outcome,
          resolution_reason: input.reason,
          resolved_by: input.actor,
          resolved_at: trx.fn.now(),
        });
        await recordAudit(trx, {
          actor: input.actor,
          role: 'staff',
          action: input.outcome === 'upheld' ? 'objection.uphold' : 'objection.dismiss',
          subjectKind: 'objection',
          subjectId: objection.id,
          reason: input.reason,
          requestId: input.requestId,
          workflowId: input.workflowId,
        });
        const entry = objection.entry_id
          ? await trx('publicity_entries as e')
              .join('institutions as i', 'i.id', 'e.institution_id')
              .where('e.id', objection.entry_id)
              .first<{
                id: string;
                item_id: string;
                status: string;
                title_zh: string;
                name_zh: string;
                contact_email: string;
              }>('e.id', 'e.item_id', 'e.status', 'e.title_zh', 'i.name_zh', 'i.contact_email')
          : undefined;
        await outbox.enqueue(
          {
            idempotencyKey: `${input.workflowId}/objection_resolved/${objection.id}`,
            workflowId: input.workflowId,
            purpose: 'objection_resolved',
            recipient: objection.objector_email,
            ...objectionResolved({
              objectorName: objection.objector_name,
              publicityTitle: objection.title_zh,
              entryTitle: entry?.title_zh ?? null,
              upheld: input.outcome === 'upheld',
              reason: input.reason,
            }),
          },
          trx,
        );
        if (input.outcome !== 'upheld' || !entry || entry.status !== 'listed') {
          return {
            objectionId: objection.id,
            outcome: input.outcome,
            removedApplicationId: undefined,
            substituteApplicationId: undefined,
          };
        }
        await trx('publicity_entries')
          .where({ id: entry.id })
          .update({ status: 'removed', removal_reason: input.reason });
        if (objection.subject_kind === 'evaluation') {
          // The appeal stands: the grade is corrected, and the correction is publicised for a full period.
          const report = await trx('evaluation_reports')
            .where({ id: entry.item_id })
            .first<{ directory_entry_id: string; grade: string | null }>('directory_entry_id', 'grade');
          await trx('evaluation_reports')
            .where({ id: entry.item_id })
            .update({ grade: input.grade, grade_reason: `申诉成立：${input.reason}`, graded_at: trx.fn.now() });
          await recordAudit(trx, {
            actor: input.actor,
            role: 'staff',
            action: 'evaluation.regrade',
            subjectKind: 'directory_entry',
            subjectId: report.directory_entry_id,
            reason: input.reason,
            details: { reportId: entry.item_id, from: report.grade, to: input.grade, objectionId: objection.id },
            requestId: input.requestId,
            workflowId: input.workflowId,
          });
          return {
            objectionId: objection.id,
            outcome: input.outcome,
            removedApplicationId: undefined,
            substituteApplicationId: undefined,
            changedItemId: entry.item_id,
          };
        }
        if (objection.subject_kind === 'showcase' || objection.subject_kind === 'removal') {
          // A showcase case is withdrawn (no substitute: the showcase has no fixed size); a removal appeal on
          // procedural grounds stands (the member workflow withdraws the removal).
          const showcase = objection.subject_kind === 'showcase';
          if (showcase) {
            await trx('showcase_cases').where({ id: entry.item_id }).update({ status: 'objection_upheld' });
          }
          await recordAudit(trx, {
            actor: input.actor,
            role: 'staff',
            action: showcase ? 'showcase.case_withdrawn' : 'directory.removal_appeal_upheld',
            subjectKind: showcase ? 'showcase_case' : 'directory_entry',
            subjectId: entry.item_id,
            reason: input.reason,
            details: { objectionId: objection.id },
            requestId: input.requestId,
            workflowId: input.workflowId,
          });
          return {
            objectionId: objection.id,
            outcome: input.outcome,
            removedApplicationId: undefined,
            substituteApplicationId: undefined,
          };
        }
        await trx('applications')
          .where({ id: entry.item_id })
          .update({ status: 'objection_upheld', updated_at: trx.fn.now() });
        await outbox.enqueue(
          {
            idempotencyKey: `${input.workflowId}/entry_removed/${entry.id}`,
            workflowId: input.workflowId,
            purpose: 'entry_removed',
            recipient: entry.contact_email,
            ...entryRemoved({
              institutionName: entry.name_zh,
              publicityTitle: objection.title_zh,
              entryTitle: entry.title_zh,
              reason: input.reason,
            }),
          },
          trx,
        );
        const substitute = await nextCandidate(trx, objection.subject_id);
        if (substitute) {
          await trx('applications')
            .where({ id: substitute.id })
            .update({ status: 'substitute', updated_at: trx.fn.now() });
          await recordAudit(trx, {
            actor: 'system:publicity',
            role: 'system',
            action: 'publicity.substitute',
            subjectKind: 'application',
            subjectId: substitute.id,
            reason: `递补：“${entry.title_zh}”经异议核查撤出名单`,
            details: { replaces: entry.item_id, rank: substitute.rank, objectionId: objection.id },
            workflowId: input.workflowId,
          });
        }
        return {
          objectionId: objection.id,
          outcome: input.outcome,
          removedApplicationId: entry.item_id,
          substituteApplicationId: substitute?.id,
        };
      });
      await outbox.deliverOwed({ workflowId: input.workflowId, purpose: 'objection_resolved' });
      await outbox.deliverOwed({ workflowId: input.workflowId, purpose: 'entry_removed' });
      return result;
    },

    async pendingObjections(input: { publicityId: string }): Promise<number> {
      const n = await db('objections')
        .where({ publicity_id: input.publicityId, status: 'pending' })
        .count<{ n: number }[]>('* as n');
      return Number(n[0]!.n);
    },

    /** 09:00 on the next working day after `after` (when staff are reminded of pending objections). */
    async nextWorkingMorning(input: { after: string }): Promise<string> {
      const { calendar: cal } = await calendar.snapshot();
      let day = shanghaiDayOf(new Date(input.after));
      if (shanghaiInstant(day, 9).getTime() <= Date.parse(input.after) || !cal.isWorkingDay(day)) {
        do day = addDays(day, 1);
        while (!cal.isWorkingDay(day));
      }
      return formatShanghai(shanghaiInstant(day, 9));
    },

    async remindStaffOfObjections(input: { workflowId: string; publicityId: string; day: string }): Promise<void> {
      const period = await db('publicity_periods')
        .where({ id: input.publicityId })
        .first<{ title_zh: string; ends_at: Date }>('title_zh', 'ends_at');
      const pending = await db('objections')
        .where({ publicity_id: input.publicityId, status: 'pending' })
        .count<{ n: number }[]>('* as n');
      await outbox.deliver({
        idempotencyKey: `${input.workflowId}/objections_pending/${input.publicityId}/${input.day}`,
        workflowId: input.workflowId,
        purpose: 'objections_pending',
        recipient: staffEmail,
        ...objectionsPending({
          publicityTitle: period.title_zh,
          pending: Number(pending[0]!.n),
          endedAt: period.ends_at,
        }),
      });
    },

    async closePublicity(input: { workflowId: string; publicityId: string; at: string }): Promise<void> {
      await db.transaction(async (trx) => {
        const n = await trx('publicity_periods')
          .where({ id: input.publicityId, status: 'open' })
          .update({ status: 'closed', closed_at: new Date(input.at) });
        if (n > 0) {
          await recordAudit(trx, {
            actor: 'system:publicity',
            role: 'system',
            action: 'publicity.close',
            subjectKind: 'publicity',
            subjectId: input.publicityId,
            workflowId: input.workflowId,
          });
        }
      });
    },

    /**
     * 认定: the result becomes final. Every application still listed is approved, its applicant told; for a
     * directory programme each becomes a directory entry.
     */
    async approveRound(input: {
      roundId: string;
      workflowId: string;
      today: string;
      at: string;
    }): Promise<{ approved: number; directoryEntries: number; entries: { entryId: string; institutionId: string }[] }> {
      const ctx = await roundContext(db, input.roundId);
      if (!ctx) refuse('ROUND_NOT_FOUND', input.roundId);
      const result = await db.transaction(async (trx) => {
        const round = await trx('rounds')
          .where({ id: input.roundId })
          .first<{ title_zh: string; status: string }>('title_zh', 'status');
        const listed = await trx('publicity_entries as e')
          .join('publicity_periods as p', 'p.id', 'e.publicity_id')
          .joinRaw('join applications a on a.id::text = e.item_id')
          .join('institutions as i', 'i.id', 'a.institution_id')
          .where({ 'p.subject_kind': 'round', 'p.subject_id': input.roundId, 'e.status': 'listed' })
          .select<
            {
              id: string;
              institution_id: string;
              title_zh: string;
              field_key: string | null;
              name_zh: string;
              contact_email: string;
            }[]
          >('a.id', 'a.institution_id', 'a.title_zh', 'a.field_key', 'i.name_zh', 'i.contact_email');
        if (round.status === 'approved') return { approved: listed.length, directoryEntries: 0, listed };
        if (listed.length > 0) {
          await trx('applications')
            .whereIn(
              'id',
              listed.map((l) => l.id),
            )
            .update({ status: 'approved', updated_at: trx.fn.now() });
        }
        let directoryEntries = 0;
        if (ctx.programme.entersDirectory && listed.length > 0) {
          const rows = await trx('directory_entries')
            .insert(
              listed.map((l) => ({
                programme: ctx.programme.key,
                institution_id: l.institution_id,
                application_id: l.id,
                title_zh: l.title_zh,
                field_key: l.field_key,
                status: 'active',
                admitted_on: input.today,
              })),
            )
            .onConflict('application_id')
            .ignore()
            .returning('id');
          directoryEntries = rows.length;
        }
        for (const l of listed) {
          await outbox.enqueue(
            {
              idempotencyKey: `${input.workflowId}/approval_notice/${l.id}`,
              workflowId: input.workflowId,
              purpose: 'approval_notice',
              recipient: l.contact_email,
              ...approvalNotice({
                institutionName: l.name_zh,
                roundTitle: round.title_zh,
                programmeName: ctx.programme.nameZh,
                entryTitle: l.title_zh,
              }),
            },
            trx,
          );
        }
        await trx('rounds')
          .where({ id: input.roundId })
          .update({ status: 'approved', approved_at: new Date(input.at) });
        await recordAudit(trx, {
          actor: 'system:round',
          role: 'system',
          action: 'round.approve',
          subjectKind: 'round',
          subjectId: input.roundId,
          details: { approved: listed.length, directoryEntries },
          workflowId: input.workflowId,
        });
        return { approved: listed.length, directoryEntries, listed };
      });
      await outbox.deliverOwed({ workflowId: input.workflowId, purpose: 'approval_notice' });
      // The directory entries of this round (new or from an earlier attempt): each gets its member workflow.
      const entries = await db('directory_entries')
        .whereIn(
          'application_id',
          result.listed.map((l) => l.id),
        )
        .orderBy('id')
        .select<{ id: string; institution_id: string }[]>('id', 'institution_id');
      return {
        approved: result.approved,
        directoryEntries: result.directoryEntries,
        entries: entries.map((e) => ({ entryId: e.id, institutionId: e.institution_id })),
      };
    },
  };
}

/** The best-ranked application below the cut line that may still be substituted in (递补). */
async function nextCandidate(
  trx: Knex.Transaction,
  roundId: string,
): Promise<{ id: string; rank: number } | undefined> {
  const review = await trx('reviews')
    .where({ subject_kind: 'round', subject_id: roundId })
    .first<{ id: string } | undefined>('id');
  if (!review) return undefined;
  return (
    trx('review_results as rr')
      .joinRaw('join applications a on a.id::text = rr.item_id')
      .where('rr.review_id', review.id)
      .where('a.status', 'not_shortlisted')
      // Excluded by staff at confirmation, with a reason: not a candidate.
      .whereNull('rr.adjustment_reason')
      .whereNot((q) => void q.whereRaw("'under_reviewed' = any(rr.flags)"))
      .orderBy('rr.rank')
      .first<{ id: string; rank: number } | undefined>('a.id', 'rr.rank')
  );
}
