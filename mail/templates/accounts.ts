import { formatInstantZh } from '../../domain/calendar/index.js';
import { CONTACT_CENTRE_ZH, letter, type RenderedEmail } from './common.js';

/**
 * To a person an administrator created an account for: the one-time `link` (`${PUBLIC_BASE_URL}/account/invitation/
 * <token>`) to set a password (and, for staff, `totp` true: enrol the authenticator app), valid until `expiresAt`
 * (printed Asia/Shanghai). `roleZh` says what the account acts as (系统管理员, 郑州大学申报单位用户…).
 */
export function accountInvitation(d: {
  name: string;
  roleZh: string;
  email: string;
  link: string;
  expiresAt: Date;
  totp: boolean;
  signInUrl: string;
}): RenderedEmail {
  return {
    subject: '【账号开通】请设置 ronghe 系统登录密码',
    text: letter(d.name, [
      `管理服务中心已为您开通 ronghe 系统账号（${d.roleZh}），登录名为 ${d.email}。`,
      '',
      '请打开以下链接设置登录密码' + (d.totp ? '，并绑定身份验证器（动态验证码）' : '') + '：',
      d.link,
      '',
      `该链接仅可使用一次，有效期至 ${formatInstantZh(d.expiresAt)}（北京时间）。逾期请联系管理服务中心重新发送。`,
      `设置完成后，请在 ${d.signInUrl} 登录。`,
      '',
      `如您并未申请该账号，请忽略本邮件，并${CONTACT_CENTRE_ZH}`,
    ]),
  };
}

/** To the holder of an account who asked to reset the password: the one-time `link`, valid until `expiresAt`. */
export function passwordReset(d: { name: string; email: string; link: string; expiresAt: Date }): RenderedEmail {
  return {
    subject: '【密码重置】ronghe 系统登录密码重置',
    text: letter(d.name, [
      `有人为 ronghe 系统账号 ${d.email} 申请了重置登录密码。`,
      '',
      '如系本人操作，请打开以下链接设置新密码：',
      d.link,
      '',
      `该链接仅可使用一次，有效期至 ${formatInstantZh(d.expiresAt)}（北京时间）。新密码设置后，该账号在所有设备上的登录及个人访问令牌随即失效。`,
      '',
      `如非本人操作，请忽略本邮件，原密码仍然有效；如有疑问，${CONTACT_CENTRE_ZH}`,
    ]),
  };
}
