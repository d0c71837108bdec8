/**
 * Accounts (issue 15): who a person is when they sign in, and the rules every sign-in path shares.
 */

/** staff of the centre; a user acting for one institution, or for one partner enterprise; an expert of the pool. */
export type AccountKind = 'staff' | 'institution' | 'enterprise' | 'expert';

/** A staff member's sub-role: officer (does the procedures), administrator (also manages accounts), ops. */
export type StaffRole = 'officer' | 'administrator' | 'ops';

export const ACCOUNT_KINDS: readonly AccountKind[] = ['staff', 'institution', 'enterprise', 'expert'];
export const STAFF_ROLES: readonly StaffRole[] = ['officer', 'administrator', 'ops'];

/** zh-CN names, for pages and emails. */
export const ACCOUNT_KIND_ZH: Record<AccountKind, string> = {
  staff: '管理服务中心工作人员',
  institution: '申报单位用户',
  enterprise: '合作企业用户',
  expert: '评审专家',
};
export const STAFF_ROLE_ZH: Record<StaffRole, string> = {
  officer: '业务人员',
  administrator: '系统管理员',
  ops: '运维人员',
};

/**
 * The password rule (README "Accounts"): 12 to 128 characters, not the email address itself. Length is what
 * makes a password strong (NIST SP 800-63B §5.1.1.2 asks at least 8; we ask 12); no composition rules.
 */
export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 128;

/** Why `password` is refused for the account at `email` (zh-CN, saying what to do), or undefined when it is fine. */
export function passwordProblem(password: string, email: string): string | undefined {
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH) return `密码至少 ${PASSWORD_MIN_LENGTH} 个字符，请设置更长的密码`;
  if (length > PASSWORD_MAX_LENGTH) return `密码至多 ${PASSWORD_MAX_LENGTH} 个字符，请缩短后重新设置`;
  if (password.trim().toLowerCase() === email.trim().toLowerCase()) return '密码不能与电子邮箱相同，请另设密码';
  return undefined;
}

/** How long an invitation or a password-reset link may be used (hours): 72 (issue 15, point 2). */
export const LINK_VALID_HOURS = 72;

const ACCOUNT_SUFFIX = /\|account:([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

/**
 * The audit actor of an account: `<role>:<scope>|account:<account id>` — `staff:officer|account:…`,
 * `applicant:zzu|account:…`, `enterprise:ent-01|account:…`, `expert:exp-001|account:…`. The part before `|`
 * keeps the shape development tokens give (`applicant:<institutionId>`), so whoever reads an actor for its
 * institution or expert reads it the same way; the suffix names the person.
 */
export function accountActor(base: string, accountId: string): string {
  return `${base}|account:${accountId}`;
}

/** The account an actor names (see `accountActor`), or undefined for a development token's or the system's. */
export function accountIdOfActor(actor: string): string | undefined {
  return ACCOUNT_SUFFIX.exec(actor)?.[1];
}

/** The actor without its account suffix: `applicant:zzu|account:…` → `applicant:zzu`. */
export function actorBase(actor: string): string {
  return actor.replace(ACCOUNT_SUFFIX, '');
}
