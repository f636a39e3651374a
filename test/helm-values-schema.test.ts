// values.schema.json: real `helm template` (Helm 3 and Helm 4) must refuse bad values before rendering.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { RELEASE, SHA, chartDir, helm, hostArgs, productionValuesFile, tagArgs, valuesFile } from './helm-render.ts';

const base = ['template', RELEASE, chartDir, '-f', valuesFile, '-f', productionValuesFile, ...tagArgs, ...hostArgs];
// helm applies --set-string after --set, so a case that sets the backend tag itself leaves it out here.
const baseWithoutBackendTag = ['template', RELEASE, chartDir, '-f', valuesFile, '-f', productionValuesFile, '--set-string', `frontend.image.tag=${SHA}`, ...hostArgs];

// Each case: the --set flags, and the value path the error must name (Helm 3 prints a.b.c, Helm 4 /a/b/c).
const cases: Array<{ what: string; args: string[]; path: string }> = [
  { what: 'replicas of the wrong type', args: ['--set', 'backend.replicas=two'], path: 'backend.replicas' },
  { what: 'replicas below the minimum', args: ['--set', 'backend.replicas=0'], path: 'backend.replicas' },
  { what: 'replicas above the maximum', args: ['--set', 'frontend.replicas=50'], path: 'frontend.replicas' },
  { what: 'a missing image repository', args: ['--set', 'backend.image.repository=null'], path: 'repository' },
  { what: 'an empty image repository', args: ['--set-string', 'frontend.image.repository='], path: 'frontend.image.repository' },
  { what: 'an all-digit tag passed with --set (a number, not a string)', args: ['--set', 'backend.image.tag=1234567'], path: 'backend.image.tag' },
  { what: 'an unknown key in a workload (typo)', args: ['--set', 'backend.replica=3'], path: 'replica' },
  { what: 'an unknown top-level key', args: ['--set', 'replicaCount=3'], path: 'replicaCount' },
  { what: 'an unknown environment', args: ['--set', 'global.environment=prod'], path: 'global.environment' },
  { what: 'a boolean given as a word', args: ['--set', 'ingress.enabled=yes'], path: 'ingress.enabled' },
  { what: 'an HPA target above 100%', args: ['--set', 'backend.autoscaling.targetCPUUtilizationPercentage=150'], path: 'backend.autoscaling.targetCPUUtilizationPercentage' },
  { what: 'an unknown pull policy', args: ['--set', 'backend.image.pullPolicy=Sometimes'], path: 'backend.image.pullPolicy' },
  { what: 'a secret for an unknown container', args: ['--set', 'secrets.DATABASE_URL.containers={worker}'], path: 'secrets.DATABASE_URL.containers' },
  { what: 'a CPU quantity that is not one', args: ['--set', 'backend.resources.requests.cpu=lots'], path: 'backend.resources.requests.cpu' },
  { what: 'an egress CIDR that is not one', args: ['--set', 'networkPolicy.externalCidrs={anywhere}'], path: 'networkPolicy.externalCidrs' },
];

const slashed = (p: string) => `/${p.replaceAll('.', '/')}`;

for (const major of [3, 4] as const) {
  test(`helm ${major}: the schema accepts values.yaml and values-production.yaml`, () => {
    const r = helm(major, base);
    assert.is(r.code, 0, r.stderr);
  });

  for (const c of cases) {
    test(`helm ${major}: the schema rejects ${c.what}`, () => {
      const args = c.args.some((a) => a.startsWith('backend.image.tag=')) ? baseWithoutBackendTag : base;
      const r = helm(major, [...args, ...c.args]);
      assert.is.not(r.code, 0, `accepted ${c.args.join(' ')}`);
      assert.match(r.stderr, /values don't meet the specifications of the schema/);
      assert.ok(r.stderr.includes(c.path) || r.stderr.includes(slashed(c.path)), `error does not name ${c.path}: ${r.stderr}`);
    });
  }
}

// Every leaf value of values.yaml must be typed, so no key slips past the schema untyped.
test('values.schema.json types every value in values.yaml and closes the objects', () => {
  type Schema = { type?: string; properties?: Record<string, Schema>; additionalProperties?: boolean | Schema; description?: string };
  const schema = JSON.parse(readFileSync(join(chartDir, 'values.schema.json'), 'utf8')) as Schema;
  const values = parse(readFileSync(valuesFile, 'utf8')) as unknown;
  const walk = (v: unknown, s: Schema | undefined, path: string): void => {
    assert.ok(s, `${path} has no schema`);
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      assert.is(s.type, 'object', path);
      for (const [k, child] of Object.entries(v)) {
        const sub = s.properties?.[k] ?? (typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined);
        walk(child, sub, `${path}.${k}`);
      }
      if (s.properties) assert.is(s.additionalProperties, false, `${path} is not closed`);
    } else {
      assert.ok(s.type, `${path} has no type`);
    }
  };
  walk(values, schema, '(values)');
});

test.run();
