// CORS from a real browser: headless Chromium loads a page from one loopback origin whose script
// calls the gateway (the real binary, `gatehouse gateway --snapshot`) on another. The allowed
// origin reads the JSON, including after a preflighted PUT with a custom header; another origin's
// fetch is blocked by the browser (its preflight refused by the gateway, which the metrics show),
// and so is a simple GET, for want of CORS headers.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';

import { chromium } from 'playwright-core';

import { CHROMIUM, CHROMIUM_ARGS, freePort, waitFor } from './support.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const BINARY = process.env.GATEHOUSE_BIN ?? join(ROOT, 'target/debug/gatehouse');
const KEY = 'ghk_browser_cors_key';

let upstream; let gatehouse; let browser; let dataDir; let gateway; let gatewayAdmin;
const pages = {};
const offLoopback = [];
const seen = []; // what reached the upstream: method and origin

// A page server: its origin is what the browser sends in `Origin`.
async function pageServer() {
  const server = createServer((request, response) => {
    response.setHeader('content-type', 'text/html');
    response.end('<!doctype html><title>app</title><p>app</p>');
  });
  await new Promise((done) => server.listen(0, '127.0.0.1', done));
  return { server, origin: `http://127.0.0.1:${server.address().port}` };
}

before(async () => {
  upstream = createServer((request, response) => {
    seen.push({ method: request.method, origin: request.headers.origin });
    response.setHeader('content-type', 'application/json');
    response.setHeader('x-upstream', 'pets');
    response.end(JSON.stringify({ method: request.method, served: request.url, custom: request.headers['x-custom'] ?? null }));
  });
  await new Promise((done) => upstream.listen(0, '127.0.0.1', done));
  pages.allowed = await pageServer();
  pages.other = await pageServer();
  const [gatewayPort, adminPort] = await Promise.all([freePort(), freePort()]);
  gateway = `http://127.0.0.1:${gatewayPort}`;
  gatewayAdmin = `http://127.0.0.1:${adminPort}`;
  dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-cors-'));
  const snapshot = {
    format: 1,
    apis: [{
      name: 'pets', path_prefix: '/pets', strip_prefix: true,
      upstream: { targets: [{ url: `http://127.0.0.1:${upstream.address().port}` }] },
      edge: { cors: {
        allow_origins: [pages.allowed.origin],
        allow_methods: ['GET', 'PUT'],
        allow_headers: ['x-api-key', 'x-custom', 'content-type'],
        expose_headers: ['x-upstream'],
        max_age_seconds: 60,
      } },
    }],
    plans: [{ name: 'unlimited' }],
    consumers: [{ key_hash: createHash('sha256').update(KEY).digest('hex'), key_id: 'key_browser', user: 'alice', application: 'alice/web', groups: ['staff'] }],
    access_rules: [{ policy: 'staff-pets', groups: ['staff'], api: 'pets', plan: 'unlimited' }],
  };
  const file = join(dataDir, 'snapshot.json');
  writeFileSync(file, JSON.stringify(snapshot));
  gatehouse = spawn(BINARY, ['gateway', '--snapshot', file, '--data-dir', join(dataDir, 'data'),
    '--gateway-listen', `127.0.0.1:${gatewayPort}`, '--gateway-admin-listen', `127.0.0.1:${adminPort}`],
  { env: { ...process.env, GATEHOUSE_LOG: 'warn' }, stdio: ['ignore', 'inherit', 'inherit'] });
  await waitFor(`${gatewayAdmin}/readyz`);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
});

after(async () => {
  await browser?.close();
  gatehouse?.kill('SIGTERM');
  for (const server of [upstream, pages.allowed?.server, pages.other?.server]) {
    server?.closeAllConnections();
    server?.close();
  }
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  assert.deepEqual(offLoopback, [], 'no request left loopback');
});

// A page on `origin`; `call(init)` runs fetch in it and returns what the script saw.
async function pageOn(origin) {
  const context = await browser.newContext();
  // Watched, not routed: with request interception on, Playwright answers CORS preflights itself,
  // and the browser's own CORS (what this test is about) would not be exercised.
  context.on('request', (request) => {
    if (new URL(request.url()).hostname !== '127.0.0.1') offLoopback.push(request.url());
  });
  const page = await context.newPage();
  await page.goto(`${origin}/`);
  const call = (path, init) => page.evaluate(async ({ url, init }) => {
    try {
      const response = await fetch(url, init);
      return { status: response.status, upstream: response.headers.get('x-upstream'), body: await response.json() };
    } catch (error) {
      return { blocked: String(error) };
    }
  }, { url: `${gateway}${path}`, init });
  return { call, close: () => context.close() };
}

test('the allowed origin reads the JSON, a refusal included', async () => {
  const page = await pageOn(pages.allowed.origin);
  const got = await page.call('/pets/list', { headers: { 'x-api-key': KEY } });
  assert.equal(got.status, 200, JSON.stringify(got));
  assert.deepEqual(got.body, { method: 'GET', served: '/list', custom: null });
  assert.equal(got.upstream, 'pets', 'an exposed header is readable');
  // Without a key: the gateway's 401 problem carries CORS headers, so the page can read why.
  const refused = await page.call('/pets/list', {});
  assert.equal(refused.status, 401);
  assert.equal(refused.body.rule, 'credentials_missing');
  await page.close();
});

test('a preflighted PUT with a custom header works for the allowed origin', async () => {
  const page = await pageOn(pages.allowed.origin);
  const got = await page.call('/pets/items/7', {
    method: 'PUT',
    headers: { 'x-api-key': KEY, 'x-custom': 'hello', 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'Rex' }),
  });
  assert.equal(got.status, 200, JSON.stringify(got));
  assert.deepEqual(got.body, { method: 'PUT', served: '/items/7', custom: 'hello' });
  await page.close();
  const metrics = await (await fetch(`${gatewayAdmin}/metrics`)).text();
  assert.match(metrics, /http_request_method="OPTIONS",http_response_status_code="204"/, 'the gateway answered the preflight');
  assert.ok(!seen.some((request) => request.method === 'OPTIONS'), 'the upstream never saw a preflight');
});

test('another origin is blocked by the browser', async () => {
  const page = await pageOn(pages.other.origin);
  const preflighted = await page.call('/pets/items/7', { method: 'PUT', headers: { 'x-api-key': KEY } });
  assert.ok(preflighted.blocked, JSON.stringify(preflighted));
  const simple = await page.call('/pets/list', {});
  assert.ok(simple.blocked, `no CORS headers, so the browser hides the answer: ${JSON.stringify(simple)}`);
  await page.close();
  const metrics = await (await fetch(`${gatewayAdmin}/metrics`)).text();
  assert.match(metrics, /gatehouse_refusal="cors_origin_denied"/, 'the gateway refused the preflight');
  assert.ok(!seen.some((request) => request.method === 'PUT' && request.origin === pages.other.origin),
    'the PUT itself was never sent');
});
