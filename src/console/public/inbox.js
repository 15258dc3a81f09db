// The inbox: conversation lists (queued, mine, active, all) on the left, the open conversation on
// the right. Live notices from the stream trigger re-reads; the store is the truth.
import { api, conversationPath } from './api.js';
import { Conversation } from './conversation.js';
import { ago, channelBadge, h, replace, stateBadge } from './dom.js';

const TABS = [
  ['queued', 'Queued'],
  ['mine', 'Mine'],
  ['active', 'Active'],
  ['all', 'All'],
];

export class Inbox {
  constructor(agent) {
    this.agent = agent;
    this.view = 'queued';
    this.openId = null;
    this.counts = {};
    this.list = h('ul.conv-list', { 'aria-label': 'Conversations' });
    this.tabs = h('div.tabs', { role: 'tablist', 'aria-label': 'Conversation lists' });
    this.detail = h(
      'section.detail',
      { 'aria-label': 'Conversation' },
      h('p.empty', {}, 'Pick a conversation on the left.'),
    );
    this.conversation = null;
    this.element = h('div.inbox', {}, h('aside.sidebar', {}, this.tabs, this.list), this.detail);
    this.renderTabs();
    this.pending = null;
    this.refresh();
  }

  renderTabs() {
    replace(
      this.tabs,
      TABS.map(([view, label]) => {
        const count = view === 'queued' || view === 'mine' ? this.counts[view] : undefined;
        return h(
          'button.tab',
          {
            type: 'button',
            role: 'tab',
            'aria-selected': String(view === this.view),
            dataset: { view },
            onclick: () => {
              this.view = view;
              this.renderTabs();
              this.refresh();
            },
          },
          label,
          count !== undefined
            ? h('span.count', { 'aria-label': `${count} conversations` }, String(count))
            : null,
        );
      }),
    );
  }

  /** Re-read the list (debounced: a burst of notices costs one request). */
  refresh() {
    clearTimeout(this.pending);
    this.pending = setTimeout(() => this.load(), 80);
  }

  async load() {
    try {
      const { conversations, counts } = await api('GET', `/conversations?view=${this.view}`);
      this.counts = counts;
      this.renderTabs();
      this.renderList(conversations);
    } catch (err) {
      replace(this.list, h('li.error', {}, err.message));
    }
  }

  renderList(conversations) {
    if (conversations.length === 0) {
      replace(this.list, h('li.empty', {}, this.view === 'queued' ? 'Nobody is waiting.' : 'Nothing here.'));
      return;
    }
    replace(
      this.list,
      conversations.map((c) =>
        h(
          'li',
          {},
          h(
            'button.conv-item',
            {
              type: 'button',
              'aria-current': String(c.id === this.openId),
              dataset: { conversationId: c.id },
              onclick: () => this.open(c.id),
            },
            h(
              'span.conv-top',
              {},
              channelBadge(c.channel),
              h('span.conv-name', {}, c.visitor.name ?? shortId(c.id)),
              h(
                'span.conv-age',
                { title: c.last_activity_at },
                ago(c.state === 'queued' ? c.updated_at : c.last_activity_at),
              ),
            ),
            h('span.conv-preview', {}, c.last_message?.text ?? '—'),
            h(
              'span.conv-meta',
              {},
              stateBadge(c.state),
              c.queue ? h('span.queue', {}, `queue ${c.queue}`) : null,
              c.assignee ? h('span.assignee', {}, `→ ${c.assignee}`) : null,
            ),
          ),
        ),
      ),
    );
  }

  async open(id) {
    this.openId = id;
    for (const item of this.list.querySelectorAll('.conv-item')) {
      item.setAttribute('aria-current', String(item.dataset.conversationId === id));
    }
    this.conversation = new Conversation(id, this.agent, () => this.refresh());
    replace(this.detail, this.conversation.element);
    await this.conversation.load();
  }

  /** A notice from the console stream. */
  onEvent(notice) {
    this.refresh();
    if (this.conversation && notice.conversation_id === this.conversation.id) this.conversation.reload();
  }
}

export function shortId(id) {
  const tail = id.split(':').pop() ?? id;
  return tail.length > 12 ? `${tail.slice(0, 10)}…` : tail;
}

export { conversationPath };
