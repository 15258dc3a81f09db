/** multipart/form-data as a fake platform receives it (WeCom media/upload), parsed from the raw bytes. */

export interface FormPart {
  name?: string;
  filename?: string;
  contentType?: string;
  data: Buffer;
}

/**
 * Minimal multipart/form-data parser (RFC 7578) over the raw bytes: `--boundary CRLF headers
 * CRLF CRLF data CRLF`, repeated, closed by `--boundary--`. Undefined when the body is malformed.
 */
export function parseMultipart(body: Buffer, contentType: string): FormPart[] | undefined {
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const boundary = m?.[1] ?? m?.[2];
  if (!boundary) return undefined;
  const delimiter = Buffer.from(`--${boundary}`);
  const nextDelimiter = Buffer.from(`\r\n--${boundary}`);
  let pos = body.indexOf(delimiter);
  if (pos < 0) return undefined;
  const parts: FormPart[] = [];
  for (;;) {
    pos += delimiter.length;
    const after = body.subarray(pos, pos + 2).toString('latin1');
    if (after === '--') return parts;
    if (after !== '\r\n') return undefined;
    const headerEnd = body.indexOf('\r\n\r\n', pos);
    const dataEnd = body.indexOf(nextDelimiter, pos);
    if (headerEnd < 0 || dataEnd < 0 || headerEnd > dataEnd) return undefined;
    const part: FormPart = { data: body.subarray(headerEnd + 4, dataEnd) };
    for (const line of body
      .subarray(pos + 2, headerEnd)
      .toString('utf8')
      .split('\r\n')) {
      const colon = line.indexOf(':');
      const header = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (header === 'content-type') part.contentType = value;
      if (header === 'content-disposition') {
        part.name = /(?:^|;)\s*name="([^"]*)"/i.exec(value)?.[1];
        part.filename = /(?:^|;)\s*filename="([^"]*)"/i.exec(value)?.[1];
      }
    }
    parts.push(part);
    pos = dataEnd + 2;
  }
}
