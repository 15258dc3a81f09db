/**
 * The XML WeCom speaks: one flat `<xml>` element of CDATA and numeric children.
 *
 * Values stay strings (`parseTagValue: false`): `MsgId` is a 64-bit integer that a JS number would
 * round. DOCTYPE is refused before parsing: WeCom never sends one, and entity definitions are the
 * classic XML expansion attack surface.
 */
import { XMLParser } from 'fast-xml-parser';
import { PayloadError } from '../../errors.ts';

const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  trimValues: false,
  processEntities: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
});

/** Children of the root `<xml>` element; whitespace between elements is dropped. */
export function parseXmlRoot(text: string, what: string): Record<string, unknown> {
  if (/<!DOCTYPE|<!ENTITY/i.test(text))
    throw new PayloadError(`wecom: ${what} declares a DOCTYPE`, { field: what });
  let doc: unknown;
  try {
    doc = parser.parse(text);
  } catch (err) {
    throw new PayloadError(`wecom: ${what} is not well-formed XML`, { field: what, cause: err });
  }
  const root = (doc as { xml?: unknown } | undefined)?.xml;
  if (root === null || typeof root !== 'object' || Array.isArray(root)) {
    throw new PayloadError(`wecom: ${what} has no <xml> root element`, { field: what });
  }
  const { '#text': _ws, ...fields } = root as Record<string, unknown>;
  return fields;
}

/** A child as a string ('' for an empty element), or undefined when absent or not a leaf. */
export function str(fields: Record<string, unknown>, name: string): string | undefined {
  const v = fields[name];
  return typeof v === 'string' ? v : undefined;
}
