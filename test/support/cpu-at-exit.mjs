// Loaded by test/run.ts into each suite (`node --import`): when the suite exits, writes its CPU seconds,
// its own and those of every script and tool it ran and waited for, to $AKS_TODO_OPS_SUITE_CPU_FILE.
// Plain JavaScript on purpose: it must not itself go through the TypeScript loader it helps to measure.
import { readFileSync, writeFileSync } from 'node:fs';

const file = process.env.AKS_TODO_OPS_SUITE_CPU_FILE;
if (file) {
  // The scripts a suite starts must not overwrite the suite's number.
  delete process.env.AKS_TODO_OPS_SUITE_CPU_FILE;
  process.on('exit', () => {
    try {
      // utime, stime, cutime, cstime: fields 14-17 of /proc/self/stat, in 1/100 s (see test/support/cpu.ts).
      const fields = readFileSync('/proc/self/stat', 'utf8').replace(/^.*\) /s, '').split(' ');
      writeFileSync(file, String(fields.slice(11, 15).reduce((n, f) => n + Number(f), 0) / 100));
    } catch { /* no /proc: no number */ }
  });
}
