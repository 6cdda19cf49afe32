// The jwt-rotate demo page. The access token lives in this closure only:
// never in localStorage or a readable cookie, where an injected script or a
// stolen disk could take it. The refresh token is an HttpOnly cookie the
// script never sees; POST /auth/refresh spends it and sets the next one.
'use strict';
(() => {
  const LOCK_NAME = 'jwt-rotate-refresh';
  const RETRY_MS = 5000;

  let access = null;   // { token, expiresAt } with expiresAt in ms, this clock
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
    access = { token: body.access_token, expiresAt: Date.now() + body.expires_in * 1000 };
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
      res = await fetch('/auth/refresh', { method: 'POST', credentials: 'same-origin' });
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
    const headers = Object.assign({}, init.headers, { Authorization: 'Bearer ' + token });
    return fetch(path, Object.assign({}, init, { headers, credentials: 'same-origin' }));
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
    const res = await fetch('/auth/login', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: $('username').value, password: $('password').value }),
    });
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

  // A new tab or a reload: the cookie may still hold a live session.
  refresh()
    .then((renewed) => (renewed ? enter() : loggedOut()))
    .catch(report);
})();
