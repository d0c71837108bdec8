import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { AppError, errorHandler, fromTemporalError, problemFor, RETRY_AFTER_SECONDS } from '../../api/errors.js';
import { createLogger } from '../../platform/logger.js';
import { errorCatalogue } from '../../domain/errors.js';

describe('error catalogue and Temporal error mapping', () => {
  it('gives every code a zh-CN title and an HTTP error status', () => {
    for (const [code, entry] of Object.entries(errorCatalogue)) {
      expect(entry.title, code).toMatch(/[\u4e00-\u9fff]/);
      expect(entry.status, code).toBeGreaterThanOrEqual(400);
    }
  });

  it('when an Update is refused by its validator, then the cause’s type picks the code and its message the detail', () => {
    const cause = ApplicationFailure.nonRetryable('申报已于 2027年3月26日 24:00 截止', 'REQUEST_REJECTED');
    const mapped = fromTemporalError(new WorkflowUpdateFailedError('Workflow Update failed', cause));
    expect(mapped).toBeInstanceOf(AppError);
    expect(mapped).toMatchObject({
      code: 'REQUEST_REJECTED',
      status: 409,
      detail: '申报已于 2027年3月26日 24:00 截止',
    });
  });

  it('when a submission arrives after the deadline, then it is a 409 DEADLINE_PASSED that names the deadline', () => {
    const cause = ApplicationFailure.nonRetryable(
      '申报已于 2027年4月13日 24:00 截止（本次接收时间 2027年4月14日 00:00），逾期不予受理',
      'DEADLINE_PASSED',
    );
    expect(fromTemporalError(new WorkflowUpdateFailedError('Workflow Update failed', cause))).toMatchObject({
      status: 409,
      code: 'DEADLINE_PASSED',
      title: '已过提交截止时间',
      detail: expect.stringContaining('2027年4月13日 24:00'),
    });
  });

  it('when an Update fails without a catalogue code (an activity error, the database down), then it is a 503, not a refusal', () => {
    const cause = ApplicationFailure.create({ message: 'connect ECONNREFUSED 127.0.0.1:5432', type: 'Error' });
    expect(fromTemporalError(new WorkflowUpdateFailedError('Workflow Update failed', cause))).toMatchObject({
      code: 'SERVICE_UNAVAILABLE',
      status: 503,
      detail: expect.not.stringContaining('ECONNREFUSED'),
    });
  });

  it('maps a missing workflow to 404', () => {
    expect(fromTemporalError(new WorkflowNotFoundError('not found', 'round-x-2027', undefined))).toMatchObject({
      code: 'WORKFLOW_NOT_FOUND',
      status: 404,
    });
  });

  it('leaves unrelated errors alone', () => {
    expect(fromTemporalError(new Error('boom'))).toBeUndefined();
  });
});

describe('a reference PostgreSQL does not have is the request’s fault (safety net behind the routes’ checks)', () => {
  const req = { originalUrl: '/api/events', headers: {} } as unknown as express.Request;
  it.each([
    ['23503 foreign_key_violation', '23503', '引用的记录不存在'],
    ['22P02 invalid_text_representation (not a UUID)', '22P02', '编号格式不正确'],
  ])('maps %s to 422 VALIDATION_FAILED, never 500', (_what, code, detail) => {
    const err = Object.assign(new Error('insert or update on table violates foreign key constraint'), { code });
    const { problem, known } = problemFor(err, req);
    expect(known).toBe(true);
    expect(problem).toMatchObject({ status: 422, code: 'VALIDATION_FAILED', detail: expect.stringContaining(detail) });
  });
});

describe('infrastructure failures answer 503 with Retry-After, never a refusal', () => {
  const failures: [string, unknown][] = [
    [
      'PostgreSQL refusing connections',
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
    ],
    ['PostgreSQL shutting down', Object.assign(new Error('terminating connection'), { code: '57P01' })],
    ['a connection exception', Object.assign(new Error('connection failure'), { code: '08006' })],
    [
      'knex giving up on its pool',
      Object.assign(new Error('Knex: Timeout acquiring a connection'), { name: 'KnexTimeoutError' }),
    ],
    ['pg losing the socket', new Error('Connection terminated unexpectedly')],
  ];

  it.each(failures)('when %s, then 503 SERVICE_UNAVAILABLE with Retry-After', async (_what, failure) => {
    const app = express();
    app.get('/boom', () => {
      throw failure;
    });
    app.use(errorHandler(createLogger({ level: 'silent' })));
    const server = app.listen(0);
    try {
      await once(server, 'listening');
      const { port } = server.address() as AddressInfo;
      const res = await fetch(`http://127.0.0.1:${port}/boom`);
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe(String(RETRY_AFTER_SECONDS));
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(await res.json()).toMatchObject({ code: 'SERVICE_UNAVAILABLE', title: '服务暂时不可用，请稍后重试' });
    } finally {
      server.close();
    }
  });
});
