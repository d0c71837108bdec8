import { isDeepStrictEqual } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  byAccess,
  callerTokens,
  CALLERS,
  MATRIX,
  routeKey,
  type Caller,
  type MatrixRow,
  type Outcome,
  type Sample,
} from '../support/authorization.matrix.js';
import { MANY_CALLS_STACK, seedContract, type ContractIds } from '../support/contract.seed.js';
import { startTestStack, type TestStack } from '../support/stack.js';

/**
 * Issue 15, point 5: the authorization matrix, generated from the route table. Every route the running API
 * declares (`RunningApi.routes`, i.e. `ApiRoutes.table`) × ten callers — anonymous, a staff officer, a staff
 * administrator, an ops engineer, a user of the owning institution, of another university, of a college of the
 * owner, of a partner enterprise, the assigned expert and an expert not assigned — each a real account with a
 * personal access token on the real stack, seeded by `seedContract`. The expected outcomes are the rows of
 * test/support/authorization.matrix.ts.
 */
let stack: TestStack;
let ids: ContractIds;

beforeAll(async () => {
  // Objections and sign-ins come from one address here, many times; decisions are not crashed after their
  // commit (every other end-to-end file proves the retry), each would cost a retry's wait.
  stack = await startTestStack(MANY_CALLS_STACK);
  ids = await seedContract(stack);
}, 600_000);

afterAll(async () => {
  await stack?.stop();
});

interface Answer {
  status: number;
  code: string | undefined;
  text: string;
}

async function send(method: string, sample: Sample, token: string | undefined): Promise<Answer> {
  const query = sample.query ? `?${new URLSearchParams(sample.query).toString()}` : '';
  const res = await fetch(`${stack.api.url}${sample.path}${query}`, {
    method,
    headers: {
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
      ...(sample.raw
        ? { 'Content-Type': sample.raw.contentType }
        : sample.body !== undefined
          ? { 'Content-Type': 'application/json' }
          : {}),
    },
    ...(sample.raw
      ? { body: sample.raw.data }
      : sample.body !== undefined
        ? { body: JSON.stringify(sample.body) }
        : {}),
  });
  const text = await res.text();
  let code: string | undefined;
  if (res.headers.get('content-type')?.includes('problem+json')) code = (JSON.parse(text) as { code?: string }).code;
  return { status: res.status, code, text };
}

/**
 * Whether `answer` is `expected`: see `Outcome`. An allowed caller's answer is not VALIDATION_FAILED either: the
 * sample must be valid, or a denial behind the validation would go unseen.
 */
function matches(expected: Outcome, answer: Answer): boolean {
  if (expected === 'allow') {
    return ![401, 403, 404].includes(answer.status) && answer.status < 500 && answer.code !== 'VALIDATION_FAILED';
  }
  return expected === `${answer.status} ${answer.code}`;
}

describe('the authorization matrix (issue 15, point 5)', () => {
  it('has a row for every route of the table, and a route for every row', () => {
    const routes = new Set(stack.api.routes.map(routeKey));
    const rows = MATRIX.map((r) => r.key);
    const duplicated = rows.filter((k, i) => rows.indexOf(k) !== i);
    expect(duplicated, 'rows listed twice').toEqual([]);
    expect(
      [...routes].filter((k) => !rows.includes(k)),
      'routes without a row in test/support/authorization.matrix.ts',
    ).toEqual([]);
    expect(
      rows.filter((k) => !routes.has(k)),
      'rows without a route',
    ).toEqual([]);
    // Each route's access as declared in the code is the one its row was reviewed for.
    const declared = new Map(stack.api.routes.map((r) => [routeKey(r), r.access]));
    const changed = MATRIX.filter((r) => declared.has(r.key) && !isDeepStrictEqual(declared.get(r.key), r.access)).map(
      (r) => `${r.key}: the row says ${JSON.stringify(r.access)}, the route ${JSON.stringify(declared.get(r.key))}`,
    );
    expect(changed, 'routes whose access differs from their row').toEqual([]);
  });

  it('answers every route × caller as the matrix expects', async () => {
    const tokens = callerTokens(ids);
    const routes = new Set(stack.api.routes.map(routeKey));
    const mismatches: string[] = [];
    const todo: string[] = [];
    let cells = 0;
    const check = async (row: MatrixRow, caller: Caller, expected: Outcome) => {
      const [method] = row.key.split(' ');
      const answer = await send(method!, row.sample(ids), tokens[caller]);
      cells += 1;
      let wrong = !matches(expected, answer);
      const hidden = row.hides?.from.includes(caller) ? row.hides.text(ids) : undefined;
      const leaked = !wrong && expected === 'allow' && hidden !== undefined && answer.text.includes(hidden);
      wrong ||= leaked;
      const line =
        `${row.key} as ${caller}: expected ${expected}, got ${answer.status} ${answer.code ?? ''}` +
        (leaked ? ` (shows ${hidden})` : '') +
        (answer.status >= 500 || answer.code === 'VALIDATION_FAILED' ? ` ${answer.text.slice(0, 300)}` : '');
      if (row.todo?.callers.includes(caller)) {
        if (wrong) todo.push(`${line} — to do: ${row.todo.reason}`);
        else mismatches.push(`${row.key} as ${caller}: fixed — remove its todo marker`);
      } else if (wrong) mismatches.push(line);
    };
    for (const row of MATRIX) {
      if (!routes.has(row.key)) continue; // the first test names it
      const expected = { ...byAccess(row.access), ...row.expect };
      if (row.key.startsWith('GET ')) {
        // Reads change nothing: all callers at once.
        await Promise.all(CALLERS.map((caller) => check(row, caller, expected[caller])));
      } else {
        for (const caller of CALLERS) await check(row, caller, expected[caller]);
      }
    }
    // Then the routes asked again on records the writes changed.
    const again = MATRIX.filter((row) => row.again && routes.has(row.key));
    for (const row of again) {
      const { sample, expect: differ } = row.again!;
      const expected = { ...byAccess(row.access), ...differ };
      const asked: MatrixRow = { key: `${row.key} (again)`, access: row.access, sample };
      for (const caller of CALLERS) await check(asked, caller, expected[caller]);
    }
    console.log(
      `authorization matrix: ${MATRIX.length} routes × ${CALLERS.length} callers` +
        ` + ${again.length} asked again × ${CALLERS.length} = ${cells} cells` +
        (todo.length > 0 ? `; to do:\n${todo.join('\n')}` : ''),
    );
    expect(mismatches, `${mismatches.length} cells differ from the matrix`).toEqual([]);
    expect(cells).toBe((stack.api.routes.length + again.length) * CALLERS.length);
  }, 600_000);
});
