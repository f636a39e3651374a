// The one declaration of every secret the app needs: where it comes from (.env / Key Vault name),
// which Kubernetes Secret and key it lands in, and which workloads read it. The chart's values
// and the Dapr components name the same Secrets; test/catalog.test.ts keeps them from drifting.

export interface SecretEntry {
  /** Name in .env and in the process environment. */
  envVar: string;
  /** Name of the secret in Azure Key Vault (Key Vault allows only letters, digits and dashes). */
  keyVaultName: string;
  /** Kubernetes Secret and key. */
  secret: string;
  key: string;
  /** Deployments (chart names) that read it, directly or through their Dapr sidecar; restarted when it changes. */
  consumers: readonly string[];
  /** What a valid value looks like, for .env.example and error hints. */
  format: string;
  /**
   * Not a secret but kept out of output like one (a user name, host names): it may appear on a
   * command line, since it can be an ordinary word that also names a workload.
   */
  identifier?: boolean;
}

export const SECRET_CATALOG: readonly SecretEntry[] = [
  {
    envVar: 'DATABASE_URL', keyVaultName: 'database-url', secret: 'database-credentials', key: 'connection-string',
    consumers: ['todo-backend'], format: 'postgresql://USER:PASSWORD@HOST/DB?sslmode=require (Neon connection string)',
  },
  {
    envVar: 'OPENAI_API_KEY', keyVaultName: 'openai-api-key', secret: 'openai-credentials', key: 'api-key',
    consumers: ['todo-backend'], format: 'sk-proj-... or sk-svcacct-... (an OpenAI project or service account API key)',
  },
  {
    envVar: 'BETTER_AUTH_SECRET', keyVaultName: 'better-auth-secret', secret: 'auth-credentials', key: 'secret',
    consumers: ['todo-backend', 'todo-frontend'], format: 'at least 32 random characters (openssl rand -base64 32)',
  },
  {
    envVar: 'REDPANDA_BOOTSTRAP_SERVERS', keyVaultName: 'redpanda-bootstrap-servers', secret: 'redpanda-credentials', key: 'bootstrap-servers',
    consumers: ['todo-backend'], format: 'host:port[,host:port...] (Redpanda Cloud bootstrap servers)', identifier: true,
  },
  {
    envVar: 'REDPANDA_SASL_USERNAME', keyVaultName: 'redpanda-sasl-username', secret: 'redpanda-credentials', key: 'username',
    consumers: ['todo-backend'], format: 'the Redpanda Cloud SASL user name', identifier: true,
  },
  {
    envVar: 'REDPANDA_SASL_PASSWORD', keyVaultName: 'redpanda-sasl-password', secret: 'redpanda-credentials', key: 'password',
    consumers: ['todo-backend'], format: 'the Redpanda Cloud SASL password',
  },
];

/** Kubernetes Secret names in catalog order, without repeats. */
export function secretNames(): string[] {
  return [...new Set(SECRET_CATALOG.map((e) => e.secret))];
}

/** Registers a catalog value with the redactor the way its entry says (identifiers may reach a command line). */
export function registerCatalogValue(redactor: { register(value: string | undefined, options?: { identifier?: boolean }): void }, entry: SecretEntry, value: string | undefined): void {
  redactor.register(value, { identifier: entry.identifier === true });
}
