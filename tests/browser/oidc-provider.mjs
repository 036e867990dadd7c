// A real OpenID Provider (oidc-provider) on loopback, for browser tests of the portal's sign-in.
//
//   import { startProvider } from './oidc-provider.mjs';
//   const op = await startProvider({ clients, accounts });   // op.issuer, await op.close()
//
//   node oidc-provider.mjs --port 9400 --config cfg.json    // prints "ready http://127.0.0.1:9400"
//   cfg.json: { "clients": [...], "accounts": {...} }
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

import Provider, { interactionPolicy } from 'oidc-provider';

const { Check, base } = interactionPolicy;

function signingKey() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), alg: 'RS256', use: 'sig' };
}

// The dev login form accepts any name and any password, and oidc-provider itself only notices
// an unknown account at the token endpoint. This check makes an unknown name fail where a person
// would see it: the provider shows its login form again and never redirects with a code.
function interactions() {
  const policy = base();
  policy.get('login').checks.add(new Check(
    'unknown_account',
    'the login name is not a known account',
    (ctx) => Boolean(ctx.oidc.session.accountId && !ctx.oidc.account),
  ));
  return policy;
}

/**
 * @param {object} opts
 * @param {number} [opts.port] 0 picks a free port
 * @param {{client_id: string, client_secret: string, redirect_uris: string[]}[]} opts.clients
 * @param {Record<string, {sub: string, email?: string, name?: string, groups?: string[]}>} opts.accounts
 *   keyed by the login name typed into the provider's form
 * @returns {Promise<{issuer: string, close(): Promise<void>}>}
 */
export async function startProvider({ port = 0, clients, accounts }) {
  const byLogin = new Map(Object.entries(accounts));

  // The issuer must name the real port, so listen first and attach the provider afterwards.
  let handler = (req, res) => { res.statusCode = 503; res.end(); };
  const server = createServer((req, res) => handler(req, res));
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const issuer = `http://127.0.0.1:${server.address().port}`;

  const provider = new Provider(issuer, {
    clients: clients.map((c) => ({
      client_id: c.client_id,
      client_secret: c.client_secret,
      redirect_uris: c.redirect_uris,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      // Registering basic is enough: oidc-provider treats basic and post as interchangeable.
      token_endpoint_auth_method: 'client_secret_basic',
    })),
    jwks: { keys: [signingKey()] },
    cookies: {
      keys: [randomBytes(32).toString('base64url')],
      // The default SameSite=None is refused by Chromium on a non-secure cookie (http); lax is
      // all a top-level redirect flow needs.
      long: { httpOnly: true, sameSite: 'lax', signed: true },
      short: { httpOnly: true, sameSite: 'lax', signed: true },
    },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name'],
      groups: ['groups'],
    },
    // Without this, scope-requested claims go to userinfo only; the portal reads the id_token.
    conformIdTokenClaims: false,
    pkce: { methods: ['S256'], required: () => true },
    interactions: { policy: interactions() },
    features: { devInteractions: { enabled: true } },
    // The dev login form stores what was typed as the accountId, so the login name is the key;
    // the id_token's sub is the account's own sub.
    async findAccount(ctx, id) {
      const account = byLogin.get(id);
      if (!account) return undefined;
      return {
        accountId: id,
        async claims() {
          return {
            sub: account.sub,
            email: account.email,
            email_verified: account.email !== undefined,
            name: account.name,
            groups: account.groups ?? [],
          };
        },
      };
    },
    clientBasedCORS: () => false,
    ttl: {
      AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Session: 3600, Grant: 3600,
    },
  });
  // The built-in pages @import a web font from the internet; this machine must not reach out.
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.response.is('html') && typeof ctx.body === 'string') {
      ctx.body = ctx.body.replace(/@import url\(https?:[^)]*\);?/g, '');
    }
  });
  handler = provider.callback();

  return {
    issuer,
    close: () => new Promise((resolve) => {
      server.close(() => resolve());
      // Chromium keeps connections alive; without this close() waits for them to time out.
      server.closeAllConnections();
    }),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: { port: { type: 'string' }, config: { type: 'string' } } });
  if (!values.config) {
    console.error('usage: node oidc-provider.mjs [--port N] --config cfg.json');
    process.exit(2);
  }
  const cfg = JSON.parse(readFileSync(values.config, 'utf8'));
  const op = await startProvider({ port: Number(values.port ?? 0), clients: cfg.clients, accounts: cfg.accounts });
  console.log(`ready ${op.issuer}`);
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => op.close().then(() => process.exit(0)));
}
