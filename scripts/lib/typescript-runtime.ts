// How a Node process runs one of this project's TypeScript files. Node 22.18+ and 24 strip the types
// themselves (`process.features.typescript`), which starts a script in about a third of the CPU time
// that the tsx loader takes (its hooks send every import through a second thread); older Nodes load
// tsx, as `.npmrc` does for `npx zx`. Both run the same files: tsconfig.json's `erasableSyntaxOnly`
// keeps the code to what type stripping can run.

/** Node's arguments before a `.ts`/`.mts` file, for a child process started with process.execPath. */
export function typeScriptArgs(features: { typescript?: unknown } = process.features as { typescript?: unknown }): string[] {
  return features.typescript ? [] : ['--import', 'tsx'];
}
