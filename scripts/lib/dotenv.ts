// A strict dotenv reader: KEY=VALUE lines, comments, `export`, single/double/backtick quotes
// (multi-line allowed), and a line number for everything. Malformed lines are reported by number,
// never by content: the content may be a secret pasted onto the wrong line.

export interface DotenvEntry {
  key: string;
  value: string;
  /** 1-based line where the entry starts. */
  line: number;
}

export interface DotenvProblem {
  line: number;
  message: string;
}

export interface DotenvResult {
  entries: DotenvEntry[];
  problems: DotenvProblem[];
}

const ASSIGNMENT = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)$/;

/** Parses dotenv text. Every entry keeps its line; every problem names its line and what is wrong. */
export function parseDotenv(text: string): DotenvResult {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const entries: DotenvEntry[] = [];
  const problems: DotenvProblem[] = [];

  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const lineNo = i + 1;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;

    const m = ASSIGNMENT.exec(raw);
    if (!m) {
      problems.push({
        line: lineNo,
        message: /^\s*(?:export\s+)?[^=\s]*\s*=/.test(raw)
          ? 'the name before "=" is not a valid variable name (letters, digits and _; not starting with a digit)'
          : 'not a KEY=VALUE line (a value pasted onto a line of its own, or a missing "=")',
      });
      continue;
    }
    const key = m[1]!;
    const rest = m[2]!.replace(/^[ \t]+/, '');
    const quote = rest[0];

    if (quote === '"' || quote === "'" || quote === '`') {
      // Find the closing quote, possibly on a later line.
      let body = rest.slice(1);
      let endLine = i;
      let close = findClose(body, quote);
      while (close === -1 && endLine + 1 < lines.length) {
        endLine++;
        body += `\n${lines[endLine]!}`;
        close = findClose(body, quote);
      }
      if (close === -1) {
        problems.push({ line: lineNo, message: `${key}: the ${quoteName(quote)} quote opened here is never closed` });
        i = lines.length; // everything after it was swallowed by the open quote
        continue;
      }
      const after = body.slice(close + 1);
      if (after.trim() !== '' && !/^\s+#/.test(after) && !after.trim().startsWith('#')) {
        problems.push({ line: endLine + 1, message: `${key}: text after the closing ${quoteName(quote)} quote (quote the whole value, or start a comment with " #")` });
        i = endLine;
        continue;
      }
      const inner = body.slice(0, close);
      // As the dotenv package reads it: in double quotes only \n and \r expand; \" ends no string but keeps its backslash.
      const value = quote === '"' ? inner.replace(/\\n/g, '\n').replace(/\\r/g, '\r') : inner;
      entries.push({ key, value, line: lineNo });
      i = endLine;
      continue;
    }

    // Unquoted: an inline comment starts at whitespace followed by #; surrounding blanks are dropped.
    const hash = rest.search(/\s#/);
    const value = (hash === -1 ? rest : rest.slice(0, hash)).trim();
    entries.push({ key, value, line: lineNo });
  }
  return { entries, problems };
}

function findClose(body: string, quote: string): number {
  for (let j = 0; j < body.length; j++) {
    const c = body[j];
    if (quote === '"' && c === '\\') { j++; continue; }
    if (c === quote) return j;
  }
  return -1;
}

function quoteName(q: string): string {
  return q === '"' ? 'double' : q === "'" ? 'single' : 'backtick';
}
