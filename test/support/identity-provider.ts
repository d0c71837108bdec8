import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Provider } from 'oidc-provider';

/**
 * A real OpenID provider for the tests (`oidc-provider` 9 with its development login and consent pages), on its
 * own port of 127.0.0.1 over http (the provider allows it outside production; the API allows an http issuer
 * outside production only). Started in two steps because each side needs the other's address: `listen` gives the
 * issuer URL (for the API's OIDC_ISSUER), `configure` registers the client with the API's callback.
 */

/** A person at the provider; the development login page takes the `sub` as the login (any password). */
export interface ProviderUser {
  sub: string;
  email?: string;
  emailVerified?: boolean;
  name?: string;
  /**
   * The authentication context class the provider's login reports (the ID token's `acr`), e.g. a value meaning
   * it checked a second factor; none by default.
   */
  acr?: string;
}

export interface IdentityProvider {
  issuer: string;
  /** The people who can sign in, by `sub`; change an entry to change what the provider says next time. */
  users: Map<string, ProviderUser>;
  configure(client: { clientId: string; clientSecret: string; redirectUri: string }): void;
  stop(): Promise<void>;
}

export async function startIdentityProvider(): Promise<IdentityProvider> {
  let handler: ((req: http.IncomingMessage, res: http.ServerResponse) => void) | undefined;
  let provider: Provider | undefined;
  const server = http.createServer((req, res) => {
    if (!handler || !provider) {
      res.statusCode = 503;
      res.end('not configured yet');
      return;
    }
    // The login step of the development pages, finished here so that it can report the person's `acr` (the
    // development pages report none); consent and everything else is the provider's own.
    if (req.method === 'POST' && /^\/interaction\/[^/]+$/.test(req.url ?? '')) {
      void finishLogin(provider, req, res).then(
        (done) => {
          if (!done) handler!(req, res);
        },
        (err: unknown) => {
          res.statusCode = 500;
          res.end(String(err));
        },
      );
      return;
    }
    handler(req, res);
  });
  /** Finishes a login submission; false (body untouched) when the request is not one. */
  const finishLogin = async (p: Provider, req: http.IncomingMessage, res: http.ServerResponse): Promise<boolean> => {
    const details = await p.interactionDetails(req, res);
    if (details.prompt.name !== 'login') return false;
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const sub = new URLSearchParams(Buffer.concat(chunks).toString('utf8')).get('login') ?? '';
    const acr = users.get(sub)?.acr;
    await p.interactionFinished(
      req,
      res,
      { login: { accountId: sub, ...(acr ? { acr } : {}) } },
      {
        mergeWithLastSubmission: false,
      },
    );
    return true;
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const users = new Map<string, ProviderUser>();
  return {
    issuer,
    users,
    configure({ clientId, clientSecret, redirectUri }) {
      provider = new Provider(issuer, {
        clients: [
          {
            client_id: clientId,
            client_secret: clientSecret,
            redirect_uris: [redirectUri],
            response_types: ['code'],
            grant_types: ['authorization_code'],
            token_endpoint_auth_method: 'client_secret_basic',
          },
        ],
        claims: {
          acr: null,
          auth_time: null,
          iss: null,
          sid: null,
          openid: ['sub'],
          email: ['email', 'email_verified'],
          profile: ['name'],
        },
        cookies: { keys: ['ronghe-test-identity-provider-cookie-key'] },
        features: { devInteractions: { enabled: true }, claimsParameter: { enabled: true } },
        acrValues: ['urn:henan:mfa'],
        findAccount: (_ctx, sub) => {
          if (!users.has(sub)) return Promise.resolve(undefined);
          return Promise.resolve({
            accountId: sub,
            claims: () => {
              // Read at each use: a test may change the person's email between sign-ins.
              const user = users.get(sub)!;
              return {
                sub,
                ...(user.email !== undefined ? { email: user.email, email_verified: user.emailVerified ?? false } : {}),
                ...(user.name !== undefined ? { name: user.name } : {}),
              };
            },
          });
        },
      });
      handler = provider.callback();
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
