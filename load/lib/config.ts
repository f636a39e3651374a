// Settings for the k6 scenarios, read once from k6's environment (`k6 run -e NAME=value`).
// Every parser throws on a bad value: k6 stops in the init context with the message, before any request.

export type Env = Readonly<Record<string, string | undefined>>;

/** The settings both scenarios share. */
export interface ScenarioConfig {
  /** Public URL of the app, without a trailing slash (frontend at `/`, backend under `/api`). */
  baseUrl: string;
  /** Sent as `Authorization: Bearer <token>` on every `/api` request when set. */
  authToken: string | undefined;
  /** Fraction of iterations that send a chat message (each one is an OpenAI call). */
  chatShare: number;
  /** Hard cap on chat requests for the whole test run, across all VUs. */
  maxChatRequests: number;
  /** The message the chat requests send. */
  chatMessage: string;
  /** Where `handleSummary` writes k6's summary data as JSON. */
  summaryPath: string;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const DURATION = /^(\d+(\.\d+)?(ms|s|m|h))+$/;

/** `BASE_URL` is required: a load test against a guessed host is worse than none. */
export function readBaseUrl(env: Env, script: string): string {
  const raw = env.BASE_URL?.trim();
  if (!raw) {
    throw new ConfigError(
      `BASE_URL is not set. Run: k6 run -e BASE_URL=https://<your-app-host> ${script}`,
    );
  }
  if (!/^https?:\/\/[^/\s]+/.test(raw)) {
    throw new ConfigError(`BASE_URL must start with http:// or https:// and name a host, got "${raw}"`);
  }
  return raw.replace(/\/+$/, '');
}

/** A k6 duration string such as `30s`, `2m` or `1m30s`. */
export function readDuration(env: Env, name: string, fallback: string): string {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  if (!DURATION.test(raw)) {
    throw new ConfigError(`${name} must be a k6 duration such as 30s, 2m or 1m30s, got "${raw}"`);
  }
  return raw;
}

export function readInt(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(`${name} must be a whole number, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${value}`);
  return value;
}

/** A number of seconds, fractions allowed (think time). */
export function readSeconds(env: Env, name: string, fallback: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!/^\d+(\.\d+)?$/.test(raw) || !Number.isFinite(value)) {
    throw new ConfigError(`${name} must be a number of seconds such as 1 or 0.5, got "${raw}"`);
  }
  return value;
}

/** A fraction between 0 and 1 inclusive. */
export function readFraction(env: Env, name: string, fallback: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!/^\d*(\.\d+)?$/.test(raw) || !(value >= 0 && value <= 1)) {
    throw new ConfigError(`${name} must be a fraction between 0 and 1 such as 0.05, got "${raw}"`);
  }
  return value;
}

export interface ScenarioDefaults {
  script: string;
  chatShare: number;
  maxChatRequests: number;
  summaryPath: string;
}

export function readScenarioConfig(env: Env, defaults: ScenarioDefaults): ScenarioConfig {
  const token = env.AUTH_TOKEN?.trim();
  return {
    baseUrl: readBaseUrl(env, defaults.script),
    authToken: token ? token : undefined,
    chatShare: readFraction(env, 'CHAT_SHARE', defaults.chatShare),
    maxChatRequests: readInt(env, 'MAX_CHAT_REQUESTS', defaults.maxChatRequests, 0, 1_000_000),
    chatMessage: env.CHAT_MESSAGE?.trim() || 'Load test: list my open tasks',
    summaryPath: env.SUMMARY_PATH?.trim() || defaults.summaryPath,
  };
}
