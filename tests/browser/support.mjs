// What the browser tests share: free ports, waiting for a server, and the Chromium they drive.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';

export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

// A port free on loopback now (the server started next binds it).
export function freePort() {
  return new Promise((done) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => done(port));
    });
  });
}

// Waits until `url` answers 2xx, for up to 15 s.
export async function waitFor(url) {
  for (let attempt = 0; attempt < 150; attempt += 1) {
    try {
      if ((await fetch(url)).ok) return;
    } catch { /* not up yet */ }
    await new Promise((done) => setTimeout(done, 100));
  }
  throw new Error(`${url} did not come up`);
}

// An admin token for the hub at `hub`, issued with the first admin's password.
export async function adminToken(hub, password) {
  const basic = Buffer.from(`admin:${password}`).toString('base64');
  const issued = await fetch(`${hub}/api/v1/admin-tokens`, {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'browser-test', role: 'admin' }),
  });
  return (await issued.json()).secret;
}

// A caller of the hub's admin API with a bearer token: `call(method, path, body)` asserts a 2xx
// and returns the parsed JSON (or null for an empty body).
export function adminApi(hub, token) {
  return async (method, path, body) => {
    const response = await fetch(`${hub()}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${token()}`, 'content-type': 'application/json' },
      body: body && JSON.stringify(body),
    });
    const text = await response.text();
    assert.ok(response.ok, `${method} ${path}: ${response.status} ${text}`);
    return text ? JSON.parse(text) : null;
  };
}
