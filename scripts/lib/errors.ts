// One error type for every expected failure: a message, the fix, and the documented exit code.

/** Exit codes, stable and documented in docs/troubleshooting.md. */
export const ExitCode = {
  ok: 0,
  /** The operation failed. */
  failed: 1,
  /** Usage or configuration error; nothing was changed. */
  usage: 2,
  /** A preflight check failed; nothing was changed. */
  preflight: 3,
  /** The deploy failed and was rolled back. */
  rolledBack: 4,
  /** Interrupted by SIGINT or SIGTERM. */
  interrupted: 130,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export interface OpsErrorOptions {
  /** The command to run or the edit to make that fixes it. */
  hint?: string;
  exitCode?: number;
  cause?: unknown;
}

export class OpsError extends Error {
  readonly hint: string | undefined;
  readonly exitCode: number;

  constructor(message: string, options: OpsErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'OpsError';
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? ExitCode.failed;
  }
}

/** A usage or configuration error: exit 2, nothing changed. */
export function usageError(message: string, hint?: string): OpsError {
  return new OpsError(message, { hint, exitCode: ExitCode.usage });
}
