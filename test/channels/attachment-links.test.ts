/**
 * Text-only channels pass URL attachments on as links (inline images in markdown), never as a
 * javascript: or data: link, and say how many they could not pass on.
 */
import { describe, expect, it } from 'vitest';
import { withAttachmentLinks } from '../../src/channels/shared/attachment-links.ts';

const chart = { url: 'https://cdn.example.com/charts/size%20chart.png', mime: 'image/png' };
const manual = { url: 'https://cdn.example.com/docs/manual.pdf', name: 'Manual [EN]' };

describe('withAttachmentLinks', () => {
  it('plain text: one "name: url" line per attachment, name from the URL when not given', () => {
    expect(withAttachmentLinks('See below', [chart, manual], 'plain')).toEqual({
      text: 'See below\nsize chart.png: https://cdn.example.com/charts/size%20chart.png\nManual [EN]: https://cdn.example.com/docs/manual.pdf',
      skipped: 0,
    });
  });

  it('markdown: images inline, other files as links, brackets kept out of labels', () => {
    expect(withAttachmentLinks('## Sizes', [chart, manual], 'markdown').text).toBe(
      '## Sizes\n![size chart.png](https://cdn.example.com/charts/size%20chart.png)\n[Manual EN](https://cdn.example.com/docs/manual.pdf)',
    );
    // Without a mime type the file extension decides.
    expect(withAttachmentLinks('', [{ url: 'https://x.test/a.JPG' }], 'markdown').text).toBe(
      '![a.JPG](https://x.test/a.JPG)',
    );
  });

  it('skips what is not a fetchable http(s) URL: media ids, javascript:, data:, garbage', () => {
    const result = withAttachmentLinks(
      'Hi',
      [
        { mediaId: 'MEDIA1' },
        { url: 'javascript:alert(1)' },
        { url: 'data:text/plain,x' },
        { url: 'not a url' },
      ],
      'plain',
    );
    expect(result).toEqual({ text: 'Hi', skipped: 4 });
  });

  it('no attachments: the text unchanged', () => {
    expect(withAttachmentLinks('只有文字', [], 'plain')).toEqual({ text: '只有文字', skipped: 0 });
  });
});
