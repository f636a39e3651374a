// Stands in front of a real CLI (helm or kubectl) on a test's PATH and writes down each call: the
// argument list and what came on standard input, one JSON line to $RECORD_FILE. Then it runs the real
// binary ($RECORD_REAL) with the same arguments and input; output and exit code pass through unchanged.
// Not a fake: the cluster answers. It lets a real-cluster test check what was called, in which order,
// and that a secret travelled on stdin and never in an argument.
import { spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { basename } from 'node:path';

const [, , ...args] = process.argv;
// Only a call that reads a file from stdin (`-f -`) gets its input read and recorded; every other call
// keeps the caller's stdin as it is (a caller may leave that pipe open: reading it would never end).
const readsStdin = args.some((a, i) => a === '-' && ['-f', '--filename', '--values'].includes(args[i - 1] ?? ''));
const chunks = [];
if (readsStdin) for await (const c of process.stdin) chunks.push(c);
const stdin = Buffer.concat(chunks);
appendFileSync(process.env.RECORD_FILE, `${JSON.stringify({ tool: basename(process.env.RECORD_REAL), args, stdin: stdin.toString() })}\n`);
const child = spawn(process.env.RECORD_REAL, args, { stdio: [readsStdin ? 'pipe' : 'inherit', 'inherit', 'inherit'] });
if (readsStdin) {
  child.stdin.on('error', () => undefined);
  child.stdin.end(stdin);
}
child.on('error', (e) => { process.stderr.write(`${e.message}\n`); process.exit(127); });
child.on('close', (code, signal) => { process.exit(code ?? (signal ? 128 : 1)); });
