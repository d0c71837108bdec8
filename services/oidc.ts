import * as client from 'openid-client';
import type { Db } from '../db/knex.js';
import { findAccount, findAccountByEmail, type Account } from '../db/repositories/accounts.js';
import {
  accountIdByOidcIdentity,
  linkOidcIdentity,
  oidcIdentityOf,
  type OidcIdentity,
} from '../db/repositories/oidc-identities.js';
import type { ErrorCode } from '../domain/errors.js';
import type { OidcConfig } from '../platform/config.js';
import { normaliseEmail } from './accounts.js';

/**
 * Sign-in through the province's OpenID Connect identity provider, with `openid-client` 6: discovery (on first
 * use, then kept), the authorization code flow with PKCE (S256), `state` and `nonce`; the library validates the
 * authorization response, the token response and the ID token (signature, issuer, audience, expiry, nonce). Then
 * the identity is matched to an account (`matchAccount`). Nothing here reads the session or answers HTTP.
 */

/** What the browser's session keeps between the redirect to the provider and the callback. */
export interface PendingOidcSignIn {
  state: string;
  nonce: string;
  codeVerifier: string;
  /** When the redirect was made (epoch milliseconds, the API's clock). */
  at: number;
}

/** How long a sign-in at the provider may take, from the redirect to the callback (milliseconds). */
export const OIDC_PENDING_MS = 10 * 60_000;

/** The person as the provider vouches for them, from the validated ID token (and UserInfo for the email). */
export interface OidcClaims extends OidcIdentity {
  /** Lower-cased, as accounts store it; undefined when the provider gives none (or not a single mailbox). */
  email: string | undefined;
  /** Only `email_verified: true` counts. */
  emailVerified: boolean;
  /** The ID token's `acr` (authentication context class), if any. */
  acr: string | undefined;
}

/** Why an authorization response is refused, as the API reports it (catalogue code, English reason for the log). */
export class OidcRefusal extends Error {
  override name = 'OidcRefusal';
  constructor(
    readonly code: Extract<ErrorCode, `OIDC_${string}`>,
    message: string,
    /** The provider's own `error` / `error_description`, when it answered with one. */
    readonly providerError?: { error: string; description: string | undefined },
  ) {
    super(message);
  }
}

/**
 * The provider as a client of it. Discovery happens on the first sign-in (so the API starts while the provider is
 * down); a failed discovery is retried on the next one.
 */
export class OidcProvider {
  private discovered: Promise<client.Configuration> | undefined;

  constructor(readonly settings: OidcConfig) {}

  /**
   * The client configuration from the provider's discovery document. An `http:` issuer (a provider on this machine
   * in development and tests; config refuses it in production) is allowed through `allowInsecureRequests`.
   *
   * @throws what openid-client throws when the provider cannot be reached or its metadata is invalid.
   */
  configuration(): Promise<client.Configuration> {
    this.discovered ??= client
      .discovery(
        new URL(this.settings.issuer),
        this.settings.clientId,
        undefined,
        client.ClientSecretBasic(this.settings.clientSecret),
        {
          timeout: 10,
          execute: new URL(this.settings.issuer).protocol === 'http:' ? [client.allowInsecureRequests] : [],
        },
      )
      .catch((err: unknown) => {
        this.discovered = undefined;
        throw err;
      });
    return this.discovered;
  }

  /**
   * Where to send the browser (the provider's authorization endpoint with `response_type=code`, the scopes,
   * `redirect_uri`, a PKCE S256 challenge, a fresh `state` and `nonce`; with OIDC_STAFF_MFA, and when the provider
   * supports the `claims` parameter, a voluntary request for the ID token's `acr`), and what the session must keep
   * for the callback.
   */
  async authorizationRequest(redirectUri: string, now: Date): Promise<{ url: URL; pending: PendingOidcSignIn }> {
    const config = await this.configuration();
    const codeVerifier = client.randomPKCECodeVerifier();
    const pending: PendingOidcSignIn = {
      state: client.randomState(),
      nonce: client.randomNonce(),
      codeVerifier,
      at: now.getTime(),
    };
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: this.settings.scopes,
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state: pending.state,
      nonce: pending.nonce,
      ...(this.settings.staffMfaAcr.length > 0 && config.serverMetadata().claims_parameter_supported
        ? // Ask for the ID token's `acr` (voluntary, no values: nobody is stepped up for it).
          { claims: JSON.stringify({ id_token: { acr: null } }) }
        : {}),
    });
    return { url, pending };
  }

  /**
   * Completes the sign-in from the callback URL (`redirectUri` with the provider's query string): the library
   * checks `state`, exchanges the code with the PKCE verifier and validates the ID token with `nonce`. The email
   * comes from the ID token, else from the UserInfo endpoint (whose `sub` the library checks against the ID
   * token's).
   *
   * @throws OidcRefusal OIDC_PROVIDER_REFUSED (the provider answered `error=`), OIDC_STATE_INVALID (another
   *   `state`), OIDC_RESPONSE_INVALID (any other check failed, or the token endpoint refused the code).
   * @throws the network error (a `TypeError`) or timeout when the provider cannot be reached.
   */
  async complete(callbackUrl: URL, pending: PendingOidcSignIn): Promise<OidcClaims> {
    const config = await this.configuration();
    let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
    try {
      tokens = await client.authorizationCodeGrant(config, callbackUrl, {
        pkceCodeVerifier: pending.codeVerifier,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      });
    } catch (err) {
      throw refusalOf(err);
    }
    const id = tokens.claims()!;
    let email: unknown = id.email;
    let verified: unknown = id.email_verified;
    if (email === undefined && config.serverMetadata().userinfo_endpoint) {
      try {
        const info = await client.fetchUserInfo(config, tokens.access_token, id.sub);
        email = info.email;
        verified = info.email_verified;
      } catch (err) {
        throw refusalOf(err);
      }
    }
    return {
      issuer: id.iss,
      subject: id.sub,
      email: normaliseEmail(email),
      emailVerified: verified === true,
      acr: typeof id.acr === 'string' ? id.acr : undefined,
    };
  }
}

/** An openid-client error as a refusal; a network failure or timeout is rethrown (the API answers 503). */
function refusalOf(err: unknown): unknown {
  if (err instanceof client.AuthorizationResponseError) {
    return new OidcRefusal('OIDC_PROVIDER_REFUSED', `the provider answered ${err.error}`, {
      error: err.error,
      description: err.error_description,
    });
  }
  if (err instanceof client.ResponseBodyError) {
    return new OidcRefusal('OIDC_RESPONSE_INVALID', `the provider refused the exchange: ${err.error}`, {
      error: err.error,
      description: err.error_description,
    });
  }
  if (err instanceof client.ClientError) {
    // A provider that answers 5xx or not JSON is not reachable as far as we are concerned.
    if (err.code === 'OAUTH_RESPONSE_IS_NOT_CONFORM' || err.code === 'OAUTH_RESPONSE_IS_NOT_JSON') return err;
    const cause = err.cause instanceof Error ? err.cause.message : '';
    if (/"state"/.test(cause)) return new OidcRefusal('OIDC_STATE_INVALID', `state mismatch: ${cause}`);
    return new OidcRefusal('OIDC_RESPONSE_INVALID', `${err.message}${cause ? `: ${cause}` : ''}`);
  }
  return err;
}

/** The outcome of matching an identity: the account (and whether it was linked just now), or why none. */
export type AccountMatch =
  | { account: Account; linked: boolean }
  | { refusal: 'OIDC_NO_ACCOUNT' | 'OIDC_EMAIL_UNVERIFIED' | 'OIDC_IDENTITY_CONFLICT'; account?: Account };

/**
 * Finds the account of a provider's identity (README "Signing in through the province's identity provider"):
 *
 * 1. the account already linked to (issuer, `sub`) — whatever the email says now;
 * 2. otherwise, the first time, the account whose email is the identity's verified email (`email_verified: true`),
 *    which staff created beforehand (nobody gets an account by signing in), and which has no identity yet: the
 *    pair is then stored on it (`linked`), and later sign-ins match by it.
 *
 * A disabled account is returned too: the caller refuses it (and says so).
 */
export async function matchAccount(db: Db, claims: OidcClaims, now: Date): Promise<AccountMatch> {
  const linkedId = await accountIdByOidcIdentity(db, claims);
  if (linkedId) {
    const account = await findAccount(db, linkedId);
    if (account) return { account, linked: false };
  }
  if (!claims.email || !claims.emailVerified) return { refusal: 'OIDC_EMAIL_UNVERIFIED' };
  const account = await findAccountByEmail(db, claims.email);
  if (!account) return { refusal: 'OIDC_NO_ACCOUNT' };
  if (await oidcIdentityOf(db, account.id)) return { refusal: 'OIDC_IDENTITY_CONFLICT', account };
  if (account.disabledAt) return { account, linked: false };
  if (!(await linkOidcIdentity(db, account.id, claims, now))) return { refusal: 'OIDC_IDENTITY_CONFLICT', account };
  // Linking wrote only the identity's columns, which `Account` does not carry: the row read above is current.
  return { account, linked: true };
}
