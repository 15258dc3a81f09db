/**
 * For channels that cannot send a file or image in our name (no upload API we can use, or none
 * implemented), an attachment with a public URL still reaches the customer: as a link after the
 * text — or, where the platform renders markdown, as an inline image. Dropping it silently would
 * leave a reply like "here is the size chart" with nothing attached.
 */
import type { Attachment } from '../../messages.ts';

export interface AttachmentLinks {
  text: string;
  /** Attachments that could not be turned into a link (no http(s) URL, only a platform media id). */
  skipped: number;
}

export function withAttachmentLinks(
  text: string,
  attachments: readonly Attachment[],
  style: 'plain' | 'markdown',
): AttachmentLinks {
  const lines: string[] = [];
  let skipped = 0;
  for (const a of attachments) {
    const url = httpUrl(a.url);
    if (!url) {
      skipped++;
      continue;
    }
    const name = a.name ?? urlFileName(url) ?? 'attachment';
    if (style === 'plain') lines.push(`${name}: ${url.href}`);
    else
      lines.push(
        isImage(a, url) ? `![${escapeLabel(name)}](${url.href})` : `[${escapeLabel(name)}](${url.href})`,
      );
  }
  const joined = [text.trimEnd(), ...lines].filter((part) => part.length > 0).join('\n');
  return { text: joined, skipped };
}

/** The attachment's URL when it is one a customer's device can fetch (http or https). */
export function httpUrl(raw: string | undefined): URL | undefined {
  if (!raw) return undefined;
  try {
    const url = new URL(raw);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : undefined;
  } catch {
    return undefined;
  }
}

/** The URL's last path segment, decoded: what a file behind it is called when nobody named it. */
export function urlFileName(url: URL): string | undefined {
  const segment = url.pathname.split('/').filter(Boolean).pop();
  if (!segment) return undefined;
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function isImage(a: Attachment, url: URL): boolean {
  if (a.mime) return a.mime.startsWith('image/');
  return /\.(png|jpe?g|gif|webp)$/i.test(url.pathname);
}

/** Brackets would end a markdown link label early. */
function escapeLabel(name: string): string {
  return name.replace(/[[\]]/g, '');
}
