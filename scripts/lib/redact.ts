// Keeps registered secret values out of everything a script prints or records.

const MASK = '***';

export interface RegisterOptions {
  /**
   * An identifier kept out of output but allowed on a command line (a user name, a host list):
   * such values can be ordinary words ("backend") that also name things a command must mention.
   */
  identifier?: boolean;
}

export class Redactor {
  private readonly values = new Set<string>();
  /** The values no command line may carry: every registered one except identifiers. */
  private readonly forbidden = new Set<string>();

  /**
   * Registers a secret. Its base64 form is registered too, since Kubernetes Secret manifests and
   * `kubectl get secret -o json` carry values base64-encoded. Values shorter than 4 characters are
   * not registered: masking them would mangle ordinary words and still hide nothing worth hiding.
   */
  register(value: string | undefined | null, options: RegisterOptions = {}): void {
    if (!value) return;
    const forms = [value, value.trim(), Buffer.from(value, 'utf8').toString('base64')];
    // Secrets that span lines are also masked line by line, since tools re-wrap output.
    for (const line of value.split(/\r?\n/)) if (line.trim().length >= 8) forms.push(line.trim());
    for (const v of forms) {
      if (v.length < 4) continue;
      this.values.add(v);
      if (!options.identifier) this.forbidden.add(v);
    }
  }

  /** True when text contains a registered secret (identifiers excluded): it must not reach a command line. */
  forbidsOnCommandLine(text: string): boolean {
    for (const v of this.forbidden) if (text.includes(v)) return true;
    return false;
  }

  redact(text: string): string {
    if (this.values.size === 0 || !text) return text;
    // Longest first, so a secret that contains another is masked whole.
    const sorted = [...this.values].sort((a, b) => b.length - a.length);
    let out = text;
    for (const v of sorted) out = out.split(v).join(MASK);
    return out;
  }

  /** Redacts every string inside a JSON-like value. */
  redactDeep<T>(value: T): T {
    if (typeof value === 'string') return this.redact(value) as T;
    if (Array.isArray(value)) return value.map((v) => this.redactDeep(v)) as T;
    if (value && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = this.redactDeep(v);
      return out as T;
    }
    return value;
  }
}
