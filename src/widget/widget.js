/*
 * Switchboard chat widget. Embed with one tag:
 *   <script src="https://hub.example.com/widget.js" async data-title="Help" data-color="#0a7"
 *           data-greeting="Hi!" data-lang="en" data-channel="web"></script>
 * Everything lives in a shadow root (the host page's CSS cannot break it, ours cannot leak).
 * The session survives reloads (localStorage); replies arrive over server-sent events, which
 * resume after a network loss with the last seen message id; visitor messages carry a client id,
 * so a retry after a lost answer is never a second message. Docs: docs/widget.md.
 */
(() => {
  // Filled in by the hub when it serves this file (src/server/routes/widget.ts): widget.css.
  const WIDGET_CSS = __WIDGET_CSS__;
  const script = document.currentScript;
  if (!script || window.SwitchboardWidget) return;
  const ds = script.dataset;
  const base = new URL(script.src, location.href).origin;
  const STRINGS = {
    en: {
      open: 'Chat with us',
      close: 'Close chat',
      input: 'Your message',
      placeholder: 'Type a message…',
      send: 'Send',
      greeting: 'Hi! How can we help you today?',
      typing: 'typing…',
      queued: 'Waiting for an agent…',
      joined: (n) => `${n} joined the chat`,
      agentStatus: (n) => `${n} · agent`,
      botStatus: 'Assistant',
      back: 'You are chatting with our assistant again.',
      closed: 'This chat has ended. Write again to start a new one.',
      offline: 'Connection lost — reconnecting…',
      sending: 'sending…',
      retrying: 'not sent yet — retrying…',
      roles: { visitor: 'You', bot: 'Assistant', agent: 'Agent', system: 'Notice' },
      unread: (n) => `${n} unread`,
      image: 'image',
    },
    'zh-CN': {
      open: '在线咨询',
      close: '关闭对话',
      input: '消息',
      placeholder: '请输入消息…',
      send: '发送',
      greeting: '您好！请问有什么可以帮您？',
      typing: '正在输入…',
      queued: '正在为您转接人工客服，请稍候…',
      joined: (n) => `客服 ${n} 已加入对话`,
      agentStatus: (n) => `${n} · 人工客服`,
      botStatus: '智能助手',
      back: '已切换回智能助手。',
      closed: '对话已结束，发送消息即可开始新的对话。',
      offline: '网络已断开，正在重新连接…',
      sending: '发送中…',
      retrying: '发送失败，正在重试…',
      roles: { visitor: '我', bot: '智能助手', agent: '客服', system: '通知' },
      unread: (n) => `${n} 条未读`,
      image: '图片',
    },
  };
  const langOf = (l) => (/^zh/i.test(l || '') ? 'zh-CN' : 'en');
  const lang = langOf(ds.lang || navigator.language);
  const t = STRINGS[lang];
  const color = /^#[0-9a-f]{3,8}$|^[a-z]+$|^rgb/i.test(ds.color || '') ? ds.color : '#1f5fbf';
  const title = ds.title || (lang === 'zh-CN' ? '在线客服' : 'Support');
  const greeting = ds.greeting ?? t.greeting;
  const storeKey = `switchboard.widget:${base}:${ds.channel || ''}`;

  // ── persisted state: session id, last message seen, messages not yet accepted ─────────────
  const load = () => {
    try {
      return JSON.parse(localStorage.getItem(storeKey)) || {};
    } catch {
      return {};
    }
  };
  let saved = { sessionId: null, lastId: null, pending: [], ...load() };
  const persist = () => {
    try {
      localStorage.setItem(storeKey, JSON.stringify(saved));
    } catch {}
  };
  const randomId = () =>
    Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => b.toString(16).padStart(2, '0')).join('');

  // ── DOM ─────────────────────────────────────────────────────────────────────────────────────
  const host = document.createElement('div');
  host.setAttribute('data-switchboard-widget', '');
  host.style.setProperty('--sb-accent', color);
  const root = host.attachShadow({ mode: 'open' });
  const el = (tag, cls, text) => {
    const n = document.createElement(tag);
    if (cls) n.className = cls;
    if (text !== undefined) n.textContent = text;
    return n;
  };
  // A constructed stylesheet is not "inline style" to a host page's Content-Security-Policy.
  let style = null;
  try {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(WIDGET_CSS);
    root.adoptedStyleSheets = [sheet];
  } catch {
    style = el('style');
    style.textContent = WIDGET_CSS;
  }
  const bubble = el('button', 'bubble');
  bubble.type = 'button';
  bubble.setAttribute('aria-label', t.open);
  bubble.setAttribute('aria-expanded', 'false');
  bubble.setAttribute('aria-controls', 'sb-panel');
  bubble.innerHTML =
    '<svg viewBox="0 0 24 24" aria-hidden="true" width="28" height="28"><path fill="currentColor" d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"/></svg>';
  const badge = el('span', 'unread');
  badge.hidden = true;
  bubble.append(badge);
  const panel = el('section', 'panel');
  panel.id = 'sb-panel';
  panel.setAttribute('role', 'dialog');
  panel.setAttribute('aria-label', title);
  panel.hidden = true;
  const header = el('header', 'head');
  const heading = el('div', 'titles');
  heading.append(el('h2', 'title', title));
  const status = el('p', 'status', t.botStatus);
  heading.append(status);
  const close = el('button', 'close', '×');
  close.type = 'button';
  close.setAttribute('aria-label', t.close);
  header.append(heading, close);
  const banner = el('p', 'banner', t.offline);
  banner.setAttribute('role', 'status');
  banner.hidden = true;
  const log = el('ol', 'log');
  log.setAttribute('role', 'log');
  log.setAttribute('aria-live', 'polite');
  const typing = el('p', 'typing', t.typing);
  typing.hidden = true;
  const form = el('form', 'composer');
  const input = el('textarea', 'input');
  input.rows = 1;
  input.placeholder = t.placeholder;
  input.setAttribute('aria-label', t.input);
  input.maxLength = 4000;
  const send = el('button', 'send', t.send);
  send.type = 'submit';
  form.append(input, send);
  panel.append(header, banner, log, typing, form);
  if (style) root.append(style);
  root.append(panel, bubble);

  const rendered = new Map(); // message id → element (ids of the store: o_…, m_…)
  let unread = 0;
  const scroll = () => {
    log.scrollTop = log.scrollHeight;
  };
  const addBubble = (role, text, id, extraClass, name) => {
    const li = el('li', `msg ${role}${extraClass ? ` ${extraClass}` : ''}`);
    const who = el('span', 'who', name || t.roles[role] || role);
    const body = el('p', 'text', text);
    li.append(who, body);
    if (id) {
      li.dataset.id = id;
      rendered.set(id, li);
    }
    log.append(li);
    scroll();
    return li;
  };
  // ── attachments ─────────────────────────────────────────────────────────────────────────────
  // Only http(s) URLs become src/href: a message must never be able to run script (javascript:)
  // or smuggle content (data:). Relative URLs are the hub's.
  const safeUrl = (raw) => {
    if (typeof raw !== 'string') return null;
    try {
      const u = new URL(raw, base);
      return u.protocol === 'http:' || u.protocol === 'https:' ? u : null;
    } catch {
      return null;
    }
  };
  const isImage = (a, u) => (a.mime ? /^image\//i.test(a.mime) : /\.(png|jpe?g|gif|webp)$/i.test(u.pathname));
  const fileName = (a, u) => {
    if (a.name) return a.name;
    const last = u.pathname.split('/').pop();
    try {
      return decodeURIComponent(last) || u.hostname;
    } catch {
      return last;
    }
  };
  const formatSize = (n) => {
    const units = ['B', 'KB', 'MB', 'GB'];
    let i = 0;
    for (; n >= 1024 && i < units.length - 1; i++) n /= 1024;
    return `${i ? n.toFixed(n < 10 ? 1 : 0) : n} ${units[i]}`;
  };
  // A loaded image makes the log taller: stay at the bottom if the reader was there. Content that
  // grows fires no scroll event, so the flag still says where the reader last was. (`load` does
  // not bubble; a capturing listener sees every image's.)
  let atBottom = true;
  log.addEventListener('scroll', () => {
    atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 48;
  });
  log.addEventListener('load', () => atBottom && scroll(), true);
  const attachmentNode = (a) => {
    const u = safeUrl(a?.url);
    if (!u) return null; // a platform media id only: nothing a visitor's browser could fetch
    const link = el('a', 'file');
    link.href = u.href;
    link.target = '_blank';
    link.rel = 'noopener noreferrer';
    if (isImage(a, u)) {
      const img = el('img');
      img.alt = a.name || t.image;
      img.loading = 'lazy';
      img.src = u.href;
      link.className = 'image';
      link.append(img);
    } else {
      link.textContent = fileName(a, u);
      if (typeof a.size === 'number') link.append(el('span', 'size', formatSize(a.size)));
    }
    return link;
  };
  /** A stored or live message as a bubble: text (unless empty with attachments), then attachments. */
  const addMessage = (m) => {
    const li = addBubble(m.role, m.text ?? '', m.id, undefined, m.agent_name);
    const nodes = (Array.isArray(m.attachments) ? m.attachments : []).map(attachmentNode).filter(Boolean);
    if (nodes.length === 0) return li;
    if (!m.text) li.querySelector('.text').remove();
    const box = el('div', 'files');
    box.append(...nodes);
    li.append(box);
    scroll();
    return li;
  };
  const addNotice = (text) => {
    const li = el('li', 'notice', text);
    log.append(li);
    scroll();
  };
  const setOpen = (open) => {
    panel.hidden = !open;
    bubble.setAttribute('aria-expanded', String(open));
    host.classList.toggle('open', open);
    root.host.dataset.open = String(open);
    if (open) {
      unread = 0;
      badge.hidden = true;
      scroll();
      input.focus();
      ensureStream();
    }
  };
  bubble.addEventListener('click', () => setOpen(panel.hidden));
  const dismiss = () => {
    setOpen(false);
    bubble.focus();
  };
  close.addEventListener('click', dismiss);
  panel.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') dismiss();
  });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      form.requestSubmit();
    }
  });
  if (greeting) addBubble('bot', greeting, null, 'greeting');

  // ── talking to the hub ─────────────────────────────────────────────────────────────────────
  const post = async (path, body) => {
    const res = await fetch(`${base}/v1/chat/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const data = await res.json().catch(() => ({}));
    return { status: res.status, data };
  };
  let creating = null;
  const ensureSession = () => {
    if (saved.sessionId) return Promise.resolve(saved.sessionId);
    creating ??= post('create', ds.channel ? { channel_id: ds.channel } : {}).then(({ status: s, data }) => {
      creating = null;
      if (s !== 201) throw new Error(`create answered ${s}`);
      saved = { ...saved, sessionId: data.session_id, lastId: null };
      persist();
      ensureStream();
      // A new session has no message id to resume from: listen before the first message goes out.
      return Promise.race([streamOpen, new Promise((r) => setTimeout(r, 3000))]).then(() => data.session_id);
    });
    return creating;
  };
  const resetSession = () => {
    source?.close();
    source = null;
    saved = { ...saved, sessionId: null, lastId: null };
    persist();
  };

  // Messages go out one after another, in order; each is retried until the hub accepted it.
  let sending = Promise.resolve();
  const deliver = (item, li) => {
    sending = sending.then(async () => {
      for (let attempt = 0; ; attempt++) {
        try {
          const sessionId = await ensureSession();
          const { status: s, data } = await post('send', {
            session_id: sessionId,
            text: item.text,
            client_msg_id: item.cid,
          });
          if (s === 404 || s === 409) {
            resetSession(); // expired or closed: a new conversation carries the message
            continue;
          }
          if (s >= 400 && s < 500)
            throw Object.assign(new Error(data?.error?.message || `send answered ${s}`), { final: true });
          if (s >= 500) throw new Error(`send answered ${s}`);
          saved.pending = saved.pending.filter((p) => p.cid !== item.cid);
          persist();
          if (rendered.has(data.message_id))
            li.remove(); // already shown from history
          else {
            li.dataset.id = data.message_id;
            rendered.set(data.message_id, li);
          }
          li.classList.remove('pending', 'failed');
          li.querySelector('.state')?.remove();
          return;
        } catch (err) {
          if (err.final) {
            saved.pending = saved.pending.filter((p) => p.cid !== item.cid);
            persist();
            li.querySelector('.state').textContent = err.message;
            return;
          }
          li.classList.add('failed');
          li.querySelector('.state').textContent = t.retrying;
          await new Promise((r) => setTimeout(r, Math.min(1000 * 2 ** attempt, 10000)));
        }
      }
    });
  };
  const queueMessage = (item) => {
    const li = addBubble('visitor', item.text, null, 'pending');
    li.append(el('span', 'state', t.sending));
    deliver(item, li);
  };
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = '';
    const item = { cid: randomId(), text };
    saved.pending = [...saved.pending, item];
    persist();
    queueMessage(item);
  });

  // ── live events ──────────────────────────────────────────────────────────────────────────────
  let source = null;
  let opened = () => {};
  let streamOpen = new Promise((r) => (opened = r));
  let typingTimer = 0;
  let bannerTimer = 0;
  // Answers being written: stream id → { li, inReplyTo, index }. The finished reply arrives as a
  // normal message answering the same inbound message and takes the streamed bubble's place.
  const streams = new Map();
  const showTyping = (on) => {
    typing.hidden = !on;
    clearTimeout(typingTimer);
    if (on) typingTimer = setTimeout(() => (typing.hidden = true), 15000);
  };
  const onMessage = (m) => {
    if (m.id) saved.lastId = m.id;
    persist();
    if (rendered.has(m.id)) return;
    let streamKey = streams.has(m.id) ? m.id : undefined;
    if (streamKey === undefined && m.role === 'bot') {
      for (const [key, st] of streams) if (st.inReplyTo === m.in_reply_to || !st.inReplyTo) streamKey ??= key;
    }
    showTyping(false);
    const li = addMessage(m);
    if (streamKey !== undefined) {
      streams.get(streamKey).li.replaceWith(li);
      streams.delete(streamKey);
    }
    if (panel.hidden && m.role !== 'visitor') {
      unread++;
      badge.textContent = String(unread);
      badge.setAttribute('aria-label', t.unread(unread));
      badge.hidden = false;
    }
  };
  const handlers = {
    message: (d) => onMessage(d),
    typing: (d) => showTyping(Boolean(d.on)),
    delta: (d) => {
      const key = d.stream_id || d.reply_id || '';
      let st = streams.get(key);
      if (!st) {
        st = { li: addBubble('bot', '', null, 'streaming'), inReplyTo: d.in_reply_to || null, index: -1 };
        streams.set(key, st);
      }
      // A piece seen before (replayed after a reconnect) is not appended twice.
      if (typeof d.index === 'number') {
        if (d.index <= st.index) return;
        st.index = d.index;
      }
      showTyping(false);
      st.li.querySelector('.text').textContent += d.text || '';
      scroll();
    },
    agent_joined: (d) => {
      const name = d.name || d.agent || t.roles.agent;
      addNotice(t.joined(name));
      status.textContent = t.agentStatus(name);
    },
    state: (d) => {
      if (d.state === 'queued') {
        addNotice(t.queued);
        status.textContent = t.queued;
      } else if (d.state === 'bot') {
        addNotice(t.back);
        status.textContent = t.botStatus;
      }
    },
    closed: () => {
      addNotice(t.closed);
      status.textContent = t.botStatus;
      resetSession();
    },
  };
  function ensureStream() {
    if (source || !saved.sessionId) return;
    const url = `${base}/v1/chat/events?session_id=${encodeURIComponent(saved.sessionId)}${saved.lastId ? `&last_event_id=${encodeURIComponent(saved.lastId)}` : ''}`;
    const es = new EventSource(url);
    source = es;
    let interrupted = false;
    for (const [name, fn] of Object.entries(handlers)) {
      es.addEventListener(name, (e) => {
        try {
          fn(JSON.parse(e.data));
        } catch {}
      });
    }
    es.onopen = () => {
      clearTimeout(bannerTimer);
      banner.hidden = true;
      opened();
      // Back after a drop: Last-Event-ID covers replies, history covers everything else.
      if (interrupted) void restore();
      interrupted = false;
    };
    es.onerror = () => {
      interrupted = true;
      streamOpen = new Promise((r) => (opened = r));
      // A short blip reconnects by itself (with Last-Event-ID); say so only if it lasts.
      clearTimeout(bannerTimer);
      bannerTimer = setTimeout(() => (banner.hidden = false), 1500);
      if (es.readyState === EventSource.CLOSED && source === es) {
        source = null; // an HTTP error ends EventSource for good: check the session, then reopen
        setTimeout(() => void restore().then(ensureStream), 2000);
      }
    };
  }

  /** After a reload: the conversation so far, then what was typed but not accepted yet. */
  async function restore() {
    if (!saved.sessionId) return;
    try {
      const res = await fetch(`${base}/v1/chat/history?session_id=${encodeURIComponent(saved.sessionId)}`);
      if (res.status === 404) return resetSession();
      if (!res.ok) return;
      const { messages } = await res.json();
      for (const m of messages) {
        if (!rendered.has(m.id)) addMessage(m);
        saved.lastId = m.id;
      }
      persist();
    } catch {}
  }
  window.addEventListener('online', () => {
    if (!source) ensureStream();
  });

  const mount = () => {
    document.body.append(host);
    restore().then(() => {
      ensureStream();
      for (const item of saved.pending) queueMessage(item);
      if (ds.open === 'true') setOpen(true);
    });
  };
  window.SwitchboardWidget = { open: () => setOpen(true), close: () => setOpen(false), lang };
  if (document.body) mount();
  else document.addEventListener('DOMContentLoaded', mount);
})();
