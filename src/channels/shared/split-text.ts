/**
 * Split text into chunks of at most `maxBytes` UTF-8 bytes without cutting a character.
 *
 * Platforms cap message text in bytes (WeCom: 2048), and Chinese takes 3 bytes a character, emoji 4;
 * cutting by JS string length or by raw bytes would send broken characters. Iteration is by code
 * point, so a surrogate pair (emoji) is never split. When a chunk fills up, it ends after the last
 * line break in its final quarter if there is one, so paragraphs survive when they can.
 */
export function splitUtf8(text: string, maxBytes: number): string[] {
  if (maxBytes < 4) throw new RangeError('maxBytes must be at least 4 (one UTF-8 character)');
  if (Buffer.byteLength(text, 'utf8') <= maxBytes) return text.length > 0 ? [text] : [];
  const chunks: string[] = [];
  let current: string[] = [];
  let bytes = 0;
  let lastBreak = -1; // index in `current` just after the last '\n'
  let bytesAtBreak = 0;
  for (const ch of text) {
    const size = utf8Size(ch);
    if (bytes + size > maxBytes) {
      const keepTail = lastBreak > 0 && bytesAtBreak >= maxBytes * 0.75;
      const cut = keepTail ? lastBreak : current.length;
      chunks.push(current.slice(0, cut).join(''));
      current = current.slice(cut);
      bytes -= keepTail ? bytesAtBreak : bytes;
      lastBreak = -1;
      bytesAtBreak = 0;
    }
    current.push(ch);
    bytes += size;
    if (ch === '\n') {
      lastBreak = current.length;
      bytesAtBreak = bytes;
    }
  }
  if (current.length > 0) chunks.push(current.join(''));
  return chunks;
}

function utf8Size(ch: string): number {
  const cp = ch.codePointAt(0) ?? 0;
  if (cp < 0x80) return 1;
  if (cp < 0x800) return 2;
  if (cp < 0x10000) return 3;
  return 4;
}
