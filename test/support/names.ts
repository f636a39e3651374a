// The names the environment files hold, for tests: read through scripts/lib/config.ts as every script
// reads them, so no test writes a resource group, cluster, registry or context a second time
// (test/one-source.test.ts enforces it).
import { loadEnvironment } from '../../scripts/lib/config.ts';
import type { LoadedEnvironment } from '../../scripts/lib/config.ts';
import { repoRoot } from './tools.ts';
import { loginServer } from '../../scripts/lib/images.ts';

function azureNames(env: LoadedEnvironment) {
  const azure = env.azure;
  if (!azure) throw new Error(`${env.file} has no azure section`);
  return {
    resourceGroup: azure.resourceGroup,
    cluster: azure.cluster,
    registry: azure.registry,
    /** The registry's login server, <registry>.azurecr.io, where release.images point. */
    loginServer: loginServer(azure.registry),
    workspace: azure.logAnalyticsWorkspace,
    context: env.kube.context,
    images: env.release.images,
    /** The host of `url`, which deploy sets as the chart's ingress.host (the values files name none). */
    host: new URL(env.url).hostname,
  };
}

export const PROD = azureNames(loadEnvironment(repoRoot, 'production'));
export const STAGING = azureNames(loadEnvironment(repoRoot, 'staging'));

/** A name quoted for a RegExp source. */
export const rx = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
