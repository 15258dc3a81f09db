// Attachments under a message: images inline, other files as links, platform-only media (a WeCom
// or Telegram media id, nothing to fetch) as a muted placeholder. Only http(s) URLs ever become a
// src or href, so a message cannot run script (javascript:) or smuggle content (data:).
import { h } from './dom.js';

const IMAGE_PATH = /\.(png|jpe?g|gif|webp)$/i;

/** The URL if it is http(s) (relative ones are the hub's), else null. */
export function safeUrl(raw) {
  if (typeof raw !== 'string') return null;
  try {
    const url = new URL(raw, location.href);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : null;
  } catch {
    return null;
  }
}

export function formatSize(bytes) {
  const units = ['B', 'KB', 'MB', 'GB'];
  let n = bytes;
  let i = 0;
  for (; n >= 1024 && i < units.length - 1; i++) n /= 1024;
  return `${i ? n.toFixed(n < 10 ? 1 : 0) : n} ${units[i]}`;
}

function isImage(a, url, kind) {
  if (a.mime) return /^image\//i.test(a.mime);
  return url ? IMAGE_PATH.test(url.pathname) : kind === 'image';
}

function fileName(a, url) {
  if (a.name) return a.name;
  const last = url.pathname.split('/').pop();
  try {
    return decodeURIComponent(last) || url.hostname;
  } catch {
    return last;
  }
}

const newTab = (url) => ({ href: url.href, target: '_blank', rel: 'noopener noreferrer' });

function imageNode(a, url) {
  return h(
    'a.attachment.attachment-image',
    newTab(url),
    h('img', { src: url.href, alt: a.name || 'image', loading: 'lazy' }),
  );
}

function fileNode(a, url) {
  return h(
    'a.attachment.attachment-file',
    newTab(url),
    fileName(a, url),
    typeof a.size === 'number' ? h('span.size', {}, formatSize(a.size)) : null,
  );
}

function placeholder(a, kind) {
  const label = isImage(a, null, kind) ? '[image]' : '[file]';
  const about = [a.name, typeof a.size === 'number' ? formatSize(a.size) : null, a.mime].filter(Boolean);
  return h('span.attachment.attachment-placeholder', { title: about.join(' · ') || undefined }, label);
}

export function renderAttachment(a, kind) {
  const url = safeUrl(a?.url);
  if (!url) return placeholder(a ?? {}, kind);
  return isImage(a, url, kind) ? imageNode(a, url) : fileNode(a, url);
}

/** The attachments of a message `{ kind, attachments }`, or null when it has none. */
export function renderAttachments(m) {
  const list = Array.isArray(m.attachments) ? m.attachments : [];
  if (list.length === 0) return null;
  return h(
    'div.attachments',
    {},
    list.map((a) => renderAttachment(a, m.kind)),
  );
}
