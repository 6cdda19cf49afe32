// The jwt-rotate demo page. The access token lives in this closure only:
// never in localStorage or a readable cookie, where an injected script or a
// stolen disk could take it. The refresh token is an HttpOnly cookie the
// script never sees; POST /auth/refresh spends it and sets the next one.
//
// DPoP mode (open the page as /?dpop): the session is bound to a P-256 key
// made here with WebCrypto, not extractable, kept in IndexedDB; login,
// every refresh and every API call carry a proof signed by it (RFC 9449).
// A copy of the cookie or of the access token is then useless elsewhere;
// a script injected into this page could still use the key, not take it.
'use strict';
(() => {
  const LOCK_NAME = 'jwt-rotate-refresh';
  const RETRY_MS = 5000;
  const DPOP_MODE = new URLSearchParams(location.search).has('dpop');
  const DB_NAME = 'jwt-rotate-dpop';
  const DB_STORE = 'keys';

  let access = null;   // { token, type, expiresAt } with expiresAt in ms, this clock
  let dpopKey = null;  // { privateKey (not extractable), jwk (public) } in DPoP mode
  let dpopNonce = null; // the server's latest DPoP-Nonce, if it asks for nonces
  let inflight = null; // the refresh under way in this page, shared by callers
  let renewTimer = 0;
  let renewals = 0;

  const $ = (id) => document.getElementById(id);

  class LoggedOut extends Error {}

  function show(state) {
    document.body.dataset.state = state;
    $('login-view').hidden = state !== 'logged-out';
    $('app-view').hidden = state !== 'logged-in';
  }

  function status(text) {
    $('status').textContent = text;
  }

  function accept(body) {
    const type = body.token_type === 'DPoP' ? 'DPoP' : 'Bearer';
    access = { token: body.access_token, type, expiresAt: Date.now() + body.expires_in * 1000 };
    $('token-type').textContent = type;
    $('expires-in').dataset.expiresAt = String(access.expiresAt);
    scheduleRenewal(body.expires_in * 1000);
    tick();
  }

  // Renew a third of the lifetime early (at most a minute), so calls never
  // meet an expired token while the page is open. A 401 still triggers a
  // renewal, for the cases a timer misses (a sleeping laptop).
  function scheduleRenewal(lifetimeMs) {
    clearTimeout(renewTimer);
    const lead = Math.min(60000, lifetimeMs / 3);
    renewTimer = setTimeout(() => refresh().catch(() => {}), Math.max(0, lifetimeMs - lead));
  }

  function loggedOut() {
    access = null;
    clearTimeout(renewTimer);
    $('expires-in').dataset.expiresAt = '0';
    show('logged-out');
  }

  // Single flight. Each refresh spends the cookie's token, so two at once
  // would present one token twice. In this page, concurrent callers share
  // one promise; across tabs, a Web Lock makes the next tab wait and then
  // rotate the token the first one left in the cookie. (Without Web Locks,
  // the server's grace window hands racing tabs the same new token.)
  function refresh() {
    if (!inflight) {
      const run = () => refreshNow();
      const locked = navigator.locks ? navigator.locks.request(LOCK_NAME, run) : run();
      inflight = locked.finally(() => { inflight = null; });
    }
    return inflight;
  }

  // Resolves true when renewed, false when the session is gone (401);
  // rejects when the server could not tell (503, network): the cookie is
  // still good, so try again later rather than logging out.
  async function refreshNow() {
    let res;
    try {
      res = await send('/auth/refresh', { method: 'POST' }, null);
    } catch (err) {
      retryLater('Network error while renewing; retrying.');
      throw err;
    }
    if (res.ok) {
      accept(await res.json());
      renewals += 1;
      $('refresh-count').textContent = String(renewals);
      status('');
      return true;
    }
    if (res.status === 401) {
      loggedOut();
      return false;
    }
    retryLater('The server cannot renew the session right now; retrying.');
    throw new Error('refresh failed: ' + res.status);
  }

  function retryLater(text) {
    status(text);
    clearTimeout(renewTimer);
    renewTimer = setTimeout(() => refresh().catch(() => {}), RETRY_MS);
  }

  // An API call with the access token; on a 401, one renewal and one retry.
  async function api(path, init = {}) {
    if (!access && !(await refresh())) throw new LoggedOut();
    const used = access.token;
    let res = await call(path, init, used);
    if (res.status !== 401) return res;
    // Another call may have renewed already: only refresh if the token
    // that failed is still the current one.
    if (access && access.token === used) {
      if (!(await refresh())) throw new LoggedOut();
    } else if (!access) {
      throw new LoggedOut();
    }
    res = await call(path, init, access.token);
    if (res.status === 401) {
      loggedOut();
      throw new LoggedOut();
    }
    return res;
  }

  function call(path, init, token) {
    return send(path, init, { token, type: access ? access.type : 'Bearer' });
  }

  // One request: with the access token (`auth`: { token, type }) if any,
  // and in DPoP mode with a proof for it (`ath` for a DPoP token). A 401
  // that brings a DPoP-Nonce is the server asking for its nonce: one
  // retry with a new proof that carries it.
  async function send(path, init, auth) {
    for (let attempt = 0; ; attempt += 1) {
      const headers = Object.assign({}, init.headers);
      if (auth) headers.Authorization = auth.type + ' ' + auth.token;
      if (dpopKey && (!auth || auth.type === 'DPoP')) {
        headers.DPoP = await proof(init.method || 'GET', path, auth && auth.token);
      }
      const res = await fetch(path, Object.assign({}, init, { headers, credentials: 'same-origin' }));
      const nonce = res.headers.get('DPoP-Nonce');
      if (nonce) dpopNonce = nonce;
      if (res.status === 401 && nonce && dpopKey && attempt === 0) continue;
      return res;
    }
  }

  // ---- DPoP: the key, in IndexedDB; proofs signed with it. ----

  function b64url(bytes) {
    let text = '';
    for (const b of new Uint8Array(bytes)) text += String.fromCharCode(b);
    return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  const utf8 = (text) => new TextEncoder().encode(text);

  function database() {
    return new Promise((resolve, reject) => {
      const open = indexedDB.open(DB_NAME, 1);
      open.onupgradeneeded = () => open.result.createObjectStore(DB_STORE);
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
  }

  async function keyStore(mode, use) {
    const db = await database();
    try {
      return await new Promise((resolve, reject) => {
        const tx = db.transaction(DB_STORE, mode);
        const req = use(tx.objectStore(DB_STORE));
        tx.oncomplete = () => resolve(req.result);
        tx.onerror = () => reject(tx.error);
      });
    } finally {
      db.close();
    }
  }

  const loadKey = () => keyStore('readonly', (store) => store.get('current'));
  const saveKey = (key) => keyStore('readwrite', (store) => store.put(key, 'current'));
  const dropKey = () => keyStore('readwrite', (store) => store.delete('current'));

  // A new key for a new session: the private half cannot be exported, by
  // this script or any other; the browser keeps it in IndexedDB as an
  // opaque CryptoKey.
  async function newKey() {
    const pair = await crypto.subtle.generateKey(
      { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
    const { kty, crv, x, y } = await crypto.subtle.exportKey('jwk', pair.publicKey);
    const key = { privateKey: pair.privateKey, jwk: { kty, crv, x, y } };
    await saveKey(key);
    return key;
  }

  // A DPoP proof (RFC 9449, section 4.2) for `method` `path` on this
  // origin: ES256 over header and claims; WebCrypto's ECDSA signature is
  // already JWS's r || s.
  async function proof(method, path, token) {
    const header = { typ: 'dpop+jwt', alg: 'ES256', jwk: dpopKey.jwk };
    const claims = {
      jti: b64url(crypto.getRandomValues(new Uint8Array(16))),
      htm: method,
      htu: location.origin + path.split('?')[0],
      iat: Math.floor(Date.now() / 1000),
    };
    if (token) claims.ath = b64url(await crypto.subtle.digest('SHA-256', utf8(token)));
    if (dpopNonce) claims.nonce = dpopNonce;
    const input = b64url(utf8(JSON.stringify(header))) + '.' + b64url(utf8(JSON.stringify(claims)));
    const signature = await crypto.subtle.sign(
      { name: 'ECDSA', hash: 'SHA-256' }, dpopKey.privateKey, utf8(input));
    return input + '.' + b64url(signature);
  }

  async function json(res) {
    const body = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(body.error || 'HTTP ' + res.status);
    return body;
  }

  function report(err) {
    if (!(err instanceof LoggedOut)) status('Error: ' + err.message);
  }

  function tick() {
    const el = $('expires-in');
    const left = access ? Math.ceil((access.expiresAt - Date.now()) / 1000) : 0;
    el.textContent = !access ? '–' : left > 0 ? left + ' s' : 'expired';
  }

  function time(unix) {
    return new Date(unix * 1000).toLocaleString();
  }

  async function loadMe() {
    const me = await json(await api('/me'));
    $('who').textContent = me.sub;
    $('me-output').textContent = JSON.stringify(me, null, 2);
    return me;
  }

  async function loadSessions() {
    const sessions = await json(await api('/sessions'));
    const rows = sessions.map((s) => {
      const tr = document.createElement('tr');
      tr.dataset.sessionId = s.id;
      tr.dataset.current = String(s.current);
      // textContent only: user agents are whatever the client sent.
      for (const text of [s.user_agent || 'unknown device', s.ip || '', time(s.created_at), time(s.refreshed_at)]) {
        const td = document.createElement('td');
        td.textContent = text;
        tr.appendChild(td);
      }
      tr.firstChild.className = 'agent';
      const action = document.createElement('td');
      if (s.current) {
        const badge = document.createElement('span');
        badge.className = 'badge';
        badge.textContent = 'this page';
        action.appendChild(badge);
      } else {
        const button = document.createElement('button');
        button.className = 'danger revoke';
        button.type = 'button';
        button.textContent = 'Revoke';
        button.addEventListener('click', () => revoke(s.id).catch(report));
        action.appendChild(button);
      }
      tr.appendChild(action);
      return tr;
    });
    $('sessions').replaceChildren(...rows);
  }

  async function revoke(id) {
    const res = await api('/sessions/' + encodeURIComponent(id), { method: 'DELETE' });
    if (!res.ok) await json(res);
    await loadSessions();
  }

  async function enter() {
    show('logged-in');
    await loadMe();
    await loadSessions();
  }

  async function login(event) {
    event.preventDefault();
    $('login-error').textContent = '';
    if (DPOP_MODE) dpopKey = await newKey();
    const res = await send('/auth/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: $('username').value, password: $('password').value }),
    }, null);
    if (res.status === 401) {
      $('login-error').textContent = 'Wrong username or password.';
      return;
    }
    if (res.status === 429 || res.status === 503) {
      $('login-error').textContent = tryAgain(res);
      return;
    }
    accept(await json(res));
    $('password').value = '';
    await enter();
  }

  // Too many wrong passwords (429), or every password check busy (503):
  // the server says when to try again.
  function tryAgain(res) {
    const seconds = Number(res.headers.get('Retry-After')) || 1;
    return res.status === 429
      ? 'Too many attempts; try again in ' + seconds + ' s.'
      : 'The server is busy; try again in ' + seconds + ' s.';
  }

  // A 401 means the cookies held no session to end (already over, or not
  // ours): this page is logged out all the same. Any other failure ended
  // nothing for sure, so the page stays and says so.
  async function logout() {
    const res = await fetch('/auth/logout', { method: 'POST', credentials: 'same-origin' });
    if (!res.ok && res.status !== 401) {
      status('Could not log out (HTTP ' + res.status + '); try again.');
      return;
    }
    status('');
    loggedOut();
    // The session is over: its key is of no more use.
    if (dpopKey) {
      dpopKey = null;
      await dropKey();
    }
  }

  async function logoutOthers() {
    const body = await json(await api('/auth/logout-others', { method: 'POST' }));
    status(body.revoked + ' other session(s) logged out.');
    await loadSessions();
  }

  async function changePassword(event) {
    event.preventDefault();
    const res = await api('/auth/password', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        current_password: $('current-password').value,
        new_password: $('new-password').value,
      }),
    });
    const body = await res.json().catch(() => ({}));
    $('password-result').textContent = res.ok
      ? 'Password changed; ' + body.revoked + ' other session(s) logged out.'
      : body.error === 'invalid_credentials' ? 'The current password is wrong.'
      : body.error === 'weak_password' ? 'The new password needs at least 8 characters.'
      : res.status === 429 || res.status === 503 ? tryAgain(res)
      : 'Error: ' + (body.error || res.status);
    if (res.ok) {
      $('password-form').reset();
      await loadSessions();
    }
  }

  $('login-form').addEventListener('submit', (e) => login(e).catch(report));
  $('logout-button').addEventListener('click', () => logout().catch(report));
  $('renew-button').addEventListener('click', () => refresh().catch(report));
  $('me-button').addEventListener('click', () => loadMe().catch(report));
  $('sessions-button').addEventListener('click', () => loadSessions().catch(report));
  $('logout-others-button').addEventListener('click', () => logoutOthers().catch(report));
  $('password-form').addEventListener('submit', (e) => changePassword(e).catch(report));
  setInterval(tick, 250);

  // DPoP mode: the key of the session the cookie may still hold.
  document.body.dataset.dpop = DPOP_MODE ? 'on' : 'off';
  $('dpop-mode').textContent = DPOP_MODE ? 'on: proofs signed by a key this page cannot export' : 'off (open /?dpop)';
  const ready = DPOP_MODE ? loadKey().then((key) => { dpopKey = key || null; }) : Promise.resolve();

  // A new tab or a reload: the cookie may still hold a live session.
  ready
    .then(() => refresh())
    .then((renewed) => (renewed ? enter() : loggedOut()))
    .catch(report);
})();
