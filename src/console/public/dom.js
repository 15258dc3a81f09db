// A tiny element builder: h('button.primary', { onclick, type: 'button' }, 'Claim').
// Text is always set as text (never innerHTML), so message content cannot inject markup.

export function h(tag, props = {}, ...children) {
  const [name, ...classes] = tag.split('.');
  const el = document.createElement(name || 'div');
  if (classes.length) el.className = classes.join(' ');
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key in el && key !== 'list' && !key.includes('-')) el[key] = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

const CHANNEL_LABELS = {
  web: 'Web',
  wecom: 'WeCom',
  dingtalk: 'DingTalk',
  douyin: 'Douyin',
  taobao: 'Taobao',
  telegram: 'Telegram',
};

export function channelBadge(channel) {
  const known = channel in CHANNEL_LABELS ? channel : 'other';
  return h(
    `span.badge.channel.channel-${known}`,
    { title: `channel: ${channel}` },
    CHANNEL_LABELS[channel] ?? channel,
  );
}

export function stateBadge(state) {
  return h(`span.badge.state.state-${state}`, {}, state);
}

export function time(iso) {
  const d = new Date(iso);
  const today = new Date().toDateString() === d.toDateString();
  const text = today
    ? d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
    : d.toLocaleString([], { dateStyle: 'short', timeStyle: 'short' });
  return h('time', { dateTime: iso, title: d.toLocaleString() }, text);
}

export function ago(iso) {
  const s = Math.max(0, Math.round((Date.now() - new Date(iso).getTime()) / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}
