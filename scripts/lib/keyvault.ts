// Azure Key Vault as a secret source. The SDK client sits behind SecretClientLike (the one method
// we call), so tests pass a double and never touch the network. DefaultAzureCredential makes the
// same code work with `az login` on a laptop and with OIDC (azure/login) in GitHub Actions.
import { ExitCode, OpsError } from './errors.ts';
import type { Redactor } from './redact.ts';
import { SECRET_CATALOG } from './secret-catalog.ts';

/** The part of @azure/keyvault-secrets' SecretClient this toolkit uses. */
export interface SecretClientLike {
  getSecret(name: string): Promise<{ value?: string | undefined }>;
}

/** Makes a client for a vault URL (https://NAME.vault.azure.net). */
export type SecretClientFactory = (vaultUrl: string) => SecretClientLike | Promise<SecretClientLike>;

/** The real client: DefaultAzureCredential + SecretClient, loaded only when a vault is configured. */
export const azureSecretClientFactory: SecretClientFactory = async (vaultUrl) => {
  const [{ DefaultAzureCredential }, { SecretClient }] = await Promise.all([import('@azure/identity'), import('@azure/keyvault-secrets')]);
  return new SecretClient(vaultUrl, new DefaultAzureCredential());
};

export function vaultUrl(vaultName: string): string {
  return `https://${vaultName}.vault.azure.net`;
}

const AUTH_ERRORS = new Set(['CredentialUnavailableError', 'AuthenticationError', 'AggregateAuthenticationError', 'AuthenticationRequiredError']);

export const KEY_VAULT_ROLE = 'Key Vault Secrets User';

function authHint(vault: string): string {
  return [
    'on a laptop: az login (then re-run);',
    'in GitHub Actions: run azure/login with OIDC first (permissions: id-token: write) and check that the app registration has a federated credential for this repository and branch or environment;',
    `the identity also needs the "${KEY_VAULT_ROLE}" role on vault ${vault} (docs/secrets-configuration.md#key-vault)`,
  ].join(' ');
}

/** Turns an SDK error into an OpsError with the fix; secret names only, never values. */
export function explainKeyVaultError(e: unknown, vault: string, secretName: string, redactor: Redactor): OpsError {
  const err = e as { name?: string; message?: string; statusCode?: number; code?: string };
  const message = redactor.redact(String(err.message ?? e).split('\n')[0] ?? '');
  if ((err.name && AUTH_ERRORS.has(err.name)) || err.statusCode === 401) {
    return new OpsError(`cannot sign in to Azure to read Key Vault ${vault}: ${message}`, { hint: authHint(vault), exitCode: ExitCode.preflight, cause: e });
  }
  if (err.statusCode === 403) {
    return new OpsError(`Key Vault ${vault} refused to let this identity read secret "${secretName}" (403 ${err.code ?? 'Forbidden'})`, {
      hint: `grant the identity the "${KEY_VAULT_ROLE}" role on the vault: az role assignment create --role "${KEY_VAULT_ROLE}" --assignee <principal id> --scope $(az keyvault show -n ${vault} --query id -o tsv)   (role assignments take a few minutes to apply)`,
      exitCode: ExitCode.preflight,
      cause: e,
    });
  }
  if (err.code === 'ENOTFOUND' || /getaddrinfo|ENOTFOUND/.test(message)) {
    return new OpsError(`Key Vault ${vault} cannot be reached at ${vaultUrl(vault)}: ${message}`, {
      hint: 'check azure.keyVault in the environment file (the vault name, not its URL) and your network connection',
      exitCode: ExitCode.usage,
      cause: e,
    });
  }
  return new OpsError(`reading secret "${secretName}" from Key Vault ${vault} failed: ${message}`, {
    hint: 'retry in a minute; if it persists, check the vault in the Azure portal (Activity log)',
    exitCode: ExitCode.failed,
    cause: e,
  });
}

function isNotFound(e: unknown): boolean {
  const err = e as { statusCode?: number; code?: string };
  return err.statusCode === 404 || err.code === 'SecretNotFound';
}

/**
 * Reads the named secrets from a vault. Missing (404) and disabled-empty secrets are left out of
 * the result; any other failure stops the run with its fix. Each value is registered with the
 * redactor the moment it arrives.
 */
export async function readKeyVaultSecrets(
  vault: string,
  names: readonly string[],
  factory: SecretClientFactory,
  redactor: Redactor,
): Promise<Map<string, string>> {
  let client: SecretClientLike;
  try {
    client = await factory(vaultUrl(vault));
  } catch (e) {
    throw explainKeyVaultError(e, vault, names[0] ?? '', redactor);
  }
  const found = new Map<string, string>();
  // Sequential on purpose: the first auth failure ends the run instead of producing six.
  for (const name of names) {
    let value: string | undefined;
    try {
      value = (await client.getSecret(name)).value;
    } catch (e) {
      if (isNotFound(e)) continue;
      throw explainKeyVaultError(e, vault, name, redactor);
    }
    if (value === undefined) continue;
    redactor.register(value, { identifier: SECRET_CATALOG.find((e) => e.keyVaultName === name)?.identifier === true });
    found.set(name, value);
  }
  return found;
}
