// One conversation: header with the hand-off actions, the full history (messages and hand-off
// events, each bot reply with its run trace), and the reply box for the owning agent.
import { ApiError, api, clientId, conversationPath } from './api.js';
import { renderAttachments } from './attachments.js';
import { channelBadge, h, replace, stateBadge, time } from './dom.js';
import { renderRun } from './trace.js';

const ROLE_LABELS = { visitor: 'Visitor', bot: 'Bot', agent: 'Agent', system: 'System' };

export class Conversation {
  constructor(id, agent, onChange) {
    this.id = id;
    this.agent = agent;
    this.onChange = onChange;
    this.data = null;
    this.seen = new Set();
    this.runs = new Map();
    this.lastEventSeq = 0;
    this.header = h('div.conv-header');
    this.log = h('ol.log', { role: 'log', 'aria-label': 'Conversation history', 'aria-live': 'polite' });
    this.notice = h('p.notice', { role: 'status' });
    this.input = h('textarea', {
      id: 'reply-text',
      name: 'reply',
      rows: 3,
      placeholder: 'Type a reply — Enter sends, Shift+Enter for a new line',
      onkeydown: (e) => {
        if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
          e.preventDefault();
          this.form.requestSubmit();
        }
      },
    });
    this.sendButton = h('button.primary', { type: 'submit' }, 'Send');
    this.form = h(
      'form.composer',
      { onsubmit: (e) => e.preventDefault() ?? this.send() },
      h('label.visually-hidden', { htmlFor: 'reply-text' }, 'Reply to the visitor'),
      this.input,
      this.sendButton,
    );
    this.element = h('div.conversation', {}, this.header, this.log, this.notice, this.form);
    // A loaded image makes the log taller: stay at the bottom if the agent was there. Content that
    // grows fires no scroll event, so the flag still says where the agent last was. (`load` does
    // not bubble; a capturing listener sees every image's.)
    this.atBottom = true;
    this.log.addEventListener('scroll', () => {
      this.atBottom = this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < 40;
    });
    this.log.addEventListener(
      'load',
      () => {
        if (this.atBottom) this.log.scrollTop = this.log.scrollHeight;
      },
      true,
    );
    this.loading = null;
  }

  async load() {
    this.loading ??= this.fetch().finally(() => {
      this.loading = null;
    });
    return this.loading;
  }

  /** Re-read after a live notice; coalesces while a read is in flight. */
  reload() {
    if (this.loading) {
      this.again = true;
      return;
    }
    this.load().then(() => {
      if (this.again) {
        this.again = false;
        this.reload();
      }
    });
  }

  async fetch() {
    try {
      const data = await api('GET', conversationPath(this.id));
      this.data = data.conversation;
      for (const run of data.runs) this.runs.set(run.inbound_message_id, run);
      this.renderHeader();
      this.append(data.messages, data.events);
      this.renderComposer();
    } catch (err) {
      this.notice.textContent = err.message;
    }
  }

  renderHeader() {
    const c = this.data;
    const me = this.agent;
    const mine = c.state === 'agent' && c.assignee === me.id;
    const admin = me.role === 'admin';
    const action = (label, path, body, primary) =>
      h(
        primary ? 'button.primary' : 'button',
        { type: 'button', onclick: () => this.act(path, body) },
        label,
      );
    const actions = [];
    if (c.state === 'queued' || c.state === 'bot')
      actions.push(action(c.state === 'queued' ? 'Claim' : 'Take over', 'claim', undefined, true));
    if (mine || (admin && c.state === 'agent')) {
      actions.push(action('Release to bot', 'release', admin && !mine ? { force: true } : undefined));
      actions.push(this.transferControl(admin && !mine));
    }
    if (c.state !== 'closed' && (c.state !== 'agent' || mine || admin)) {
      actions.push(
        action('Close', 'close', admin && c.state === 'agent' && !mine ? { force: true } : undefined),
      );
    }
    replace(
      this.header,
      h(
        'div.conv-title',
        {},
        h('h2', {}, c.visitor.name ?? 'Visitor'),
        channelBadge(c.channel),
        stateBadge(c.state),
        c.queue ? h('span.queue', {}, `queue ${c.queue}`) : null,
        c.assignee ? h('span.assignee', {}, `owner ${c.assignee}`) : null,
      ),
      h('p.conv-id', {}, h('code', {}, c.id), ' · started ', time(c.created_at)),
      h('div.actions', { role: 'group', 'aria-label': 'Hand-off actions' }, actions),
    );
  }

  transferControl(force) {
    const select = h('select', { 'aria-label': 'Transfer to' }, h('option', { value: '' }, 'Transfer to…'));
    api('GET', '/agents')
      .then(({ agents }) => {
        for (const a of agents) {
          if (a.id === this.data.assignee || a.disabled) continue;
          select.append(h('option', { value: `agent:${a.id}` }, `${a.name}${a.online ? ' (online)' : ''}`));
        }
        select.append(h('option', { value: 'queue:' }, 'Back to a queue…'));
      })
      .catch(() => {});
    const go = () => {
      const [kind, target] = [select.value.split(':')[0], select.value.slice(select.value.indexOf(':') + 1)];
      if (!kind) return;
      if (kind === 'agent') return this.act('transfer', { to_agent: target, ...(force ? { force } : {}) });
      const queue = prompt('Queue name', this.data.queue ?? 'default');
      if (queue) this.act('transfer', { to_queue: queue, ...(force ? { force } : {}) });
    };
    return h('span.transfer', {}, select, h('button', { type: 'button', onclick: go }, 'Transfer'));
  }

  async act(path, body) {
    this.notice.textContent = '';
    try {
      await api('POST', conversationPath(this.id, path), body ?? {});
    } catch (err) {
      this.notice.textContent =
        err instanceof ApiError && err.status === 409 ? `Someone was faster: ${err.message}` : err.message;
    }
    await this.load();
    this.onChange();
  }

  renderComposer() {
    const c = this.data;
    const mine = c.state === 'agent' && c.assignee === this.agent.id;
    this.input.disabled = !mine;
    this.sendButton.disabled = !mine;
    this.form.classList.toggle('disabled', !mine);
    this.input.placeholder = mine
      ? 'Type a reply — Enter sends, Shift+Enter for a new line'
      : c.state === 'closed'
        ? 'This conversation is closed.'
        : 'Claim the conversation to reply.';
  }

  /** Add what is new: messages by seq, hand-off events by seq, in time order. */
  append(messages, events) {
    const items = [
      ...messages
        .filter((m) => !this.seen.has(m.id))
        .map((m) => ({ at: m.created_at, node: () => this.renderMessage(m), id: m.id })),
      ...events
        .filter((e) => e.seq > this.lastEventSeq)
        .map((e) => ({ at: e.created_at, node: () => renderEvent(e), seq: e.seq })),
    ].sort((a, b) => a.at.localeCompare(b.at));
    if (items.length === 0) return this.refreshTraces();
    const atBottom = this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < 40;
    for (const item of items) {
      if (item.id) {
        this.seen.add(item.id);
        this.log.querySelector(`[data-pending-for="${CSS.escape(item.id)}"]`)?.remove();
      }
      if (item.seq) this.lastEventSeq = Math.max(this.lastEventSeq, item.seq);
      this.log.append(item.node());
    }
    this.refreshTraces();
    if (atBottom || this.log.childElementCount === items.length) this.log.scrollTop = this.log.scrollHeight;
  }

  renderMessage(m) {
    const trace =
      m.role === 'bot' && m.in_reply_to
        ? h(
            'details.trace-box',
            {
              dataset: { inbound: m.in_reply_to },
              ontoggle: (e) => e.target.open && this.fillTrace(e.target),
            },
            h('summary', {}, 'Run trace'),
            h('div.trace-body'),
          )
        : null;
    const silenced = m.role === 'visitor' && this.runs.get(m.id)?.status === 'silenced';
    return h(
      `li.msg.msg-${m.role}`,
      { dataset: { messageId: m.id, inbound: m.direction === 'in' ? m.id : '' } },
      h(
        'div.msg-meta',
        {},
        h('span.role', {}, m.sender_name || ROLE_LABELS[m.role]),
        channelBadge(this.data.channel),
        time(m.created_at),
        silenced
          ? h(
              'span.badge.muted',
              { title: 'A human owned the conversation: the bot stayed silent' },
              'bot silent',
            )
          : null,
      ),
      messageText(m),
      renderAttachments(m),
      trace,
    );
  }

  fillTrace(details) {
    replace(details.querySelector('.trace-body'), renderRun(this.runs.get(details.dataset.inbound)));
  }

  refreshTraces() {
    for (const details of this.log.querySelectorAll('details.trace-box[open]')) this.fillTrace(details);
  }

  async send() {
    const text = this.input.value.trim();
    if (!text) return;
    const id = clientId();
    const pending = h(
      'li.msg.msg-agent.pending',
      {},
      h('div.msg-meta', {}, h('span.role', {}, 'You'), h('span.sending', {}, 'sending…')),
      h('div.msg-text', {}, text),
    );
    this.log.append(pending);
    this.log.scrollTop = this.log.scrollHeight;
    this.input.value = '';
    const attempt = async () => {
      try {
        const res = await api('POST', conversationPath(this.id, 'reply'), { text, client_msg_id: id });
        if (this.seen.has(res.message_id)) pending.remove();
        else pending.dataset.pendingFor = res.message_id;
        this.reload();
      } catch (err) {
        replace(
          pending.querySelector('.msg-meta'),
          h('span.role', {}, 'You'),
          h('span.error', {}, `not sent: ${err.message}`),
          // Same client id: a retry after a lost answer cannot send twice.
          h('button.link', { type: 'button', onclick: attempt }, 'Retry'),
        );
      }
    };
    await attempt();
    this.input.focus();
  }
}

/** The text; none when only attachments were sent; `[kind]` when there is nothing at all. */
function messageText(m) {
  if (!m.text && m.attachments?.length) return null;
  return h('div.msg-text', {}, m.text ?? `[${m.kind}]`);
}

const EVENT_TEXT = {
  queued: (e) =>
    `Queued for an agent (${e.data.queue ?? 'default'}) by ${e.actor}${e.data.reason ? ` — ${e.data.reason}` : ''}`,
  claimed: (e) => `${e.actor} claimed the conversation`,
  released: (e) => `${e.actor} released it to the bot`,
  transferred: (e) => `${e.actor} transferred it to ${e.data.to ?? `queue ${e.data.queue}`}`,
  closed: (e) => `${e.actor} closed the conversation`,
  timed_out: (e) =>
    `Returned to the bot after ${Math.round((e.data.idleMs ?? 0) / 60000)} idle minutes (${e.data.agent})`,
};

function renderEvent(e) {
  return h('li.event', {}, h('span', {}, (EVENT_TEXT[e.type] ?? (() => e.type))(e)), ' ', time(e.created_at));
}
