// The summary of rendered manifests deploy.mts --dry-run prints: kind, name, replicas, images.
import { parseAllDocuments } from 'yaml';

export interface ManifestSummary {
  kind: string;
  name: string;
  /** Deployment replicas, or "HPA min-max" for an autoscaled one. */
  replicas?: string;
  images: string[];
}

/** The slice of a rendered object the summary reads. */
interface RenderedObject {
  kind?: string;
  metadata?: { name?: string };
  spec?: {
    replicas?: number;
    minReplicas?: number;
    maxReplicas?: number;
    scaleTargetRef?: { kind?: string; name?: string };
    containers?: Array<{ image?: string }>;
    initContainers?: Array<{ image?: string }>;
    template?: { spec?: { containers?: Array<{ image?: string }>; initContainers?: Array<{ image?: string }> } };
  };
}

/** kind, name, replicas and images of each object `helm template` rendered. */
export function summariseManifests(yamlText: string): ManifestSummary[] {
  const objects = parseAllDocuments(yamlText).map((d) => d.toJS() as RenderedObject | null).filter((o): o is RenderedObject => Boolean(o?.kind));
  const hpas = objects.filter((o) => o.kind === 'HorizontalPodAutoscaler');
  return objects.map((o) => {
    const podSpec = o.kind === 'Pod' ? o.spec : o.spec?.template?.spec;
    const containers = [...(podSpec?.initContainers ?? []), ...(podSpec?.containers ?? [])];
    const out: ManifestSummary = { kind: String(o.kind), name: String(o.metadata?.name ?? ''), images: containers.map((c) => String(c.image ?? '')).filter(Boolean) };
    if (['Deployment', 'StatefulSet', 'ReplicaSet'].includes(out.kind)) {
      const hpa = hpas.find((h) => h.spec?.scaleTargetRef?.kind === out.kind && h.spec?.scaleTargetRef?.name === out.name);
      out.replicas = hpa ? `HPA ${hpa.spec?.minReplicas ?? 1}-${hpa.spec?.maxReplicas ?? '?'}` : String(o.spec?.replicas ?? 1);
    }
    return out;
  });
}

export function formatManifestTable(rows: readonly ManifestSummary[]): string {
  const table = [['KIND', 'NAME', 'REPLICAS', 'IMAGES'], ...rows.map((r) => [r.kind, r.name, r.replicas ?? '', r.images.join(', ')])];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => (r[i] ?? '').length)));
  return table.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n');
}
