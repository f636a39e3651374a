// The Key Vault source against a test double of the SDK's SecretClient (no network): which source
// wins, a secret missing from the vault, and sign-in / permission failures with their fixes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AggregateAuthenticationError, CredentialUnavailableError } from '@azure/identity';
import { RestError } from '@azure/core-rest-pipeline';
import { OpsError } from '../scripts/lib/errors.ts';
import { azureSecretClientFactory, vaultUrl } from '../scripts/lib/keyvault.ts';
import type { SecretClientFactory, SecretClientLike } from '../scripts/lib/keyvault.ts';
import { SECRET_CATALOG } from '../scripts/lib/secret-catalog.ts';
import { syncSecrets } from '../scripts/lib/secrets.ts';
import { FakeWorld } from './support/harness.ts';
import { deployments, goodValues, makeContext, mutatingCalls, productionWithVault, secretData, writeEnvFile } from './support/secrets.ts';
import type { Values } from './support/secrets.ts';
import { PROD } from './support/names.ts';

const VAULT = 'kv-todo-test';
const envYaml = productionWithVault(VAULT);

/** Behaves like SecretClient.getSecret: the value, a 404 RestError for a missing name, or a thrown failure. */
class SecretClientDouble implements SecretClientLike {
  readonly asked: string[] = [];
  private readonly secrets: Record<string, string>;
  private readonly failure: Error | undefined;
  constructor(secrets: Record<string, string>, failure?: Error) { this.secrets = secrets; this.failure = failure; }
  async getSecret(name: string): Promise<{ name: string; value?: string }> {
    this.asked.push(name);
    if (this.failure) throw this.failure;
    if (!(name in this.secrets)) {
      throw new RestError(`A secret with (name/id) ${name} was not found in this key vault.`, { code: 'SecretNotFound', statusCode: 404 });
    }
    return { name, value: this.secrets[name] };
  }
}

/** The vault's content for a set of values, by the catalog's Key Vault names. */
function vaultOf(values: Values, omit: string[] = []): Record<string, string> {
  return Object.fromEntries(SECRET_CATALOG.filter((e) => !omit.includes(e.envVar)).map((e) => [e.keyVaultName, values[e.envVar]!]));
}

async function withProd<T>(fn: (world: FakeWorld) => Promise<T>): Promise<{ world: FakeWorld; result: T }> {
  const world = new FakeWorld({ kube: { context: PROD.context, objects: deployments } });
  const restore = world.activate({ timeScale: 1 });
  try {
    return { world, result: await fn(world) };
  } finally {
    restore();
  }
}

async function expectFailure(p: Promise<unknown>): Promise<OpsError> {
  try {
    await p;
  } catch (e) {
    assert.instance(e, OpsError);
    return e as OpsError;
  }
  throw new Error('expected the call to fail');
}

test('precedence: Key Vault wins over .env per key; .env fills what the vault lacks; both are shown by name', async () => {
  const vault = goodValues('kv');
  const file = goodValues('file');
  const double = new SecretClientDouble(vaultOf(vault, ['REDPANDA_SASL_USERNAME']));
  let urlAsked = '';
  const factory: SecretClientFactory = (url) => { urlAsked = url; return double; };
  const { ctx, output } = makeContext(envYaml);
  const { world, result } = await withProd(() => syncSecrets(ctx, { envFile: writeEnvFile(file), restart: true }, { secretClient: factory }));

  assert.is(urlAsked, `https://${VAULT}.vault.azure.net`);
  assert.equal(double.asked, SECRET_CATALOG.map((e) => e.keyVaultName));
  // The cluster holds the vault's values, except the one the vault lacks.
  assert.is(secretData(world, 'openai-credentials')?.['api-key'], vault.OPENAI_API_KEY);
  assert.is(secretData(world, 'database-credentials')?.['connection-string'], vault.DATABASE_URL);
  assert.is(secretData(world, 'redpanda-credentials')?.username, file.REDPANDA_SASL_USERNAME);
  assert.equal(result.plan.keys.map((k) => `${k.envVar}:${k.source}`), SECRET_CATALOG.map((e) => `${e.envVar}:${e.envVar === 'REDPANDA_SASL_USERNAME' ? 'dotenv' : 'keyvault'}`));

  const out = output();
  assert.match(out, new RegExp(`source: OPENAI_API_KEY from Key Vault ${VAULT} \\(openai-api-key\\) \\(Key Vault wins over \\S*\\.env:2\\)`));
  assert.match(out, new RegExp(`warning: REDPANDA_SASL_USERNAME: not in Key Vault ${VAULT} as "redpanda-sasl-username"; using \\S*\\.env:5`));
  for (const v of [...Object.values(vault), ...Object.values(file)]) assert.not.ok(out.includes(v), 'no value printed');
  assert.equal(result.restarted, ['todo-backend', 'todo-frontend']);
});

test('Key Vault alone: no .env file is needed when the vault has every secret', async () => {
  const vault = goodValues('kv');
  const { ctx, output } = makeContext(envYaml);
  const { world } = await withProd(() => syncSecrets(ctx, { envFile: '/nonexistent/.env', restart: false }, { secretClient: () => new SecretClientDouble(vaultOf(vault)) }));
  assert.is(secretData(world, 'auth-credentials')?.secret, vault.BETTER_AUTH_SECRET);
  assert.match(output(), /no \/nonexistent\/\.env: every secret must come from Key Vault kv-todo-test/);
});

test('a secret missing from the vault and from .env: exit 2 naming the key, the vault name and both fixes; nothing applied', async () => {
  const vault = goodValues('kv');
  const { ctx } = makeContext(envYaml);
  const { world, result: err } = await withProd(() => expectFailure(syncSecrets(ctx, { envFile: '/nonexistent/.env', restart: true }, { secretClient: () => new SecretClientDouble(vaultOf(vault, ['OPENAI_API_KEY'])) })));
  assert.is(err.exitCode, 2);
  assert.match(err.message, /OPENAI_API_KEY: is missing: neither \/nonexistent\/\.env nor Key Vault kv-todo-test \(as "openai-api-key"\) has it/);
  assert.match(err.message, /az keyvault secret set --vault-name kv-todo-test --name openai-api-key --file \/dev\/stdin/);
  assert.equal(mutatingCalls(world), []);
});

test('a vault value with a trailing newline is refused like a .env one, naming the vault secret', async () => {
  const vault = { ...goodValues('kv'), REDPANDA_SASL_PASSWORD: 'vault-pass-4455\n' };
  const { ctx } = makeContext(envYaml);
  const { world, result: err } = await withProd(() => expectFailure(syncSecrets(ctx, { envFile: '/nonexistent/.env', restart: true }, { secretClient: () => new SecretClientDouble(vaultOf(vault)) })));
  assert.is(err.exitCode, 2);
  assert.match(err.message, /REDPANDA_SASL_PASSWORD \(Key Vault kv-todo-test \(redpanda-sasl-password\)\): ends with a newline/);
  assert.match(err.message, /printf '%s'/);
  assert.not.ok(err.message.includes('vault-pass-4455'));
  assert.equal(mutatingCalls(world), []);
});

test('not signed in (CredentialUnavailableError): exit 3, hint names az login and the federated credential; nothing applied', async () => {
  const failure = new CredentialUnavailableError('DefaultAzureCredential failed to retrieve a token from the included credentials. Please run \'az login\' to set up an account.');
  const { ctx } = makeContext(envYaml);
  const { world, result: err } = await withProd(() => expectFailure(syncSecrets(ctx, { envFile: writeEnvFile(goodValues()), restart: true }, { secretClient: () => new SecretClientDouble({}, failure) })));
  assert.is(err.exitCode, 3);
  assert.match(err.message, /cannot sign in to Azure to read Key Vault kv-todo-test/);
  assert.match(err.hint ?? '', /az login/);
  assert.match(err.hint ?? '', /federated credential/);
  assert.match(err.hint ?? '', /Key Vault Secrets User/);
  assert.equal(mutatingCalls(world), []);
  assert.is(world.calls.filter((c) => c.args[0] === 'get' && c.args[1] === 'secret').length, 0);
});

test('every credential in the chain failed (AggregateAuthenticationError): the same sign-in hint', async () => {
  const failure = new AggregateAuthenticationError([new CredentialUnavailableError('EnvironmentCredential is unavailable'), new CredentialUnavailableError('AzureCliCredential: Please run \'az login\'')], 'ChainedTokenCredential authentication failed.');
  const { ctx } = makeContext(envYaml);
  const { result: err } = await withProd(() => expectFailure(syncSecrets(ctx, { envFile: writeEnvFile(goodValues()), restart: true }, { secretClient: () => new SecretClientDouble({}, failure) })));
  assert.is(err.exitCode, 3);
  assert.match(err.hint ?? '', /az login .*azure\/login with OIDC .*federated credential/);
});

test('signed in but not allowed (403): exit 3 with the role assignment as the fix', async () => {
  const failure = new RestError('Caller is not authorized to perform action on resource.', { code: 'Forbidden', statusCode: 403 });
  const { ctx } = makeContext(envYaml);
  const { world, result: err } = await withProd(() => expectFailure(syncSecrets(ctx, { envFile: writeEnvFile(goodValues()), restart: true }, { secretClient: () => new SecretClientDouble({}, failure) })));
  assert.is(err.exitCode, 3);
  assert.match(err.message, /Key Vault kv-todo-test refused to let this identity read secret "database-url" \(403 Forbidden\)/);
  assert.match(err.hint ?? '', /az role assignment create --role "Key Vault Secrets User"/);
  assert.equal(mutatingCalls(world), []);
});

test('the real factory builds a SecretClient for the vault URL without calling Azure', async () => {
  const client = await azureSecretClientFactory(vaultUrl(VAULT)) as unknown as { vaultUrl: string };
  assert.is(client.vaultUrl, 'https://kv-todo-test.vault.azure.net');
});

test.run();
