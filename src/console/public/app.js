// Console entry: login, the top bar, switching between the inbox and the admin views, and the
// live stream that keeps whatever is on screen current.

import { renderAgents, renderDeadLetters } from './admin.js';
import { ApiError, api, followStream, handleUnauthorized, session } from './api.js';
import { h, replace } from './dom.js';
import { Inbox } from './inbox.js';

const root = document.getElementById('app');
let stopStream = () => {};

handleUnauthorized(() => {
  session.token = null;
  stopStream();
  showLogin('Your session ended; please log in again.');
});

function showLogin(notice) {
  document.title = 'Log in · Switchboard console';
  const error = h('p.error', { role: 'alert' }, notice ?? '');
  const username = h('input', {
    id: 'login-username',
    name: 'username',
    autocomplete: 'username',
    required: true,
  });
  const password = h('input', {
    id: 'login-password',
    name: 'password',
    type: 'password',
    autocomplete: 'current-password',
    required: true,
  });
  const token = h('input', { id: 'login-token', name: 'token', type: 'password', autocomplete: 'off' });
  const submit = async (body, button) => {
    button.disabled = true;
    error.textContent = '';
    try {
      const res = await api('POST', '/login', body);
      session.token = res.token;
      start(res.agent);
    } catch (err) {
      error.textContent = err instanceof ApiError ? err.message : 'Cannot reach the hub.';
      button.disabled = false;
    }
  };
  const loginButton = h('button.primary', { type: 'submit' }, 'Log in');
  const tokenButton = h('button', { type: 'submit' }, 'Log in with token');
  replace(
    root,
    h(
      'main.login',
      {},
      h('h1', {}, 'Switchboard console'),
      h(
        'form.card',
        {
          onsubmit: (e) =>
            e.preventDefault() ?? submit({ username: username.value, password: password.value }, loginButton),
        },
        h('label', { htmlFor: 'login-username' }, 'Agent name'),
        username,
        h('label', { htmlFor: 'login-password' }, 'Password'),
        password,
        loginButton,
      ),
      h(
        'details.card',
        {},
        h('summary', {}, 'Administrator: use the ADMIN_TOKEN'),
        h(
          'form',
          { onsubmit: (e) => e.preventDefault() ?? submit({ admin_token: token.value }, tokenButton) },
          h('label', { htmlFor: 'login-token' }, 'Admin token'),
          token,
          tokenButton,
        ),
      ),
      error,
    ),
  );
  username.focus();
}

function start(agent) {
  const views = {
    inbox: 'Conversations',
    ...(agent.role === 'admin' ? { dlq: 'Dead letters', agents: 'Agents' } : {}),
  };
  const status = h('span.live', { role: 'status' }, 'connecting…');
  const main = h('main.view', { id: 'main' });
  const nav = h('nav.top-nav', { 'aria-label': 'Console sections' });
  const inbox = new Inbox(agent);

  const show = (view) => {
    for (const button of nav.querySelectorAll('button'))
      button.setAttribute('aria-current', button.dataset.view === view ? 'page' : 'false');
    if (view === 'inbox') replace(main, inbox.element);
    else if (view === 'dlq') renderDeadLetters(main);
    else if (view === 'agents') renderAgents(main, agent);
    document.title = `${views[view]} · Switchboard console`;
  };
  for (const [view, label] of Object.entries(views)) {
    nav.append(h('button.tab', { type: 'button', dataset: { view }, onclick: () => show(view) }, label));
  }
  const logout = async () => {
    stopStream();
    await api('POST', '/logout').catch(() => {});
    session.token = null;
    showLogin();
  };
  replace(
    root,
    h(
      'header.topbar',
      {},
      h('span.brand', {}, 'Switchboard'),
      nav,
      status,
      h('span.who', {}, `${agent.name} · ${agent.role}`),
      h('button.link', { type: 'button', onclick: logout }, 'Log out'),
    ),
    main,
  );
  show('inbox');
  stopStream = followStream(
    (name, data) => {
      if (name === 'ready') inbox.refresh();
      else if (name === 'conversation') inbox.onEvent(data);
    },
    (state) => {
      status.textContent = state === 'live' ? 'live' : 'reconnecting…';
      status.classList.toggle('offline', state !== 'live');
    },
  );
}

async function boot() {
  if (!session.token) return showLogin();
  try {
    const { agent } = await api('GET', '/me');
    start(agent);
  } catch {
    session.token = null;
    showLogin();
  }
}

boot();
