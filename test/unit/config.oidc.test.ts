import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../platform/config.js';

const PRODUCTION = {
  NODE_ENV: 'production',
  TOKEN_SECRET: 'x'.repeat(40),
  SESSION_SECRET: 'y'.repeat(40),
  PUBLIC_BASE_URL: 'https://ronghe.example.edu.cn',
  DATABASE_URL: 'postgres://ronghe@db/ronghe',
  SMTP_URL: 'smtp://mail:1025',
  TEMPORAL_ADDRESS: 'temporal:7233',
};
const OIDC = {
  OIDC_ISSUER: 'https://sso.example.gov.cn/realms/henan',
  OIDC_CLIENT_ID: 'ronghe',
  OIDC_CLIENT_SECRET: 'client-secret',
};

describe('OIDC settings', () => {
  it('are off unless configured: nothing changes without OIDC_ISSUER', () => {
    expect(loadConfig({}).auth.oidc).toBeUndefined();
  });

  it('come together, with openid among the scopes and the staff acr values as a list', () => {
    expect(loadConfig({ ...OIDC, OIDC_STAFF_MFA: 'urn:henan:mfa, urn:henan:ukey' }).auth.oidc).toEqual({
      issuer: OIDC.OIDC_ISSUER,
      clientId: 'ronghe',
      clientSecret: 'client-secret',
      scopes: 'openid email profile',
      staffMfaAcr: ['urn:henan:mfa', 'urn:henan:ukey'],
    });
    expect(() => loadConfig({ OIDC_ISSUER: OIDC.OIDC_ISSUER })).toThrow(/OIDC_CLIENT_ID is required/);
    expect(() => loadConfig({ ...OIDC, OIDC_SCOPES: 'email profile' })).toThrow(/must include openid/);
    expect(() => loadConfig({ ...OIDC, OIDC_ISSUER: 'sso.example.gov.cn' })).toThrow(ConfigError);
  });

  it('refuse an http issuer in production, and accept it in development (a provider on this machine)', () => {
    const http = { ...OIDC, OIDC_ISSUER: 'http://127.0.0.1:4000' };
    expect(() => loadConfig({ ...PRODUCTION, ...http })).toThrow(/https in production/);
    expect(loadConfig({ ...PRODUCTION, ...OIDC }).auth.oidc?.issuer).toBe(OIDC.OIDC_ISSUER);
    expect(loadConfig(http).auth.oidc?.issuer).toBe('http://127.0.0.1:4000');
  });
});
