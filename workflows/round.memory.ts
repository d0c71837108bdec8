import type { RoundInput, RoundMemory, RoundState } from './round.messages.js';

/**
 * The round's memory: what a new round starts with, and what the `getRound` query shows of it. The memory is
 * carried from run to run when the round continues as new; the view leaves out the internal cursors.
 */

/** The memory of a round's first run: preparing, nothing sent, nothing received. */
export function freshMemory(): RoundMemory {
  return {
    stage: 'preparing',
    deadline: undefined,
    reminders: [],
    remindersDone: [],
    jobs: [],
    graceSeconds: 600,
    eligibleInstitutions: 0,
    noticesSent: 0,
    remindersSent: 0,
    submissions: 0,
    withdrawals: 0,
    formalCheck: { passed: 0, failed: 0 },
    review: undefined,
    publicity: undefined,
    approved: undefined,
    cancellation: undefined,
    calendarChanged: false,
    runs: 0,
  };
}

/** What `getRound` answers: the memory ops need, with the round's identity, without the internal cursors. */
export function roundState(input: RoundInput, m: RoundMemory): RoundState {
  const { reminders, remindersDone: _done, jobs: _jobs, graceSeconds: _grace, calendarChanged: _changed, ...rest } = m;
  return {
    ...rest,
    roundId: input.roundId,
    programme: input.programme,
    year: input.year,
    opensAt: input.opensAt,
    upcomingReminders: reminders,
    compressed: input.compression !== undefined,
  };
}
