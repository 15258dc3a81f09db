// Admin views: dead letters (with replay) and agents (create, disable, reset password).
import { ApiError, api } from './api.js';
import { h, replace, time } from './dom.js';

export async function renderDeadLetters(main) {
  const status = h('p.notice', { role: 'status' });
  const body = h('tbody');
  const table = h(
    'table.grid',
    {},
    h('caption', {}, 'Messages that failed every attempt. Replay puts them back on their queue.'),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ['Kind', 'Conversation', 'Error', 'Attempts', 'Failed', ''].map((t) => h('th', { scope: 'col' }, t)),
      ),
    ),
    body,
  );
  const replay = async (ids) => {
    status.textContent = 'Replaying…';
    try {
      const res = await api('POST', '/dlq/replay', ids ? { ids } : { all: true });
      status.textContent = `Replayed ${res.replayed}.`;
    } catch (err) {
      status.textContent = err.message;
    }
    await load();
  };
  const load = async () => {
    try {
      const { dead_letters: entries, total } = await api('GET', '/dlq?limit=200');
      replace(
        body,
        entries.length === 0
          ? h('tr', {}, h('td.empty', { colSpan: 6 }, 'No dead letters. Everything was delivered.'))
          : entries.map((d) =>
              h(
                'tr',
                {},
                h('td', {}, d.kind),
                h('td', {}, h('code', {}, d.conversationId)),
                h('td.error', {}, d.error),
                h('td', {}, String(d.attempts)),
                h('td', {}, time(d.failedAt)),
                h('td', {}, h('button', { type: 'button', onclick: () => replay([d.id]) }, 'Replay')),
              ),
            ),
      );
      count.textContent = `${total} dead letter${total === 1 ? '' : 's'}`;
      all.disabled = total === 0;
    } catch (err) {
      status.textContent = err.message;
    }
  };
  const count = h('span.count-text');
  const all = h('button.primary', { type: 'button', onclick: () => replay(null) }, 'Replay all');
  replace(
    main,
    h(
      'section.admin',
      { 'aria-labelledby': 'dlq-title' },
      h(
        'div.admin-head',
        {},
        h('h2', { id: 'dlq-title' }, 'Dead letters'),
        count,
        all,
        h('button', { type: 'button', onclick: load }, 'Refresh'),
      ),
      status,
      table,
    ),
  );
  await load();
}

export async function renderAgents(main, me) {
  const status = h('p.notice', { role: 'status' });
  const body = h('tbody');
  const load = async () => {
    const { agents } = await api('GET', '/agents');
    replace(
      body,
      agents.map((a) =>
        h(
          'tr',
          {},
          h('td', {}, h('code', {}, a.id)),
          h('td', {}, a.name),
          h('td', {}, a.role),
          h('td', {}, a.disabled ? 'disabled' : a.online ? 'online' : 'offline'),
          h(
            'td',
            {},
            h(
              'button',
              { type: 'button', onclick: () => patch(a.id, { disabled: !a.disabled }) },
              a.disabled ? 'Enable' : 'Disable',
            ),
            ' ',
            h(
              'button',
              {
                type: 'button',
                onclick: () => {
                  const password = prompt(`New password for ${a.id} (at least 8 characters)`);
                  if (password) patch(a.id, { password });
                },
              },
              'Set password',
            ),
          ),
        ),
      ),
    );
  };
  const patch = async (id, change) => {
    try {
      await api('PATCH', `/agents/${encodeURIComponent(id)}`, change);
      status.textContent = `Saved ${id}.`;
    } catch (err) {
      status.textContent = err.message;
    }
    await load();
  };
  const field = (id, label, props = {}) => [
    h('label', { htmlFor: id }, label),
    h('input', { id, name: id, required: true, ...props }),
  ];
  const form = h(
    'form.card.inline-form',
    {
      onsubmit: async (e) => {
        e.preventDefault();
        const data = Object.fromEntries(new FormData(form));
        try {
          await api('POST', '/agents', {
            id: data['agent-id'],
            name: data['agent-name'],
            role: data['agent-role'],
            password: data['agent-password'],
          });
          status.textContent = `Created ${data['agent-id']}.`;
          form.reset();
        } catch (err) {
          status.textContent = err instanceof ApiError ? err.message : 'failed';
        }
        await load();
      },
    },
    h('h3', {}, 'New agent'),
    field('agent-id', 'Login name', { pattern: '[a-z0-9][a-z0-9._\\-]{0,63}', autocomplete: 'off' }),
    field('agent-name', 'Display name', { autocomplete: 'off' }),
    h('label', { htmlFor: 'agent-role' }, 'Role'),
    h(
      'select',
      { id: 'agent-role', name: 'agent-role' },
      h('option', { value: 'agent' }, 'agent'),
      h('option', { value: 'admin' }, 'admin'),
    ),
    field('agent-password', 'Password', { type: 'password', minLength: 8, autocomplete: 'new-password' }),
    h('button.primary', { type: 'submit' }, 'Create'),
  );
  replace(
    main,
    h(
      'section.admin',
      {},
      h('div.admin-head', {}, h('h2', {}, 'Agents'), h('span.muted', {}, `signed in as ${me.name}`)),
      status,
      h(
        'table.grid',
        {},
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ['Login', 'Name', 'Role', 'Status', ''].map((t) => h('th', { scope: 'col' }, t)),
          ),
        ),
        body,
      ),
      form,
    ),
  );
  await load().catch((err) => {
    status.textContent = err.message;
  });
}
