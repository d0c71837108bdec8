import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Typed search attribute keys, so ops can filter every procedure's workflows in the Temporal UI. */
export const ProgrammeKey = defineSearchAttributeKey('Programme', SearchAttributeType.KEYWORD);
export const RoundYearKey = defineSearchAttributeKey('RoundYear', SearchAttributeType.INT);
export const StageKey = defineSearchAttributeKey('Stage', SearchAttributeType.KEYWORD);
export const InstitutionIdKey = defineSearchAttributeKey('InstitutionId', SearchAttributeType.KEYWORD);

/** What a Temporal server must have registered before our workflows run (dev server, test server, cluster). */
export const customSearchAttributes = [
  { name: ProgrammeKey.name, cliType: 'Keyword' },
  { name: RoundYearKey.name, cliType: 'Int' },
  { name: StageKey.name, cliType: 'Keyword' },
  { name: InstitutionIdKey.name, cliType: 'Keyword' },
] as const;

/** Set by a Schedule on every workflow it starts: the time this action was scheduled for (system attribute). */
export const ScheduledStartTimeKey = defineSearchAttributeKey(
  'TemporalScheduledStartTime',
  SearchAttributeType.DATETIME,
);
