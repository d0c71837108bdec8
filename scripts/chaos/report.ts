import type { RoundTally } from './round.js';

/** One row of the comparison: the clean run's value, the chaos run's, and whether the row holds. */
export interface ComparisonRow {
  what: string;
  clean: string;
  chaos: string;
  ok: boolean;
}

export interface Comparison {
  rows: ComparisonRow[];
  faults: string[];
  ok: boolean;
}

/**
 * The verdict on a chaos run against the clean run of the same seed: submissions, scores, objections and the
 * approved list equal; in the chaos run no round, review or publicity workflow still open, no email owed, none
 * delivered under two Message-IDs, no 500; resends under one Message-ID are counted, not failed.
 */
export function compareRuns(clean: RoundTally, chaos: RoundTally): Comparison {
  const same = (what: string, a: unknown, b: unknown, show: (v: never) => string = String) => ({
    what,
    clean: show(a as never),
    chaos: show(b as never),
    ok: JSON.stringify(a) === JSON.stringify(b),
  });
  const zero = (what: string, a: number, b: number) => ({
    what,
    clean: String(a),
    chaos: String(b),
    ok: a === 0 && b === 0,
  });
  const rows: ComparisonRow[] = [
    same('submissions', clean.submissions, chaos.submissions),
    same(
      'score sheets (count, digest)',
      clean.scores,
      chaos.scores,
      (s: RoundTally['scores']) => `${s.sheets}, ${s.digest}`,
    ),
    same(
      'objections (filed, upheld, dismissed)',
      clean.objections,
      chaos.objections,
      (o: RoundTally['objections']) => `${o.filed}, ${o.upheld}, ${o.dismissed}`,
    ),
    same('approved at 认定 (count; list compared)', clean.approved, chaos.approved, (l: string[]) => String(l.length)),
    zero('workflows open past their end', clean.openPastEnd, chaos.openPastEnd),
    zero('outbox rows pending', clean.outbox.pending, chaos.outbox.pending),
    zero('outbox rows failed', clean.outbox.failed, chaos.outbox.failed),
    zero('receipts unanswered', clean.receipts.pending, chaos.receipts.pending),
    zero('receipts failed', clean.receipts.failed, chaos.receipts.failed),
    zero('duplicate emails (one key, two Message-IDs)', clean.duplicates, chaos.duplicates),
    {
      what: 'resends under the same Message-ID',
      clean: String(clean.resends),
      chaos: String(chaos.resends),
      ok: true,
    },
    zero('500 answers', clean.serverErrors, chaos.serverErrors),
    { what: 'wall time (s)', clean: String(clean.wallSeconds), chaos: String(chaos.wallSeconds), ok: true },
  ];
  return { rows, faults: chaos.faults, ok: rows.every((r) => r.ok) };
}

/** The comparison as a Markdown table, with the faults injected and the verdict. */
export function formatComparison(c: Comparison, run: { applications: number; seed: number }): string {
  return [
    `chaos run: ${run.applications} applications, seed ${run.seed}`,
    '',
    '| | clean | chaos | |',
    '| --- | ---: | ---: | --- |',
    ...c.rows.map((r) => `| ${r.what} | ${r.clean} | ${r.chaos} | ${r.ok ? 'ok' : 'DIFFERS'} |`),
    '',
    'faults injected:',
    ...c.faults.map((f) => `- ${f}`),
    '',
    c.ok ? 'ok: the chaos run ended as the clean run did' : 'FAIL: the chaos run differs from the clean run',
  ].join('\n');
}
