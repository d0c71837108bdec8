import {
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineUpdate,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { MemberStatus, RevokeResult } from '../activities/directory.js';
import { shanghaiDayOf, shanghaiInstant, makeDay, yearOf } from '../domain/calendar/days.js';
import { calendarTimeFor, wallTimeFor, type TimeCompression } from '../domain/compressed-time.js';
import { RETRY } from './budget.js';
import { decide, refusal } from './failures.js';
import { InstitutionIdKey, ProgrammeKey, StageKey } from './search-attributes.js';

/**
 * A directory member (名录成员): one long-lived workflow per directory entry, id `member-<entryId>`, created at
 * 认定. It holds the member's status, acts on revocation at once, and continues as new every calendar year so
 * that its history stays small however many years it lives.
 */
export interface MemberInput {
  entryId: string;
  programme: string;
  institutionId: string;
  /** The day it entered the directory. */
  admittedOn: string;
  compression?: TimeCompression | undefined;
  resume?: MemberMemory | undefined;
}

export interface MemberMemory {
  status: MemberStatus;
  /** The calendar year this run covers; the run continues as new when it ends. */
  year: number;
  barEndsOn: string | undefined;
  runs: number;
}

export interface MemberState extends MemberMemory {
  entryId: string;
  programme: string;
  institutionId: string;
  admittedOn: string;
}

export interface RevokeRequest {
  reason: string;
  actor: string;
  requestId?: string | undefined;
}

export const getMemberQuery = defineQuery<MemberState>('getMember');
/** Staff revoke a member for misconduct (fraud, a serious incident): at once, with a reason. */
export const revokeMemberUpdate = defineUpdate<RevokeResult, [RevokeRequest]>('revokeMember');

const acts = proxyActivities<Activities>({ startToCloseTimeout: '1 minute', retry: RETRY });
const decisions = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { ...RETRY, maximumAttempts: 5 },
});

const ENDED: readonly MemberStatus[] = ['removed', 'revoked'];

export async function memberWorkflow(input: MemberInput): Promise<MemberState> {
  const { compression } = input;
  const calendarNow = () => new Date(calendarTimeFor(Date.now(), compression));
  const m: MemberMemory = input.resume ?? {
    status: 'active',
    year: yearOf(shanghaiDayOf(calendarNow())),
    barEndsOn: undefined,
    runs: 0,
  };
  m.runs += 1;
  const workflowId = workflowInfo().workflowId;
  const state = (): MemberState => ({
    ...m,
    entryId: input.entryId,
    programme: input.programme,
    institutionId: input.institutionId,
    admittedOn: input.admittedOn,
  });

  setHandler(getMemberQuery, state);

  const setStatus = async (status: MemberStatus, reason?: string) => {
    m.status = status;
    upsertSearchAttributes({ [StageKey.name]: [`member_${status}`] });
    await acts.recordMemberStatus({
      entryId: input.entryId,
      status,
      reason,
      at: calendarNow().toISOString(),
      workflowId,
    });
  };

  setHandler(
    revokeMemberUpdate,
    async (req) => {
      const result = await decide(() =>
        decisions.revokeMember({ entryId: input.entryId, workflowId, ...req, today: shanghaiDayOf(calendarNow()) }),
      );
      m.status = 'revoked';
      m.barEndsOn = result.barEndsOn;
      upsertSearchAttributes({ [StageKey.name]: ['member_revoked'] });
      return result;
    },
    {
      validator: (_req: RevokeRequest) => {
        if (ENDED.includes(m.status))
          throw refusal('MEMBER_NOT_ACTIVE', m.status === 'revoked' ? '该成员已被撤销认定' : '该成员已移出名录');
      },
    },
  );

  if (m.runs === 1 && !input.resume) {
    upsertSearchAttributes({
      [ProgrammeKey.name]: [input.programme],
      [InstitutionIdKey.name]: [input.institutionId],
      [StageKey.name]: [`member_${m.status}`],
    });
    await setStatus('active');
  }

  // This run covers one calendar year; at its end the member continues as new.
  const yearEnds = wallTimeFor(shanghaiInstant(makeDay(m.year + 1, 1, 1), 0).getTime(), compression);
  await condition(() => ENDED.includes(m.status), Math.max(1, yearEnds - Date.now()));
  if (ENDED.includes(m.status)) return state();
  await condition(allHandlersFinished);
  return continueAsNew<typeof memberWorkflow>({ ...input, resume: { ...m, year: m.year + 1 } });
}
