#!/usr/bin/env -S npx zx
// doctor: preflight only. Checks tools and versions, Azure login and subscription, resource
// providers and vCPU quota (Azure environments), and the kube context. Changes nothing. lib/flows/doctor.ts.
import { runMain } from './lib/main.ts';
import type { ScriptSpec } from './lib/flags.ts';
import { runDoctor } from './lib/flows/doctor.ts';

export const spec: ScriptSpec = {
  name: 'doctor',
  summary: 'check that this machine and account can run the other scripts against an environment',
  description: 'Read-only. One line per check; a failed required check exits 3 and shows its fix.',
  flags: [
    { name: 'skip-azure', type: 'boolean', description: 'skip the Azure login, provider and quota checks' },
    { name: 'skip-cluster', type: 'boolean', description: 'skip the kube context check' },
  ],
  examples: ['npx zx scripts/doctor.mts --env local', 'npx zx scripts/doctor.mts --env production'],
};

await runMain(spec, (ctx) => runDoctor(ctx, { skipAzure: ctx.flags.boolean('skip-azure'), skipCluster: ctx.flags.boolean('skip-cluster') }));
