import { describe, expect, it } from 'vitest';
import { parseCsv } from '../../../src/ai/kb/csv.ts';
import { parseDocument } from '../../../src/ai/kb/parse-document.ts';
import { parseFaqCsv, parseFaqJsonl, parseFaqYaml } from '../../../src/ai/kb/parse-faq.ts';

describe('parseCsv', () => {
  it('reads quotes, doubled quotes, embedded newlines, CRLF and a BOM, with start lines', () => {
    const text = '\ufeffa,b\r\n"x, y","say ""hi"""\r\n"multi\nline",2\n\n3,4\n';
    expect(parseCsv(text)).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 2, fields: ['x, y', 'say "hi"'] },
      { line: 3, fields: ['multi\nline', '2'] },
      { line: 6, fields: ['3', '4'] },
    ]);
  });

  it('rejects an unterminated quote', () => {
    expect(() => parseCsv('a\n"open')).toThrow(/unterminated.*line 2/);
  });
});

describe('FAQ files', () => {
  it('CSV: splits similar on | and tags on commas, keeps ids, reports bad rows as file:row', () => {
    const csv = [
      'id,question,answer,similar,tags',
      'r1,如何退货？,7 天内可退,我想退货|怎么退货,"returns,退货"',
      ',,no question,,',
      ',Shipping?,24h,,shipping',
    ].join('\n');
    const { drafts, issues } = parseFaqCsv(csv, 'faq.csv');
    expect(drafts).toEqual([
      {
        id: 'r1',
        question: '如何退货？',
        answer: '7 天内可退',
        similar: ['我想退货', '怎么退货'],
        tags: ['returns', '退货'],
        row: 2,
      },
      { id: undefined, question: 'Shipping?', answer: '24h', similar: [], tags: ['shipping'], row: 4 },
    ]);
    expect(issues).toEqual([{ file: 'faq.csv', row: 3, message: 'question is required' }]);
  });

  it('CSV: accepts Chinese headers and refuses a header without question/answer', () => {
    expect(parseFaqCsv('问题,答案,相似问题\n发票?,可以开,开发票', 'zh.csv').drafts[0]).toMatchObject({
      question: '发票?',
      similar: ['开发票'],
    });
    expect(parseFaqCsv('title,body\nx,y', 'bad.csv').issues[0]).toMatchObject({ row: 1 });
  });

  it('JSONL: a broken line is reported with its line number, the rest is kept', () => {
    const jsonl =
      '{"id": 7, "question": "Q1", "answer": "A1", "similar": ["q one"]}\n{oops\n\n{"question": "Q2", "answer": 5}\n{"question":"Q3","answer":"A3"}';
    const { drafts, issues } = parseFaqJsonl(jsonl, 'faq.jsonl');
    expect(drafts.map((d) => [d.id, d.question, d.row])).toEqual([
      ['7', 'Q1', 1],
      [undefined, 'Q3', 5],
    ]);
    expect(issues.map((i) => `${i.file}:${i.row}`)).toEqual(['faq.jsonl:2', 'faq.jsonl:4']);
    expect(issues[1]?.message).toBe('answer: expected text');
  });

  it('YAML: a list or an entries map; bad items carry their line', () => {
    const yaml =
      'entries:\n  - question: 怎么开发票\n    answer: 订单详情里申请\n    similar: [我要发票]\n  - question: no answer\n  - just a string\n';
    const { drafts, issues } = parseFaqYaml(yaml, 'faq.yaml');
    expect(drafts).toEqual([
      {
        id: undefined,
        question: '怎么开发票',
        answer: '订单详情里申请',
        similar: ['我要发票'],
        tags: [],
        row: 2,
      },
    ]);
    expect(issues).toEqual([
      { file: 'faq.yaml', row: 5, message: 'answer is required' },
      { file: 'faq.yaml', row: 6, message: 'expected an entry (a map with question and answer)' },
    ]);
    expect(parseFaqYaml('- question: a\n  answer: b\n', 'list.yaml').drafts).toHaveLength(1);
    expect(parseFaqYaml('entries: [\n', 'broken.yaml').issues[0]?.file).toBe('broken.yaml');
  });
});

describe('documents', () => {
  it('cuts Markdown at headings (not inside code fences) and keeps the heading trail', async () => {
    const md = '# Policy\nintro text\n## Returns\n7 days.\n```\n# not a heading\n```\n## Refunds\n3 days.\n';
    const { drafts } = await parseDocument(md, 'docs/policy.md', { markdown: true });
    expect(drafts.map((d) => [d.question, d.row])).toEqual([
      ['Policy', 1],
      ['Policy › Returns', 3],
      ['Policy › Refunds', 8],
    ]);
    expect(drafts[1]?.answer).toContain('# not a heading');
  });

  it('splits long sections with the recursive splitter, also at Chinese sentence ends', async () => {
    const text = '退货政策说明。'.repeat(200);
    const { drafts } = await parseDocument(text, 'notes.txt', {
      markdown: false,
      split: { chunkSize: 100, chunkOverlap: 0 },
    });
    expect(drafts.length).toBeGreaterThan(10);
    expect(drafts.every((d) => d.answer.length <= 100 && d.question === 'notes')).toBe(true);
  });
});
