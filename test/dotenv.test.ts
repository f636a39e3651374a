// The strict .env reader must read every well-formed file exactly as the dotenv package does (the
// app and most tools load .env with it), while also reporting malformed lines by number.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'dotenv';
import { parseDotenv } from '../scripts/lib/dotenv.ts';

const files: Record<string, string> = {
  plain: 'A=1\nB=two words\nC=\n',
  comments: '# a comment\nA=1\n\n   # indented comment\nB=2 # trailing comment\n',
  export: 'export A=1\nexport  B="two"\n',
  'double quotes with escapes': 'A="line1\\nline2"\nB="tab\\there"\nC="say \\"hi\\""\n',
  'escaped backslash before n': 'A="a\\\\nb"\n',
  'single quotes are literal': "A='x\\ny'\nB='has # hash'\n",
  backticks: 'A=`it\'s "mixed"`\n',
  'multi-line double quotes': 'KEY="-----BEGIN X-----\nabc\n-----END X-----"\nNEXT=1\n',
  'spaces around': 'A = 1\n  B=  padded  \n',
  'crlf line ends': 'A=1\r\nB=2\r\n',
  'postgres url with symbols': 'DATABASE_URL=postgresql://u:p%40ss@ep-x.eu-central-1.aws.neon.tech/db?sslmode=require&channel_binding=require\n',
  'equals in value': 'A=b=c==\n',
};

for (const [name, text] of Object.entries(files)) {
  test(`reads "${name}" as dotenv does`, () => {
    const ours = parseDotenv(text);
    assert.equal(ours.problems, [], `no problems in ${name}`);
    const mine = Object.fromEntries(ours.entries.map((e) => [e.key, e.value]));
    assert.equal(mine, parse(text));
  });
}

test('reports a malformed line by number, where dotenv would silently drop it', () => {
  const text = 'A=1\nthis line has no equals sign\nB=2\n';
  assert.equal(Object.keys(parse(text)), ['A', 'B']);
  const ours = parseDotenv(text);
  assert.equal(ours.problems.map((p) => p.line), [2]);
  assert.not.match(ours.problems[0]!.message, /no equals sign/, 'the line content is never echoed (it may be a secret)');
});

test.run();
