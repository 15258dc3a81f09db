/**
 * A small RFC 4180 CSV reader: quoted fields with doubled quotes, commas and newlines inside
 * quotes, CRLF or LF line ends, a UTF-8 BOM. Each record remembers the line it starts on, so an
 * ingest error can say `faq.csv:12`.
 */

/** One parsed record and the 1-based line where it starts. */
export interface CsvRecord {
  line: number;
  fields: string[];
}

/** Parse CSV text into records; blank lines are skipped. Throws on an unterminated quote. */
export function parseCsv(text: string): CsvRecord[] {
  const src = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const records: CsvRecord[] = [];
  let fields: string[] = [];
  let field = '';
  let line = 1;
  let recordLine = 1;
  let inQuotes = false;
  let quotedAt = 0;
  let sawAny = false;
  const endRecord = () => {
    fields.push(field);
    if (sawAny || fields.length > 1 || field.length > 0) records.push({ line: recordLine, fields });
    fields = [];
    field = '';
    sawAny = false;
  };
  for (let i = 0; i < src.length; i++) {
    const ch = src[i]!;
    if (inQuotes) {
      if (ch === '"') {
        if (src[i + 1] === '"') {
          field += '"';
          i++;
        } else inQuotes = false;
      } else {
        if (ch === '\n') line++;
        field += ch;
      }
      continue;
    }
    if (ch === '"' && field.length === 0) {
      inQuotes = true;
      quotedAt = line;
      sawAny = true;
    } else if (ch === ',') {
      fields.push(field);
      field = '';
      sawAny = true;
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && src[i + 1] === '\n') i++;
      endRecord();
      line++;
      recordLine = line;
    } else field += ch;
  }
  if (inQuotes) throw new Error(`unterminated quoted field starting on line ${quotedAt}`);
  if (field.length > 0 || fields.length > 0 || sawAny) endRecord();
  return records;
}
