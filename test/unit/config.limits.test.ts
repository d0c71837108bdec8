import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../platform/config.js';

/** Issue 15, point 2: the rate limits' settings and TRUST_PROXY, read and checked at start-up. */
describe('rate limit configuration', () => {
  it('defaults: no proxy trusted; objections 20 per address, 10 per email, 1000 per publicity an hour', () => {
    const { limits } = loadConfig({});
    expect(limits).toEqual({
      trustProxy: false,
      objection: { windowMs: 3_600_000, perAddress: 20, perEmail: 10, perPublicity: 1000 },
      signIn: { windowMs: 900_000, perAccount: 5, perAccountTotal: 50, perAddress: 100, resetPerEmail: 3 },
    });
  });

  it('reads each limit and window from the environment', () => {
    const { limits } = loadConfig({
      OBJECTION_RATE_WINDOW_MINUTES: '30',
      OBJECTION_RATE_LIMIT: '7',
      OBJECTION_EMAIL_RATE_LIMIT: '3',
      OBJECTION_PUBLICITY_RATE_LIMIT: '50',
      SIGNIN_RATE_WINDOW_MINUTES: '10',
      SIGNIN_ACCOUNT_RATE_LIMIT: '4',
      SIGNIN_ACCOUNT_TOTAL_RATE_LIMIT: '12',
      SIGNIN_ADDRESS_RATE_LIMIT: '40',
      RESET_EMAIL_RATE_LIMIT: '2',
    });
    expect(limits.objection).toEqual({ windowMs: 1_800_000, perAddress: 7, perEmail: 3, perPublicity: 50 });
    expect(limits.signIn).toEqual({
      windowMs: 600_000,
      perAccount: 4,
      perAccountTotal: 12,
      perAddress: 40,
      resetPerEmail: 2,
    });
  });

  it('TRUST_PROXY: false, a hop count, or addresses, subnets and named ranges', () => {
    const trust = (value: string) => loadConfig({ TRUST_PROXY: value }).limits.trustProxy;
    expect(trust('')).toBe(false);
    expect(trust('false')).toBe(false);
    expect(trust('1')).toBe(1);
    expect(trust('loopback')).toEqual(['loopback']);
    expect(trust('10.0.0.1, 10.1.0.0/16,fd00::/8, uniquelocal')).toEqual([
      '10.0.0.1',
      '10.1.0.0/16',
      'fd00::/8',
      'uniquelocal',
    ]);
    expect(trust('192.168.0.0/255.255.0.0')).toEqual(['192.168.0.0/255.255.0.0']);
  });

  it('TRUST_PROXY refuses true (any client could choose its address) and what is not an address', () => {
    expect(() => loadConfig({ TRUST_PROXY: 'true' })).toThrow(ConfigError);
    expect(() => loadConfig({ TRUST_PROXY: 'true' })).toThrow(/TRUST_PROXY: true would trust every X-Forwarded-For/);
    expect(() => loadConfig({ TRUST_PROXY: 'nginx' })).toThrow(/TRUST_PROXY: .*"nginx"/);
    expect(() => loadConfig({ TRUST_PROXY: '10.0.0.0/33' })).toThrow(/"10\.0\.0\.0\/33"/);
    expect(() => loadConfig({ TRUST_PROXY: 'loopback,' })).toThrow(/TRUST_PROXY/);
  });

  it('refuses a limit below one', () => {
    expect(() => loadConfig({ OBJECTION_EMAIL_RATE_LIMIT: '0' })).toThrow(/OBJECTION_EMAIL_RATE_LIMIT/);
  });
});
