// CPU time from /proc, for the test runner's per-suite numbers and bench/suites.ts: utime and stime
// (fields 14-15 of /proc/<pid>/stat), plus cutime and cstime (16-17), which count every child the
// process has waited for, and their waited-for children in turn. Clock ticks of 1/100 s (USER_HZ).
import { readFileSync } from 'node:fs';

/** CPU seconds of a process (with its waited-for children when `children`); 0 when unreadable. */
export function cpuOf(pid: number | 'self', children: boolean): number {
  try {
    // After "(comm) " the state is field 3, so utime..cstime (fields 14-17) are at 11..14 here.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
    return fields.slice(11, children ? 15 : 13).reduce((n, f) => n + Number(f), 0) / 100;
  } catch {
    return 0;
  }
}

/** CPU seconds of running processes (a cluster's components: support/cluster.ts processesIn), themselves only. */
export function cpuOfProcesses(pids: ReadonlyArray<string | number>): number {
  return pids.reduce<number>((n, p) => n + cpuOf(Number(p), false), 0);
}
