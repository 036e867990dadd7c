// The developer portal in a real headless Chromium, against the real binary (`gatehouse up`:
// hub, gateway and portal on a fresh SQLite store), a real upstream on loopback and a real
// OpenID Connect provider. Run by scripts/test: node --test tests/browser/portal.test.mjs
// Screenshots go to target/browser/.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';

import { chromium } from 'playwright-core';

import { CHROMIUM, CHROMIUM_ARGS, adminApi, adminToken, freePort, waitFor } from './support.mjs';

import { startProvider } from './oidc-provider.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const BINARY = process.env.GATEHOUSE_BIN ?? join(ROOT, 'target/debug/gatehouse');
const SHOTS = join(ROOT, 'target/browser');
const PASSWORD = 'correct horse battery staple';
const ADMIN_PASSWORD = 'admin password for tests';

const PETSTORE_OPENAPI = `
openapi: 3.0.3
info: { title: Pet store, version: "1", description: Pets for the browser test. }
paths:
  /pets:
    get:
      operationId: listPets
      summary: List every pet
      responses:
        "200": { description: The pets, content: { application/json: { example: [{ id: 1, name: Rex }] } } }
  /pets/{id}:
    parameters: [ { name: id, in: path, required: true, description: The pet's id, schema: { type: integer, example: 1 } } ]
    get: { operationId: getPet, summary: Read one pet, responses: { "200": { description: The pet } } }
    delete: { operationId: deletePet, summary: Remove a pet, responses: { "204": { description: Gone } } }
`;
const ORDERS_OPENAPI = `
openapi: 3.1.0
info: { title: Orders, version: "2" }
paths:
  /orders:
    get: { operationId: listOrders, summary: List orders, responses: { "200": { description: ok } } }
`;

let upstream; let provider; let gatehouse; let browser; let dataDir;
let portal; let hub; let token;
const offLoopback = [];

const admin = adminApi(() => hub, () => token);

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  // The upstream: says which API and path it served, as JSON.
  upstream = createServer((request, response) => {
    response.setHeader('content-type', 'application/json');
    if (request.url.startsWith('/pets') && request.method === 'GET') {
      response.end(JSON.stringify([{ id: 1, name: 'Rex', served: request.url }]));
    } else {
      response.end(JSON.stringify({ method: request.method, served: request.url }));
    }
  });
  await new Promise((done) => upstream.listen(0, '127.0.0.1', done));
  const upstreamUrl = `http://127.0.0.1:${upstream.address().port}`;

  const [hubPort, gatewayPort, gatewayAdminPort, portalPort] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  portal = `http://127.0.0.1:${portalPort}`;
  hub = `http://127.0.0.1:${hubPort}`;
  provider = await startProvider({
    clients: [{ client_id: 'gatehouse-portal', client_secret: 'portal-secret',
      redirect_uris: [`${portal}/sign-in/oidc/test-idp/callback`] }],
    accounts: { olivia: { sub: 'u-olivia', email: 'olivia@example.test', name: 'Olivia Example', groups: ['support', 'unknown-group'] } },
  });

  dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-browser-'));
  const config = join(dataDir, 'gatehouse.toml');
  writeFileSync(config, `[[portal.providers]]
name = "test-idp"
label = "Sign in with the test provider"
issuer = "${provider.issuer}"
client_id = "gatehouse-portal"
client_secret = "portal-secret"
groups_claim = "groups"
`);
  gatehouse = spawn(BINARY, ['up', '--config', config, '--data-dir', join(dataDir, 'data'),
    '--hub-listen', `127.0.0.1:${hubPort}`, '--gateway-listen', `127.0.0.1:${gatewayPort}`,
    '--gateway-admin-listen', `127.0.0.1:${gatewayAdminPort}`, '--portal-listen', `127.0.0.1:${portalPort}`],
  { env: { ...process.env, GATEHOUSE_ADMIN_PASSWORD: ADMIN_PASSWORD, GATEHOUSE_LOG: 'warn' }, stdio: ['ignore', 'pipe', 'inherit'] });
  await waitFor(`${portal}/healthz`);

  token = await adminToken(hub, ADMIN_PASSWORD);
  for (const group of ['support', 'staff']) await admin('POST', '/groups', { name: group });
  const api = (name, prefix, description, tags) => ({ name, description, tags, route: { path_prefix: prefix, strip_prefix: true },
    upstream: { targets: [{ url: upstreamUrl }] } });
  await admin('POST', '/apis', api('petstore', '/pets', 'Pets: list, read and remove them.', ['animals']));
  await admin('POST', '/apis', api('orders', '/orders', 'Orders placed in the shop.', ['shop']));
  await admin('POST', '/apis', api('payroll', '/payroll', 'Salaries. Staff only.', ['hr']));
  await admin('POST', '/apis/petstore/versions', { name: 'v1', status: 'published',
    selector: { kind: 'path', segment: 'v1' }, openapi: PETSTORE_OPENAPI });
  await admin('POST', '/apis/orders/versions', { name: 'v2', status: 'deprecated',
    selector: { kind: 'path', segment: 'v2' }, openapi: ORDERS_OPENAPI });
  await admin('POST', '/plans', { name: 'support-plan', rate_limit: { requests: 2000, window_seconds: 65 },
    quota: { requests: 100000, period: 'month' } });
  await admin('POST', '/access-policies', { name: 'support-reads', groups: ['support'], plan: 'support-plan',
    apis: [{ api: 'petstore', methods: ['GET'] }, { api: 'orders', methods: ['GET'] }] });
  await admin('POST', '/users', { name: 'sam', display_name: 'Sam Support', groups: ['support'], password: PASSWORD });
  await admin('POST', '/users', { name: 'ada', display_name: 'Ada Admin', role: 'admin', groups: ['staff'], password: PASSWORD });
  await admin('POST', '/users', { name: 'nora', display_name: 'Nora New', password: PASSWORD });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
});

after(async () => {
  await browser?.close();
  gatehouse?.kill('SIGTERM');
  await provider?.close();
  upstream?.closeAllConnections();
  upstream?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  assert.deepEqual(offLoopback, [], 'no request left loopback');
});

// A fresh browser profile whose requests may reach loopback only.
async function newPage(viewport = { width: 1200, height: 900 }) {
  const context = await browser.newContext({ viewport });
  await context.route((url) => url.hostname !== '127.0.0.1', (route) => {
    offLoopback.push(route.request().url());
    return route.abort();
  });
  return context.newPage();
}

async function signIn(page, name) {
  await page.goto(`${portal}/sign-in`);
  await page.getByLabel('User name').fill(name);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${portal}/apis`);
}

const listed = (page) => page.locator('.cards .card h2').allInnerTexts();

async function issueKey(page) {
  await page.getByRole('link', { name: 'Applications' }).click();
  await page.getByLabel('Name').first().fill('support-tool');
  await page.getByRole('button', { name: 'Create' }).click();
  await page.getByLabel('Key name').fill('browser');
  await page.getByRole('button', { name: 'Issue a key' }).click();
  const key = await page.locator('#new-key').inputValue();
  assert.match(key, /^ghk_/);
  return key;
}

describe('a support user', () => {
  test('sees exactly the two APIs granted, calls GET through try-it and sees the gateway refuse DELETE', async () => {
    const page = await newPage();
    await signIn(page, 'sam');
    assert.deepEqual(await listed(page), ['orders', 'petstore']);
    await page.screenshot({ path: join(SHOTS, 'catalog.png'), fullPage: true });
    const key = await issueKey(page);
    await page.screenshot({ path: join(SHOTS, 'new-key.png'), fullPage: true });

    await page.getByRole('link', { name: 'APIs' }).click();
    await page.getByRole('link', { name: 'petstore' }).click();
    await page.waitForURL(`${portal}/apis/petstore`);
    assert.equal(await page.locator('#try-key').inputValue(), key, 'the new key is the one try-it uses');
    await page.screenshot({ path: join(SHOTS, 'api-page.png'), fullPage: true });

    const list = page.locator('article.operation', { hasText: 'listPets' });
    await list.getByRole('button', { name: 'Try it' }).click();
    // The key was published a moment ago: the gateway knows it within a second.
    await assert.doesNotReject(list.locator('.status-line').waitFor());
    let status = await list.locator('.status-line').innerText();
    for (let attempt = 0; !status.includes('HTTP 200') && attempt < 20; attempt += 1) {
      await page.waitForTimeout(250);
      await list.getByRole('button', { name: 'Try it' }).click();
      await page.waitForTimeout(250);
      status = await list.locator('.status-line').innerText();
    }
    assert.match(status, /HTTP 200/);
    const body = await list.locator('pre.body').innerText();
    assert.match(body, /"name": "Rex"/);
    assert.match(body, /"served": "\/pets"/, 'the upstream served it, through the gateway (prefix and version stripped)');
    await list.screenshot({ path: join(SHOTS, 'try-it-result.png') });

    const remove = page.locator('article.operation', { hasText: 'deletePet' });
    assert.match(await remove.locator('.badge.no').innerText(), /Not allowed for you/);
    await remove.getByLabel('id').fill('1');
    await remove.getByRole('button', { name: 'Try it' }).click();
    await remove.locator('.status-line').waitFor();
    assert.match(await remove.locator('.status-line').innerText(), /HTTP 403/);
    const refusal = await remove.locator('pre.body').innerText();
    assert.match(refusal, /access_denied|support-reads|may not DELETE/, refusal);
    await remove.screenshot({ path: join(SHOTS, 'try-it-refused.png') });

    // The plan's usage, as the gateway's limiter holds it: the GETs counted, the refused DELETE not.
    await page.reload();
    const usage = await page.locator('.usage').innerText();
    // The window refills continuously (GCRA): 2,000 per 65 s is one back every 32.5 ms.
    assert.match(usage, /[\d,]+ of 2,000 requests left in this window/, usage);
    assert.match(usage, /[1-9]\d* of 100,000 used this month/, usage);

    // The key's row says when the gateway last saw it used.
    await page.getByRole('link', { name: 'Applications' }).click();
    await page.getByRole('link', { name: 'support-tool' }).click();
    const row = page.locator('table.keys tr', { hasText: 'browser' });
    assert.match(await row.innerText(), /\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC\s+\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC\s+active/);
    await page.screenshot({ path: join(SHOTS, 'application.png'), fullPage: true });

    await page.goto(`${portal}/apis/payroll`);
    assert.match(await page.locator('h1').innerText(), /Not found/, 'an API not granted is not found');
    await page.context().close();
  });

  test('reads the portal on a 390 px wide screen', async () => {
    const page = await newPage({ width: 390, height: 844 });
    await signIn(page, 'sam');
    await page.goto(`${portal}/apis/petstore`);
    await page.screenshot({ path: join(SHOTS, 'api-page-mobile.png'), fullPage: true });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `no sideways scrolling (${overflow}px too wide)`);
    await page.context().close();
  });

  test('can sign in and reach the catalog with the keyboard alone, and every control has a label', async () => {
    const page = await newPage();
    await page.goto(`${portal}/sign-in`);
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Skip to content');
    await page.locator('#name').focus();
    await page.keyboard.type('sam');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'password');
    await page.keyboard.type(PASSWORD);
    await page.keyboard.press('Enter');
    await page.waitForURL(`${portal}/apis`);
    for (const path of ['/apis', '/apis/petstore', '/applications']) {
      await page.goto(`${portal}${path}`);
      const unlabelled = await page.evaluate(() => [...document.querySelectorAll('input:not([type=hidden]), textarea, select, button')]
        .filter((control) => !(control.labels?.length || control.getAttribute('aria-label') || control.textContent.trim()))
        .map((control) => control.outerHTML));
      assert.deepEqual(unlabelled, [], `${path}: every control is labelled`);
    }
    await page.context().close();
  });
});

test('an admin sees every API', async () => {
  const page = await newPage();
  await signIn(page, 'ada');
  assert.deepEqual(await listed(page), ['orders', 'payroll', 'petstore']);
  await page.context().close();
});

test('a user with no grants sees an empty catalog that says why', async () => {
  const page = await newPage();
  await signIn(page, 'nora');
  assert.deepEqual(await listed(page), []);
  assert.match(await page.locator('.notice.empty').innerText(), /no group yet/);
  await page.screenshot({ path: join(SHOTS, 'catalog-empty.png') });
  await page.context().close();
});

describe('OpenID Connect sign-in', () => {
  async function signInAtProvider(page) {
    await page.fill('input[name="login"]', 'olivia');
    await page.fill('input[name="password"]', 'any password');
    await page.click('button[type="submit"]:has-text("Sign-in")');
  }

  test('a user whose groups claim says support lands seeing support\'s APIs', async () => {
    const page = await newPage();
    await page.goto(`${portal}/sign-in`);
    await page.getByRole('link', { name: 'Sign in with the test provider' }).click();
    await signInAtProvider(page);
    await page.click('button[type="submit"]:has-text("Continue")');
    await page.waitForURL(`${portal}/apis`);
    assert.deepEqual(await listed(page), ['orders', 'petstore']);
    assert.match(await page.locator('.who').innerText(), /Olivia Example/);
    await page.context().close();
  });

  // Playwright cannot change a request reached by a redirect, and the whole flow is redirects.
  // So these tests take the steps one by one, with the browser context's own cookie jar
  // (`page.request` shares it): start at the portal, sign in at the provider in the page, then
  // follow the provider's redirects by hand up to the portal's callback URL, which is returned
  // instead of followed, for the test to change and open.
  async function callbackUrl(page, { nonce } = {}) {
    const started = await page.request.get(`${portal}/sign-in/oidc/test-idp`, { maxRedirects: 0 });
    const authorize = new URL(started.headers().location);
    assert.equal(authorize.origin, provider.issuer);
    if (nonce) authorize.searchParams.set('nonce', nonce);
    await page.goto(authorize.toString());
    await signInAtProvider(page);
    await page.waitForSelector('button[type="submit"]:has-text("Continue")');
    const consent = await page.evaluate(() => {
      const { form } = document.querySelector('button[type="submit"]');
      return { action: form.action, fields: Object.fromEntries(new FormData(form)) };
    });
    let response = await page.request.post(consent.action, { form: consent.fields, maxRedirects: 0 });
    for (let hop = 0; hop < 10; hop += 1) {
      const location = response.headers().location;
      assert.ok(location, `the provider redirects (hop ${hop}, status ${response.status()})`);
      const next = new URL(location, response.url());
      if (next.origin === portal) return next;
      response = await page.request.get(next.toString(), { maxRedirects: 0 });
    }
    throw new Error('the provider never sent the browser back to the portal');
  }

  async function assertSignedOut(page) {
    await page.goto(`${portal}/apis`);
    assert.equal(new URL(page.url()).pathname, '/sign-in', 'not signed in');
  }

  test('the step-by-step flow signs in when nothing is changed', async () => {
    const page = await newPage();
    await page.goto((await callbackUrl(page)).toString());
    assert.equal(new URL(page.url()).pathname, '/apis');
    await page.context().close();
  });

  test('a forged state is refused', async () => {
    const page = await newPage();
    const callback = await callbackUrl(page);
    callback.searchParams.set('state', 'forged-state');
    await page.goto(callback.toString());
    assert.match(await page.locator('main').innerText(), /state does not match/);
    await assertSignedOut(page);
    await page.context().close();
  });

  test('a wrong nonce is refused', async () => {
    const page = await newPage();
    await page.goto((await callbackUrl(page, { nonce: 'a-nonce-the-portal-never-made' })).toString());
    assert.match(await page.locator('main').innerText(), /ID token is not valid.*nonce/is);
    await assertSignedOut(page);
    await page.context().close();
  });

  test('a replayed code is refused', async () => {
    const first = await newPage();
    const used = await callbackUrl(first);
    await first.goto(used.toString());
    assert.equal(new URL(first.url()).pathname, '/apis', 'the first use signs in');
    await first.context().close();
    // Another browser starts its own sign-in (its own state), and the used code is slipped in.
    const second = await newPage();
    const callback = await callbackUrl(second);
    callback.searchParams.set('code', used.searchParams.get('code'));
    await second.goto(callback.toString());
    assert.match(await second.locator('main').innerText(), /refused the code/);
    await assertSignedOut(second);
    // The same callback opened twice in one browser is refused too: the pending sign-in is gone.
    const third = await newPage();
    const once = await callbackUrl(third);
    await third.goto(once.toString());
    assert.equal(new URL(third.url()).pathname, '/apis');
    await third.goto(once.toString());
    assert.match(await third.locator('main').innerText(), /no sign-in with this provider was started/);
    await third.context().close();
  });
});
