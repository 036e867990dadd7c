// The admin dashboard in a real headless Chromium, against the real binary (`gatehouse up` on a
// fresh SQLite store, auto-publish off so publishing is the admin's step) and a real upstream on
// loopback. An admin builds access in the dashboard and publishes; the by-user view is checked
// against the gateway itself, method by method; a burst of calls shows in the analytics charts
// with the counts sent; a viewer sees every page and changes nothing. Screenshots go to
// target/browser/dashboard-*.png.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';

import { chromium } from 'playwright-core';

import { CHROMIUM, CHROMIUM_ARGS, adminApi, adminToken, freePort, waitFor } from './support.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const BINARY = process.env.GATEHOUSE_BIN ?? join(ROOT, 'target/debug/gatehouse');
const SHOTS = join(ROOT, 'target/browser');
const ADMIN_PASSWORD = 'admin password for tests';
const PASSWORD = 'correct horse battery staple';
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

const PETSTORE_OPENAPI = `openapi: 3.0.3
info: { title: Pet store, version: "1" }
paths:
  /pets:
    get: { operationId: listPets, summary: List pets, responses: { "200": { description: ok } } }
    post: { operationId: addPet, summary: Add a pet, responses: { "201": { description: made } } }
`;

let upstream; let gatehouse; let browser; let dataDir;
let hub; let gateway; let token; let key;
const offLoopback = [];

const rest = adminApi(() => hub, () => token);

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  upstream = createServer((request, response) => {
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify({ method: request.method, served: request.url }));
  });
  await new Promise((done) => upstream.listen(0, '127.0.0.1', done));
  const [hubPort, gatewayPort, gatewayAdminPort, portalPort] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  hub = `http://127.0.0.1:${hubPort}`;
  gateway = `http://127.0.0.1:${gatewayPort}`;
  dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-dashboard-'));
  const config = join(dataDir, 'gatehouse.toml');
  writeFileSync(config, '[hub]\nauto_publish = false\n');
  gatehouse = spawn(BINARY, ['up', '--config', config, '--data-dir', join(dataDir, 'data'),
    '--hub-listen', `127.0.0.1:${hubPort}`, '--gateway-listen', `127.0.0.1:${gatewayPort}`,
    '--gateway-admin-listen', `127.0.0.1:${gatewayAdminPort}`, '--portal-listen', `127.0.0.1:${portalPort}`,
    '--usage-interval-seconds', '1'],
  { env: { ...process.env, GATEHOUSE_ADMIN_PASSWORD: ADMIN_PASSWORD, GATEHOUSE_LOG: 'warn' }, stdio: ['ignore', 'pipe', 'inherit'] });
  await waitFor(`${hub}/healthz`);
  token = await adminToken(hub, ADMIN_PASSWORD);
  // What the test does not click through: a second API the policy does not grant, and a viewer.
  await rest('POST', '/apis', { name: 'payroll', route: { path_prefix: '/payroll' },
    upstream: { targets: [{ url: `http://127.0.0.1:${upstream.address().port}` }] } });
  await rest('POST', '/users', { name: 'vera', display_name: 'Vera Viewer', role: 'viewer', password: PASSWORD });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
});

after(async () => {
  await browser?.close();
  gatehouse?.kill('SIGTERM');
  upstream?.closeAllConnections();
  upstream?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  assert.deepEqual(offLoopback, [], 'no request left loopback');
});

async function newPage() {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.route((url) => url.hostname !== '127.0.0.1', (route) => {
    offLoopback.push(route.request().url());
    return route.abort();
  });
  return context.newPage();
}

async function signIn(page, name, password) {
  await page.goto(`${hub}/dashboard/sign-in`);
  await page.getByLabel('User name').fill(name);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${hub}/dashboard`);
}

const shot = (page, name) => page.screenshot({ path: join(SHOTS, `dashboard-${name}.png`), fullPage: true });

async function publish(page, message) {
  await page.goto(`${hub}/dashboard/revisions`);
  await page.getByLabel('Message').fill(message);
  await page.getByRole('button', { name: 'Publish' }).click();
  await page.waitForURL(`${hub}/dashboard/revisions`);
  assert.match(await page.locator('table.grid tbody tr').first().innerText(), new RegExp(message));
}

async function call(method, path) {
  const response = await fetch(`${gateway}${path}`, { method, headers: { 'x-api-key': key } });
  await response.arrayBuffer();
  return response.status;
}

test('an admin builds access in the dashboard, publishes, and the by-user view is what the gateway enforces', async () => {
  const page = await newPage();
  await signIn(page, 'admin', ADMIN_PASSWORD);

  // An API, refused first with the message next to the field and the input kept.
  await page.getByRole('link', { name: 'APIs', exact: true }).click();
  await page.getByRole('link', { name: 'New API' }).click();
  await page.locator('#name').fill('petstore');
  await page.getByLabel('Description').fill('Pets, for the dashboard test.');
  await page.getByLabel('Path prefix').fill('pets-without-slash');
  await page.getByLabel('Targets').fill(`http://127.0.0.1:${upstream.address().port} 100`);
  await page.getByRole('button', { name: 'Create API' }).click();
  assert.match(await page.locator('#path_prefix-error').innerText(), /\//);
  assert.equal(await page.getByLabel('Description').inputValue(), 'Pets, for the dashboard test.');
  await shot(page, 'form-error');
  await page.getByLabel('Path prefix').fill('/pets');
  await page.getByLabel('Strip the prefix').check();
  await page.getByRole('button', { name: 'Create API' }).click();
  await page.waitForURL(`${hub}/dashboard/apis/petstore`);

  // A version with its OpenAPI document uploaded: a broken one is refused with the line.
  await page.getByRole('link', { name: 'New version' }).click();
  await page.locator('#name').fill('v1');
  await page.getByLabel('Selected by').selectOption('path');
  await page.getByLabel('Selector value').fill('v1');
  const broken = join(dataDir, 'broken.yaml');
  writeFileSync(broken, PETSTORE_OPENAPI.replace('paths:', 'paths: [oops'));
  await page.getByLabel('…or upload it').setInputFiles(broken);
  await page.getByRole('button', { name: 'Create version' }).click();
  assert.match(await page.locator('#openapi-error').innerText(), /line \d+/);
  const good = join(dataDir, 'petstore.yaml');
  writeFileSync(good, PETSTORE_OPENAPI);
  await page.getByLabel('…or upload it').setInputFiles(good);
  await page.getByRole('button', { name: 'Create version' }).click();
  await page.waitForURL(`${hub}/dashboard/apis/petstore`);

  // A group, a plan, a user in the group, and a policy.
  await page.goto(`${hub}/dashboard/groups/new`);
  await page.locator('#name').fill('support');
  await page.getByRole('button', { name: 'Create group' }).click();
  await page.goto(`${hub}/dashboard/plans/new`);
  await page.locator('#name').fill('support-plan');
  await page.locator('#rate_requests').fill('2,000');
  await page.getByLabel('Window, in seconds').fill('65');
  await page.getByRole('button', { name: 'Create plan' }).click();
  await page.waitForURL(`${hub}/dashboard/plans/support-plan`);
  await page.goto(`${hub}/dashboard/users/new`);
  await page.getByLabel('User name').fill('sam');
  await page.getByLabel('support', { exact: true }).check();
  await page.getByRole('button', { name: 'Create user' }).click();
  assert.match(await page.locator('#password-link').innerText(), /^\/password\/ghpl_/);
  await page.goto(`${hub}/dashboard/policies/new`);
  await page.locator('#name').fill('support-reads');
  await page.getByLabel('support', { exact: true }).check();
  await page.getByLabel('Plan').selectOption('support-plan');
  await page.getByRole('textbox', { name: /^Grants/ }).fill('petstore methods=GET,HEAD');
  await page.getByRole('button', { name: 'Create policy' }).click();
  await page.waitForURL(`${hub}/dashboard/policies/support-reads`);

  // Sam's key (made as the portal would), then the admin publishes.
  const application = await rest('POST', '/applications', { name: 'sam-tool', owner: 'sam' });
  key = (await rest('POST', `/applications/${application.id}/keys`, { name: 'test' })).secret;
  await page.goto(`${hub}/dashboard/revisions`);
  assert.ok((await page.locator('#pending li').count()) > 0, 'the changes wait to be published');
  await publish(page, 'support may read the pet store');
  await shot(page, 'revisions');
  assert.equal(await call('GET', '/pets/v1/pets'), 200);

  // The by-user view, checked against the gateway for each API and method.
  await page.goto(`${hub}/dashboard/access/users/sam`);
  await shot(page, 'access-by-user');
  const rows = await page.locator('#by-user tbody tr[data-api]').evaluateAll((trs) => trs.map((tr) => ({
    api: tr.dataset.api, version: tr.dataset.version,
    allowed: Object.fromEntries([...tr.querySelectorAll('td[data-method]')].map((td) => [td.dataset.method, td.dataset.allowed === 'true'])),
  })));
  assert.deepEqual(rows.map((row) => row.api).sort(), ['payroll', 'petstore']);
  const paths = { petstore: '/pets/v1/pets', payroll: '/payroll/anything' };
  let allowedSeen = 0;
  for (const row of rows) {
    for (const method of METHODS) {
      const status = await call(method, paths[row.api]);
      const allowed = row.allowed[method];
      allowedSeen += allowed ? 1 : 0;
      if (allowed) assert.equal(status, 200, `${row.api} ${method}: the view allows it, the gateway said ${status}`);
      else assert.equal(status, 403, `${row.api} ${method}: the view refuses it, the gateway said ${status}`);
    }
  }
  assert.equal(allowedSeen, 2, 'GET and HEAD on the pet store, nothing else');

  await page.goto(`${hub}/dashboard/access/apis/petstore`);
  assert.deepEqual(await page.locator('#by-api-users tbody tr').evaluateAll((trs) => trs.map((tr) => tr.dataset.holder)), ['sam']);
  await shot(page, 'access-by-api');

  // A second revision, and the diff between the two.
  await page.goto(`${hub}/dashboard/plans/support-plan`);
  await page.locator('#rate_requests').fill('20');
  await page.getByRole('button', { name: 'Save' }).click();
  // Before publishing, the revisions page says what the change does to access.
  await page.goto(`${hub}/dashboard/revisions`);
  assert.match(await page.locator('#impact').innerText(), /support-plan[\s\S]*2,000[\s\S]*20/);
  await shot(page, 'revisions-impact');
  await publish(page, 'lower the support plan');
  await page.getByRole('link', { name: 'diff' }).first().click();
  assert.match(await page.locator('main').innerText(), /changed plan support-plan/);
  assert.match(await page.locator('.diff').first().innerText(), /"requests": 2000[\s\S]*"requests": 20/);
  await shot(page, 'revision-diff');
});

test('a burst of calls shows in the API chart and the consumer chart with the counts sent', async () => {
  const page = await newPage();
  await signIn(page, 'admin', ADMIN_PASSWORD);
  const before = async (query) => {
    await page.goto(`${hub}/dashboard/analytics?${query}`);
    return page.locator('#requests-chart .point').evaluateAll((points) => points.reduce(
      (sum, point) => [sum[0] + Number(point.dataset.requests), sum[1] + Number(point.dataset.errors)], [0, 0]));
  };
  // What the first test sent is already there; count from it.
  await new Promise((done) => setTimeout(done, 2500));
  const [apiBefore, userBefore] = [await before('api=petstore'), await before('user=sam')];
  const allowed = 17; const refused = 4;
  for (let index = 0; index < allowed; index += 1) assert.equal(await call('GET', '/pets/v1/pets'), 200);
  for (let index = 0; index < refused; index += 1) assert.equal(await call('DELETE', '/pets/v1/pets'), 403);
  for (const [query, base] of [['api=petstore', apiBefore], ['user=sam', userBefore]]) {
    let totals = [0, 0];
    for (let attempt = 0; attempt < 30; attempt += 1) {
      totals = await before(query);
      if (totals[0] >= base[0] + allowed + refused) break;
      await new Promise((done) => setTimeout(done, 500));
    }
    assert.deepEqual(totals, [base[0] + allowed + refused, base[1] + refused], `${query}: the chart's bars add up to the burst`);
    assert.equal(await page.locator('#total-requests').innerText(), String(totals[0]));
  }
  // The key's and the application's last use come from the same summaries.
  await page.goto(`${hub}/dashboard/keys`);
  assert.match(await page.locator('section.panel h2').first().innerText(), /sam-tool[\s\S]*last call \d{4}-/);
  assert.match(await page.locator('td.last-used').first().innerText(), /^\d{4}-\d{2}-\d{2} /);
  await shot(page, 'keys');
  await page.goto(`${hub}/dashboard/analytics?api=petstore`);
  await shot(page, 'analytics-api');
  await page.goto(`${hub}/dashboard/analytics?user=sam`);
  await shot(page, 'analytics-consumer');
  await page.goto(`${hub}/dashboard`);
  await shot(page, 'overview');
});

test('a viewer sees every page without buttons, and a crafted form post is refused with 403', async () => {
  const page = await newPage();
  await signIn(page, 'vera', PASSWORD);
  const links = await page.locator('nav.side a').evaluateAll((anchors) => anchors.map((anchor) => anchor.getAttribute('href')));
  assert.equal(links.length, 13, links.join(" "));
  for (const link of [...links, '/dashboard/apis/petstore', '/dashboard/plans/support-plan', '/dashboard/users/sam', '/dashboard/policies/support-reads']) {
    const response = await page.goto(`${hub}${link}`);
    assert.equal(response.status(), 200, link);
    for (const name of ['New API', 'New group', 'New plan', 'New user', 'New policy', 'Publish', 'Delete', 'Revoke', 'Save', 'Roll back']) {
      assert.equal(await page.getByRole('button', { name }).count(), 0, `${link} shows the ${name} button`);
      assert.equal(await page.getByRole('link', { name, exact: true }).count(), 0, `${link} links to ${name}`);
    }
  }
  await page.goto(`${hub}/dashboard/plans/support-plan`);
  await shot(page, 'viewer-plan');
  const csrf = await page.locator('input[name="csrf"]').first().inputValue();
  for (const [path, form] of [
    ['/dashboard/plans/support-plan', { csrf, rate_requests: '1000000', window_seconds: '1' }],
    ['/dashboard/revisions/publish', { csrf, message: 'a viewer publishing' }],
    ['/dashboard/apis/petstore/delete', { csrf }],
  ]) {
    const response = await page.request.post(`${hub}${path}`, { form, maxRedirects: 0 });
    assert.equal(response.status(), 403, path);
    assert.match(await response.text(), /admin/);
  }
  const plan = await rest('GET', '/plans/support-plan');
  assert.equal(plan.rate_limit.requests, 20, 'the crafted post changed nothing');
});
