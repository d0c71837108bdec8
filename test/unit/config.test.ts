import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  DEVELOPMENT_SESSION_SECRET,
  DEVELOPMENT_TOKEN_SECRET,
  loadConfig,
} from '../../platform/config.js';

const productionEnv = {
  NODE_ENV: 'production',
  TOKEN_SECRET: 'a-real-secret-that-is-long-enough-0123456789',
  SESSION_SECRET: 'another-real-secret-long-enough-9876543210',
  PUBLIC_BASE_URL: 'https://ronghe.example.edu.cn',
  DATABASE_URL: 'postgres://u:p@db:5432/ronghe',
  SMTP_URL: 'smtp://mail:25',
  TEMPORAL_ADDRESS: 'temporal:7233',
};

describe('configuration', () => {
  it('defaults to the documented ports and the development secret', () => {
    const c = loadConfig({});
    expect([c.api.port, c.temporal.port, c.temporal.uiPort, c.smtp.port, c.smtp.webPort, c.database.port]).toEqual([
      3000, 7233, 8233, 1025, 1080, 5433,
    ]);
    expect(c.auth.usingDevelopmentSecret).toBe(true);
    expect(c.production).toBe(false);
  });

  it('reads every port from the environment', () => {
    const c = loadConfig({
      API_PORT: '4000',
      TEMPORAL_PORT: '17233',
      TEMPORAL_UI_PORT: '18233',
      SMTP_PORT: '2025',
      MAIL_WEB_PORT: '2080',
      POSTGRES_PORT: '6543',
    });
    expect([c.api.port, c.temporal.port, c.temporal.uiPort, c.smtp.port, c.smtp.webPort, c.database.port]).toEqual([
      4000, 17233, 18233, 2025, 2080, 6543,
    ]);
  });

  it('refuses a malformed port with the variable named', () => {
    expect(() => loadConfig({ API_PORT: 'eighty' })).toThrow(/API_PORT/);
  });

  it('when production mode lacks a real signing secret, then it refuses to start', () => {
    const { TOKEN_SECRET: _omit, ...withoutSecret } = productionEnv;
    expect(() => loadConfig(withoutSecret)).toThrow(ConfigError);
    expect(() => loadConfig(withoutSecret)).toThrow(/TOKEN_SECRET/);
    expect(() => loadConfig({ ...productionEnv, TOKEN_SECRET: DEVELOPMENT_TOKEN_SECRET })).toThrow(/TOKEN_SECRET/);
    expect(() => loadConfig({ ...productionEnv, TOKEN_SECRET: 'short' })).toThrow(/TOKEN_SECRET/);
  });

  it('when production mode lacks a session secret or the public address, then it refuses to start', () => {
    const { SESSION_SECRET: _s, ...withoutSession } = productionEnv;
    expect(() => loadConfig(withoutSession)).toThrow(/SESSION_SECRET/);
    expect(() => loadConfig({ ...productionEnv, SESSION_SECRET: DEVELOPMENT_SESSION_SECRET })).toThrow(
      /SESSION_SECRET/,
    );
    const { PUBLIC_BASE_URL: _p, ...withoutAddress } = productionEnv;
    expect(() => loadConfig(withoutAddress)).toThrow(/PUBLIC_BASE_URL/);
  });

  it('when production mode would start embedded services, then it refuses and lists what is missing', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', TOKEN_SECRET: productionEnv.TOKEN_SECRET })).toThrow(
      /DATABASE_URL[\s\S]*SMTP_URL[\s\S]*TEMPORAL_ADDRESS/,
    );
    expect(loadConfig(productionEnv).production).toBe(true);
  });

  // Issue 14, point 14: the sender's name is the signature under every notice, and a reader has someone to call.
  it('signs notices as the sender is named, with a contact person and telephone', () => {
    const c = loadConfig({});
    expect(c.letterhead).toEqual({
      issuer: '河南省高等教育学会产教融合管理服务中心',
      contactName: '王老师',
      contactPhone: '0371-65900000',
    });
    expect(c.smtp.from).toBe('河南省高等教育学会产教融合管理服务中心 <noreply@ronghe.example>');
    const custom = loadConfig({
      MAIL_FROM: 'notice@jyt.henan.example',
      NOTICE_ISSUER: '河南省教育厅',
      NOTICE_CONTACT_NAME: '李明',
      NOTICE_CONTACT_PHONE: '0371-66666666',
    });
    expect(custom.smtp.from).toBe('河南省教育厅 <notice@jyt.henan.example>');
    expect(custom.letterhead).toEqual({ issuer: '河南省教育厅', contactName: '李明', contactPhone: '0371-66666666' });
    expect(loadConfig({ MAIL_FROM: '河南省高等教育学会产教融合管理服务中心 <a@x.example>' }).smtp.from).toBe(
      '河南省高等教育学会产教融合管理服务中心 <a@x.example>',
    );
    expect(() => loadConfig({ MAIL_FROM: '河南省产教融合管理服务中心 <a@x.example>' })).toThrow(
      /MAIL_FROM.*NOTICE_ISSUER/,
    );
    expect(() => loadConfig({ NOTICE_CONTACT_PHONE: '请拨打' })).toThrow(/NOTICE_CONTACT_PHONE/);
  });
});
