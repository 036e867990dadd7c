// Proves oidc-provider.mjs works for a real browser: node --test oidc-provider.selftest.mjs
import assert from 'node:assert/strict';
import { createHash, createPublicKey, randomBytes, verify } from 'node:crypto';
import { createServer } from 'node:http';
import { after, before, test } from 'node:test';

import { chromium } from 'playwright-core';

import { startProvider } from './oidc-provider.mjs';

const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const CLIENT = { client_id: 'portal', client_secret: 'portal-secret' };
const SCOPE = 'openid email profile groups';

let rp; let rpHits; let op; let meta; let browser;
const offLoopback = [];

// Everything in these tests lives on 127.0.0.1; anything else is refused and remembered.
async function newPage() {
  const context = await browser.newContext();
  await context.route((u) => u.hostname !== '127.0.0.1', (route) => {
    offLoopback.push(route.request().url());
    return route.abort();
  });
  return context.newPage();
}

before(async () => {
  // A stand-in relying party: it only records the redirects it receives.
  rpHits = [];
  rp = createServer((req, res) => {
    rpHits.push(req.url);
    res.setHeader('content-type', 'text/html');
    res.end('<h1>relying party</h1>');
  });
  await new Promise((resolve) => rp.listen(0, '127.0.0.1', resolve));
  CLIENT.redirect_uris = [`http://127.0.0.1:${rp.address().port}/callback`];

  op = await startProvider({
    clients: [CLIENT],
    accounts: {
      alice: { sub: 'u-alice', email: 'alice@example.test', name: 'Alice Example', groups: ['support'] },
    },
  });
  meta = await (await fetch(`${op.issuer}/.well-known/openid-configuration`)).json();
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
});

after(async () => {
  await browser?.close();
  await op?.close();
  rp?.closeAllConnections();
  await new Promise((resolve) => (rp ? rp.close(resolve) : resolve()));
});

function authRequest() {
  const b64 = (buf) => buf.toString('base64url');
  const req = { state: b64(randomBytes(16)), nonce: b64(randomBytes(16)), verifier: b64(randomBytes(32)) };
  const url = new URL(meta.authorization_endpoint);
  url.search = new URLSearchParams({
    client_id: CLIENT.client_id,
    redirect_uri: CLIENT.redirect_uris[0],
    response_type: 'code',
    scope: SCOPE,
    state: req.state,
    nonce: req.nonce,
    code_challenge: b64(createHash('sha256').update(req.verifier).digest()),
    code_challenge_method: 'S256',
  });
  return { ...req, url: url.href };
}

async function signIn(page, login) {
  await page.fill('input[name="login"]', login);
  await page.fill('input[name="password"]', 'any password');
  await page.click('button[type="submit"]:has-text("Sign-in")');
}

function exchange(code, verifier, { post = false } = {}) {
  const body = new URLSearchParams({
    grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: CLIENT.redirect_uris[0],
  });
  const headers = { 'content-type': 'application/x-www-form-urlencoded' };
  if (post) {
    body.set('client_id', CLIENT.client_id);
    body.set('client_secret', CLIENT.client_secret);
  } else {
    const basic = `${encodeURIComponent(CLIENT.client_id)}:${encodeURIComponent(CLIENT.client_secret)}`;
    headers.authorization = `Basic ${Buffer.from(basic).toString('base64')}`;
  }
  return fetch(meta.token_endpoint, { method: 'POST', headers, body });
}

async function verifiedPayload(idToken) {
  const [h, p, s] = idToken.split('.');
  const header = JSON.parse(Buffer.from(h, 'base64url'));
  const { keys } = await (await fetch(meta.jwks_uri)).json();
  const jwk = keys.find((k) => k.kid === header.kid);
  assert.equal(header.alg, 'RS256');
  assert.ok(verify('RSA-SHA256', Buffer.from(`${h}.${p}`), createPublicKey({ key: jwk, format: 'jwk' }),
    Buffer.from(s, 'base64url')), 'id_token signature');
  return JSON.parse(Buffer.from(p, 'base64url'));
}

test('alice signs in; the code carries groups in the id_token and is single-use', async () => {
  const page = await newPage();
  const req = authRequest();

  await page.goto(req.url);
  await signIn(page, 'alice');
  await page.click('button[type="submit"]:has-text("Continue")');
  await page.waitForURL((u) => u.href.startsWith(CLIENT.redirect_uris[0]));

  const back = new URL(page.url());
  assert.equal(back.searchParams.get('state'), req.state);
  assert.equal(back.searchParams.get('iss'), op.issuer);
  const code = back.searchParams.get('code');
  assert.ok(code);

  const res = await exchange(code, req.verifier);
  const tokens = await res.json();
  assert.equal(res.status, 200, JSON.stringify(tokens));
  const claims = await verifiedPayload(tokens.id_token);
  assert.equal(claims.iss, op.issuer);
  assert.equal(claims.aud, CLIENT.client_id);
  assert.equal(claims.sub, 'u-alice');
  assert.equal(claims.nonce, req.nonce);
  assert.deepEqual(claims.groups, ['support']);
  assert.equal(claims.email, 'alice@example.test');
  assert.equal(claims.name, 'Alice Example');

  const again = await exchange(code, req.verifier);
  assert.equal(again.status, 400);
  assert.equal((await again.json()).error, 'invalid_grant');

  // The provider's session cookie survives over plain http, so no login form this time. The
  // replayed code above made the provider revoke that grant, so it asks for consent again.
  const second = authRequest();
  await page.goto(second.url);
  assert.equal(await page.locator('input[name="login"]').count(), 0);
  await page.click('button[type="submit"]:has-text("Continue")');
  await page.waitForURL((u) => u.href.startsWith(CLIENT.redirect_uris[0]));
  // client_secret_post works for the same client as well as basic.
  const code2 = new URL(page.url()).searchParams.get('code');
  const res2 = await exchange(code2, second.verifier, { post: true });
  assert.equal(res2.status, 200);
  assert.equal((await verifiedPayload((await res2.json()).id_token)).nonce, second.nonce);

  await page.context().close();
});

test('an unknown login name gets the login form again and no code', async () => {
  const page = await newPage();
  const hitsBefore = rpHits.length;

  await page.goto(authRequest().url);
  await signIn(page, 'mallory');
  await page.waitForLoadState('load');

  assert.ok(page.url().startsWith(`${op.issuer}/interaction/`), page.url());
  assert.equal(await page.locator('input[name="login"]').count(), 1);
  assert.equal(rpHits.length, hitsBefore);

  // alice can still sign in from the same page afterwards
  await signIn(page, 'alice');
  await page.click('button[type="submit"]:has-text("Continue")');
  await page.waitForURL((u) => u.href.startsWith(CLIENT.redirect_uris[0]));
  assert.ok(new URL(page.url()).searchParams.get('code'));

  await page.context().close();
});

test('no request left loopback', () => {
  assert.deepEqual(offLoopback, []);
});
