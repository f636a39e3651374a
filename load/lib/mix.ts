// Which request an iteration makes. Decided from the iteration's number in the whole test
// (k6's `exec.scenario.iterationInTest`, unique across VUs), so the chat share and the chat cap
// hold for the run as a whole, not per VU, and no state has to be shared between VUs.

export type Endpoint = 'frontend' | 'health' | 'tasks_list' | 'tasks_create' | 'chat';

/** Relative weights of the endpoints other than chat; chat has its own share and cap. */
export type Weights = Readonly<Partial<Record<Exclude<Endpoint, 'chat'>, number>>>;

/** A user's visit in the hpa scenario: mostly pages and task lists, some writes, health polls. */
export const HPA_WEIGHTS: Weights = { frontend: 3, tasks_list: 4, tasks_create: 2, health: 1 };

/** The smoke scenario reads only: no task is created in production by a post-deploy check. */
export const SMOKE_WEIGHTS: Weights = { frontend: 1, health: 1, tasks_list: 1 };

const GOLDEN = 0.6180339887498949;

/**
 * Iteration `n` (0-based) is a chat iteration when it moves `floor(n * share)` up by one, so
 * exactly `floor(N * share)` of the first N iterations chat, spread evenly. The k-th chat
 * (0-based, k = floor(n * share)) is allowed only while k < maxChats: a hard cap whatever the
 * number of VUs or iterations.
 */
export function isChatIteration(n: number, share: number, maxChats: number): boolean {
  if (share <= 0 || maxChats <= 0) return false;
  const before = Math.floor(n * share + 1e-9);
  const after = Math.floor((n + 1) * share + 1e-9);
  return after > before && before < maxChats;
}

/**
 * Picks a non-chat endpoint by weight. The position comes from the golden-ratio sequence of the
 * iteration number: evenly spread like random draws, but reproducible, so a test can count it.
 */
export function pickEndpoint(n: number, weights: Weights): Exclude<Endpoint, 'chat'> {
  const entries = Object.entries(weights).filter(
    (e): e is [Exclude<Endpoint, 'chat'>, number] => typeof e[1] === 'number' && e[1] > 0,
  );
  const total = entries.reduce((sum, [, w]) => sum + w, 0);
  const last = entries[entries.length - 1];
  if (!last || total <= 0) throw new Error('pickEndpoint: no endpoint has a positive weight');
  let point = ((n * GOLDEN) % 1) * total;
  for (const [endpoint, weight] of entries) {
    if (point < weight) return endpoint;
    point -= weight;
  }
  // Only floating-point rounding at the very top of the range gets here.
  return last[0];
}

export function planIteration(n: number, weights: Weights, chatShare: number, maxChats: number): Endpoint {
  return isChatIteration(n, chatShare, maxChats) ? 'chat' : pickEndpoint(n, weights);
}
