// The checks-and-report pattern of doctor and setup: each check is printed as it comes and kept for
// the summary, the exit code and the --json document.
import type { Logger } from '../log.ts';
import type { CheckResult } from '../preflight.ts';
import { formatCheck } from '../preflight.ts';

export interface CheckReport {
  /** Every check reported so far, in order. */
  readonly checks: CheckResult[];
  /** Prints one check's line (ok, FAILED or warn, with its fix) and keeps it. */
  report(c: CheckResult): void;
  /** The required checks that failed. */
  failed(): CheckResult[];
}

export function checkReport(log: Logger): CheckReport {
  const checks: CheckResult[] = [];
  return {
    checks,
    report: (c) => {
      checks.push(c);
      log.info(formatCheck(c));
    },
    failed: () => checks.filter((c) => c.required && !c.ok),
  };
}
