import { describe, expect, it } from 'vitest';
import { createApp } from '../../api/app.js';
import { loadConfig } from '../../platform/config.js';
import { createLogger } from '../../platform/logger.js';

/**
 * Issue 14, point 4: the OpenAPI document says what validation enforces. Each case is a request schemathesis
 * generated from the document of the base commit (78a4967) that the API refused with 422; the document must now
 * refuse it too. test/e2e/api.contract.test.ts runs schemathesis itself against the running API.
 */

interface Schema {
  type?: string;
  format?: string;
  pattern?: string;
  required?: string[];
  properties?: Record<string, Schema>;
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  enum?: unknown[];
  $ref?: string;
  uniqueItems?: boolean;
  maxProperties?: number;
  maximum?: number;
  additionalProperties?: boolean | Schema;
}

const { openapi } = createApp({
  config: loadConfig({ NODE_ENV: 'test' }),
  // The document is built from the routes alone: nothing here is called.
  db: {} as never,
  temporal: {} as never,
  attachments: {} as never,
  logger: createLogger({ level: 'silent' }),
});
const document = openapi as unknown as {
  paths: Record<
    string,
    Record<
      string,
      {
        requestBody?: { required?: boolean; content: Record<string, { schema: Schema }> };
        parameters?: { name: string; schema: Schema }[];
        responses: Record<string, { content?: Record<string, unknown> }>;
        'x-roles'?: unknown;
      }
    >
  >;
  components: { schemas: Record<string, Schema> };
};

function resolve(schema: Schema): Schema {
  return schema.$ref ? resolve(document.components.schemas[schema.$ref.split('/').pop()!]!) : schema;
}

function body(method: string, path: string): Schema {
  return resolve(document.paths[path]![method]!.requestBody!.content['application/json']!.schema);
}

/**
 * Whether `value` satisfies `schema` for the keywords these documents use (type object/array/string, required,
 * properties, additionalProperties: false, items, uniqueItems, pattern, anyOf/oneOf, enum): enough to replay the examples below, no more.
 */
function accepts(schema: Schema, value: unknown): boolean {
  const s = resolve(schema);
  const branches = s.anyOf ?? s.oneOf;
  if (branches) return branches.some((b) => accepts(b, value));
  if (s.enum && !s.enum.includes(value)) return false;
  if (typeof value === 'string') {
    if (s.type && s.type !== 'string') return false;
    return s.pattern === undefined || new RegExp(s.pattern, 'u').test(value);
  }
  if (Array.isArray(value)) {
    if (s.uniqueItems && new Set(value).size !== value.length) return false;
    return value.every((v) => !s.items || accepts(s.items, v));
  }
  if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>;
    if ((s.required ?? []).some((key) => !(key in record))) return false;
    if (s.additionalProperties === false && Object.keys(record).some((k) => !s.properties?.[k])) return false;
    return Object.entries(record).every(([k, v]) => !s.properties?.[k] || accepts(s.properties[k], v));
  }
  return true;
}

describe('the OpenAPI document refuses what the API refuses (issue 14, point 4)', () => {
  it('PUT /api/rounds/{roundId}/deadline: a deadline is a day (YYYY-MM-DD), not a timestamp', () => {
    const schema = body('put', '/api/rounds/{roundId}/deadline');
    expect(accepts(schema, { deadline: '2027-03-30T00:00:00+08:00', reason: '延期' })).toBe(false);
    expect(accepts(schema, { deadline: '2027-02-29', reason: '延期' })).toBe(false);
    expect(accepts(schema, { deadline: '2027-04-09', reason: '延期' })).toBe(true);
    expect(schema.properties!.deadline!.format).toBe('date');
  });

  it('PUT /api/calendar/years/{year}: days of the years the calendar computes (1901–2099), each a real day', () => {
    const schema = body('put', '/api/calendar/years/{year}');
    const arrangement = (date: string) => ({ holidays: [{ date, name: '国庆节' }], workdays: [] });
    expect(accepts(schema, arrangement('0192-03-30'))).toBe(false);
    expect(accepts(schema, arrangement('2100-10-01'))).toBe(false);
    expect(accepts(schema, arrangement('2027-10-01'))).toBe(true);
    expect(accepts(schema, arrangement('2028-02-29'))).toBe(true);
    // A name of blanks is refused once trimmed.
    expect(accepts(schema, { holidays: [{ date: '2027-10-01', name: '  ' }], workdays: [] })).toBe(false);
  });

  it('POST /api/events: the title counts once trimmed, and presenters are distinct', () => {
    const schema = body('post', '/api/events');
    const event = {
      kind: 'roadshow',
      title: '2027年产教融合典型案例路演',
      startsAt: '2027-06-20T09:30:00+08:00',
      place: '郑州国际会展中心 2 号馆',
      presenters: ['henu'],
    };
    expect(accepts(schema, event)).toBe(true);
    expect(accepts(schema, { ...event, title: '  路演  ' })).toBe(false);
    expect(accepts(schema, { ...event, presenters: ['henu', 'henu'] })).toBe(false);
  });

  it('PUT /api/events/{eventId}: a change gives a new time or place, or cancels — a reason alone is no change', () => {
    const schema = body('put', '/api/events/{eventId}');
    expect(accepts(schema, { reason: '00' })).toBe(false);
    expect(accepts(schema, { cancel: true, startsAt: '2027-06-21T09:30:00+08:00', reason: '场馆检修' })).toBe(false);
    expect(accepts(schema, { startsAt: '2027-06-21T09:30:00+08:00', reason: '场馆检修' })).toBe(true);
    expect(accepts(schema, { place: '河南省人民会堂', reason: '场馆检修' })).toBe(true);
    expect(accepts(schema, { cancel: true, reason: '场馆检修' })).toBe(true);
  });

  it('POST /api/publicity/{publicityId}/objections: real name, phone, email and facts of 10 characters are required', () => {
    const operation = document.paths['/api/publicity/{publicityId}/objections']!.post!;
    expect(operation.requestBody!.required).toBe(true);
    const schema = body('post', '/api/publicity/{publicityId}/objections');
    const objection = {
      name: '陈立',
      unit: '某研究所',
      phone: '0371-88886666',
      email: 'chen.li@objector.example',
      facts: '该项目的合作企业实践岗位数量与实际不符，请核查。',
    };
    expect(accepts(schema, objection)).toBe(true);
    expect(accepts(schema, { facts: '匿名反映：材料有问题。' })).toBe(false);
    expect(accepts(schema, { ...objection, facts: '太短了' })).toBe(false);
    expect(accepts(schema, { ...objection, phone: 'call me' })).toBe(false);
  });

  it('every operation says which roles may call it (x-roles), for clients and the contract run to select by', () => {
    for (const operations of Object.values(document.paths)) {
      for (const operation of Object.values(operations)) {
        expect(operation['x-roles']).toEqual({
          staff: expect.any(Boolean),
          applicant: expect.any(Boolean),
          expert: expect.any(Boolean),
          enterprise: expect.any(Boolean),
          ops: expect.any(Boolean),
          administrator: expect.any(Boolean),
        });
      }
    }
    const roles = (path: string, method: 'get' | 'post' | 'delete') => document.paths[path]![method]!['x-roles'];
    // A staff route: an administrator is staff too.
    expect(roles('/api/events', 'post')).toEqual({
      staff: true,
      applicant: false,
      expert: false,
      enterprise: false,
      ops: false,
      administrator: true,
    });
    // An operational route: ops too (resending a failed email), but no programme decision (above).
    expect(roles('/api/outbox/{id}/resend', 'post')).toEqual({
      staff: true,
      applicant: false,
      expert: false,
      enterprise: false,
      ops: true,
      administrator: true,
    });
    // An administrator-only route: an officer is refused.
    expect(roles('/api/accounts', 'post')).toEqual({
      staff: false,
      applicant: false,
      expert: false,
      enterprise: false,
      ops: false,
      administrator: true,
    });
    // Any account's own tokens.
    expect(Object.values(roles('/api/access-tokens', 'post') as Record<string, boolean>).every(Boolean)).toBe(true);
  });

  it('exports are documented with their media types (CSV, XLSX)', () => {
    const content = document.paths['/api/showcases/{showcaseId}/cases']!.get!.responses['200']!.content!;
    expect(Object.keys(content).sort()).toEqual([
      'application/json',
      'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      'text/csv',
    ]);
  });

  it('schedules name only days every year has, month by month', () => {
    const schema = body('post', '/api/schedules');
    const schedule = (month: number, day: number) => ({ kind: 'round', programme: 'brand_project', month, day });
    expect(accepts(schema, schedule(2, 28))).toBe(true);
    const days = (month: number) =>
      resolve(schema).oneOf!.find((b) => b.properties!.month!.enum![0] === month)!.properties!.day!.maximum;
    expect([days(1), days(2), days(4), days(12)]).toEqual([31, 28, 30, 31]);
  });
});
