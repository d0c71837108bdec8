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
  const server = http.createServer((req, res) => {
    if (handler) return handler(req, res);
    res.statusCode = 503;
    res.end('not configured yet');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const users = new Map<string, ProviderUser>();
  return {
    issuer,
    users,
    configure({ clientId, clientSecret, redirectUri }) {
      const provider = new Provider(issuer, {
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
        claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
        cookies: { keys: ['ronghe-test-identity-provider-cookie-key'] },
        features: { devInteractions: { enabled: true } },
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
