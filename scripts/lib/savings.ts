// Scheduled cost savings: what an environment opted into (costSavings in environments/<env>.yaml)
// turned into az calls for one phase of the day. Reads the cluster's power state and node pools
// first, so a run that finds things already as they should be changes nothing.
import { z } from 'zod';
import { listEnvironments, loadEnvironment } from './config.ts';
import type { LoadedEnvironment } from './config.ts';
import type { Runner } from './runner.ts';

export type Phase = 'off-hours' | 'on-hours';
export const PHASES: readonly Phase[] = ['off-hours', 'on-hours'];

/** `az aks show -o json`: the power state (https://learn.microsoft.com/rest/api/aks/managed-clusters/get, properties.powerState). */
export const ClusterShowSchema = z.looseObject({ powerState: z.looseObject({ code: z.string() }).nullish() });
/** `az aks nodepool list -o json`: each pool's autoscaler settings. */
export const NodePoolListSchema = z.array(z.looseObject({
  name: z.string(),
  enableAutoScaling: z.boolean().nullish(),
  minCount: z.number().nullish(),
  maxCount: z.number().nullish(),
}));

export interface PlannedChange {
  what: string;
  args: string[];
}

/** The az calls this phase needs, after reading the current state; [] when nothing needs to change. */
export async function planSavings(env: LoadedEnvironment, runner: Runner, phase: Phase): Promise<{ changes: PlannedChange[]; notes: string[] }> {
  const azure = env.azure!;
  const savings = env.costSavings ?? {};
  const changes: PlannedChange[] = [];
  const notes: string[] = [];
  const rg = ['--resource-group', azure.resourceGroup];

  if (savings.nightlyStop?.enabled) {
    const show = await runner.json(ClusterShowSchema, 'az', ['aks', 'show', ...rg, '--name', azure.cluster, '-o', 'json'], { mutating: false });
    const state = show.powerState?.code ?? 'Unknown';
    if (phase === 'off-hours' && state !== 'Stopped') changes.push({ what: `stop ${azure.cluster} (now ${state})`, args: ['aks', 'stop', ...rg, '--name', azure.cluster] });
    else if (phase === 'on-hours' && state === 'Stopped') changes.push({ what: `start ${azure.cluster}`, args: ['aks', 'start', ...rg, '--name', azure.cluster] });
    else notes.push(`${azure.cluster} is already ${state}`);
    // A stopped cluster's pools cannot be updated; stopping covers the off-hours saving anyway.
    return { changes, notes };
  }

  const offHours = savings.offHours;
  if (offHours?.enabled) {
    const pools = await runner.json(NodePoolListSchema, 'az', ['aks', 'nodepool', 'list', ...rg, '--cluster-name', azure.cluster, '-o', 'json'], { mutating: false });
    const wantMin = phase === 'off-hours' ? offHours.minNodes : azure.nodeCount.min;
    for (const pool of pools.filter((p) => p.enableAutoScaling)) {
      if (pool.minCount === wantMin && pool.maxCount === azure.nodeCount.max) { notes.push(`pool ${pool.name} already has minimum ${wantMin}`); continue; }
      // az requires both counts with --update-cluster-autoscaler; the maximum stays the environment's.
      changes.push({
        what: `pool ${pool.name}: autoscaler minimum ${pool.minCount ?? '?'} → ${wantMin} (maximum ${azure.nodeCount.max})`,
        args: ['aks', 'nodepool', 'update', ...rg, '--cluster-name', azure.cluster, '--name', pool.name, '--update-cluster-autoscaler', '--min-count', String(wantMin), '--max-count', String(azure.nodeCount.max)],
      });
    }
    if (!pools.some((p) => p.enableAutoScaling)) notes.push('no node pool has the autoscaler on');
  }
  return { changes, notes };
}

/** Whether the environment opted into anything. */
export function optedIn(env: LoadedEnvironment): boolean {
  return Boolean(env.costSavings?.nightlyStop?.enabled || env.costSavings?.offHours?.enabled);
}

/** Names of the environments in environments/ that opted into scheduled savings, validated by config.ts. */
export function optedInEnvironments(root: string): string[] {
  return listEnvironments(root).filter((name) => optedIn(loadEnvironment(root, name)));
}
