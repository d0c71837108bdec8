import { defineQuery, proxyActivities, setHandler, sleep, upsertSearchAttributes } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { wallTimeFor, type TimeCompression } from '../domain/compressed-time.js';
import { ProgrammeKey, RoundYearKey, StageKey } from './search-attributes.js';

/** Procedure 1, call for applications: one workflow per programme and year, id `round-<programme>-<year>`. */
export interface RoundInput {
  roundId: string;
  programme: string;
  year: number;
  /** ISO instant the call opens. */
  opensAt: string;
  deadlineDay?: string | undefined;
  launchedBy: string;
  /** Compressed time for demos and end-to-end tests; the API refuses it in production. */
  compression?: TimeCompression | undefined;
}

export type RoundStage = 'preparing' | 'scheduled' | 'call_open' | 'call_closed';

export interface RoundState {
  roundId: string;
  programme: string;
  year: number;
  stage: RoundStage;
  opensAt: string;
  deadlineDay: string | undefined;
  deadlineAt: string | undefined;
  deadlineEstimated: boolean | undefined;
  calendarVersion: number | undefined;
  eligibleInstitutions: number | undefined;
  noticesSent: number;
  compressed: boolean;
}

export interface RoundResult {
  roundId: string;
  stage: RoundStage;
  noticesSent: number;
}

export const getRoundQuery = defineQuery<RoundState>('getRound');

const NOTICE_BATCH = 200;

const { prepareRound, recordRoundStage } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    nonRetryableErrorTypes: ['ROUND_NOT_FOUND', 'PROGRAMME_NOT_FOUND'],
  },
});

const { sendCallNotices } = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '1 minute',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    nonRetryableErrorTypes: ['ROUND_NOT_FOUND'],
  },
});

export async function roundWorkflow(input: RoundInput): Promise<RoundResult> {
  const state: RoundState = {
    roundId: input.roundId,
    programme: input.programme,
    year: input.year,
    stage: 'preparing',
    opensAt: input.opensAt,
    deadlineDay: undefined,
    deadlineAt: undefined,
    deadlineEstimated: undefined,
    calendarVersion: undefined,
    eligibleInstitutions: undefined,
    noticesSent: 0,
    compressed: input.compression !== undefined,
  };
  setHandler(getRoundQuery, () => state);

  const enterStage = async (stage: RoundStage, closed = false) => {
    state.stage = stage;
    upsertSearchAttributes({ [StageKey.name]: [stage] });
    await recordRoundStage({ roundId: input.roundId, stage, at: new Date(Date.now()).toISOString(), closed });
  };

  /** Sleeps until a calendar instant, on the durable clock (compressed when the round says so). */
  const waitUntil = async (calendarIso: string) => {
    const remaining = wallTimeFor(Date.parse(calendarIso), input.compression) - Date.now();
    if (remaining > 0) await sleep(remaining);
  };

  upsertSearchAttributes({
    [ProgrammeKey.name]: [input.programme],
    [RoundYearKey.name]: [input.year],
    [StageKey.name]: [state.stage],
  });

  const prepared = await prepareRound({
    roundId: input.roundId,
    programme: input.programme,
    year: input.year,
    opensAt: input.opensAt,
    deadlineDay: input.deadlineDay,
    launchedBy: input.launchedBy,
  });
  state.deadlineDay = prepared.deadlineDay;
  state.deadlineAt = prepared.deadlineAt;
  state.deadlineEstimated = prepared.deadlineEstimated;
  state.calendarVersion = prepared.calendarVersion;
  state.eligibleInstitutions = prepared.eligibleInstitutions;

  await enterStage('scheduled');
  await waitUntil(input.opensAt);

  await enterStage('call_open');
  let after: string | undefined;
  for (;;) {
    const batch = await sendCallNotices({ roundId: input.roundId, after, batchSize: NOTICE_BATCH });
    state.noticesSent += batch.sent + batch.alreadySent;
    after = batch.last;
    if (batch.done) break;
  }

  await waitUntil(prepared.deadlineAt);
  await enterStage('call_closed', true);
  return { roundId: input.roundId, stage: state.stage, noticesSent: state.noticesSent };
}
