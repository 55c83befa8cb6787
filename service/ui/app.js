// The console's core: the API key for this tab, calls to the daemon's REST API, the router and
// auto-refresh. Views (views.js) and charts (charts.js) build the pages.
//
// The key is kept in sessionStorage (this tab only), sent as "Authorization: Bearer", and never
// put in a URL, the page or a log. Any 401 ends the session and shows the login again. Data is
// always placed with textContent, never parsed as HTML.
'use strict';

window.CD = window.CD || {};

(function (CD) {
  const KEY_SLOT = 'certdeploy.apiKey';
  const REFRESH_MS = 4000;
  let me = null;          // {name, scopes} of the signed-in key.
  let timer = null;
  let current = null;     // {refresh(), live()} of the view on screen.

  // Creates an element: el('td', {class: 'mono', title: t}, 'text' | node | [children]).
  CD.el = function (tag, attrs, children) {
    const svg = ['svg', 'g', 'rect', 'line', 'polyline', 'text', 'title'].includes(tag);
    const node = svg ? document.createElementNS('http://www.w3.org/2000/svg', tag)
                     : document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? '' : String(v));
    }
    const add = (c) => {
      if (c === undefined || c === null || c === false) return;
      if (Array.isArray(c)) c.forEach(add);
      else node.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
    };
    add(children);
    return node;
  };

  CD.can = (scope) => !!me && me.scopes.includes(scope);

  // An API error, with the problem+json detail when the daemon sent one.
  class ApiError extends Error {
    constructor(status, detail) {
      super(detail || ('HTTP ' + status));
      this.status = status;
    }
  }
  CD.ApiError = ApiError;

  // Calls the daemon (same origin only: `path` starts with "/"). JSON in, JSON out.
  CD.api = async function (path, method) {
    const key = sessionStorage.getItem(KEY_SLOT);
    if (!key || !path.startsWith('/')) throw new ApiError(401, 'not signed in');
    const resp = await fetch(path, {
      method: method || 'GET',
      headers: {Authorization: 'Bearer ' + key, Accept: 'application/json'},
      cache: 'no-store',
      credentials: 'omit',
      redirect: 'error',
    });
    let body = null;
    try { body = await resp.json(); } catch (e) { body = null; }
    if (resp.status === 401) {
      signOut('The daemon refused the key (401). Sign in again.');
      throw new ApiError(401, 'signed out');
    }
    if (!resp.ok) throw new ApiError(resp.status, body && body.detail);
    return body;
  };

  CD.say = function (text) {
    document.getElementById('status-line').textContent = text || '';
  };

  function show(signedIn) {
    document.getElementById('login').hidden = signedIn;
    document.getElementById('main').hidden = !signedIn;
    document.getElementById('nav').hidden = !signedIn;
    document.getElementById('who').hidden = !signedIn;
  }

  function signOut(message) {
    sessionStorage.removeItem(KEY_SLOT);
    me = null;
    stopTimer();
    current = null;
    document.getElementById('view').replaceChildren();
    document.getElementById('api-key').value = '';
    document.getElementById('login-error').textContent = message || '';
    show(false);
    document.getElementById('api-key').focus();
  }

  async function signIn(key) {
    sessionStorage.setItem(KEY_SLOT, key);
    try {
      me = await CD.api('/v1/me');
    } catch (e) {
      if (e.status !== 401) {
        sessionStorage.removeItem(KEY_SLOT);
        document.getElementById('login-error').textContent = 'Sign-in failed: ' + e.message;
      }
      return;
    }
    document.getElementById('key-name').textContent =
        'Key: ' + me.name + ' (' + me.scopes.join(', ') + ')';
    document.getElementById('login-error').textContent = '';
    show(true);
    route();
  }

  function stopTimer() {
    if (timer) clearInterval(timer);
    timer = null;
  }

  // Re-reads the view's data every few seconds while it says something runs.
  function startTimer() {
    stopTimer();
    timer = setInterval(async () => {
      if (!current || !current.live() || document.hidden) return;
      try { await current.refresh(); } catch (e) { CD.say('Refresh failed: ' + e.message); }
    }, REFRESH_MS);
  }

  async function route() {
    if (!me) return;
    const hash = location.hash || '#/rollouts';
    const parts = hash.slice(2).split('/').map(decodeURIComponent);
    const section = parts[0] || 'rollouts';
    for (const a of document.querySelectorAll('#nav a')) {
      if (a.dataset.section === section) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    const view = document.getElementById('view');
    view.replaceChildren();
    CD.say('');
    const make = {
      rollouts: () => parts[1] ? CD.views.rollout(view, parts[1]) : CD.views.rollouts(view),
      enrollments: () => CD.views.enrollments(view),
      certificates: () => CD.views.certificates(view),
      throughput: () => CD.views.throughput(view),
    }[section] || (() => CD.views.rollouts(view));
    current = make();
    try {
      await current.refresh();
    } catch (e) {
      if (e.status !== 401) CD.say('Could not load: ' + e.message);
    }
    startTimer();
  }

  document.addEventListener('DOMContentLoaded', () => {
    document.getElementById('login-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const input = document.getElementById('api-key');
      const key = input.value.trim();
      input.value = '';
      if (key) signIn(key);
    });
    document.getElementById('logout').addEventListener('click', () => signOut(''));
    window.addEventListener('hashchange', route);
    if (sessionStorage.getItem(KEY_SLOT)) {
      signIn(sessionStorage.getItem(KEY_SLOT));
    } else {
      show(false);
    }
  });
})(window.CD);
