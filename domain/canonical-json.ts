/**
 * Canonical JSON: object keys sorted at every depth, no whitespace. Two equal values always
 * serialise to the same string, which is what an action hash needs.
 * Throws on values JSON cannot represent faithfully (functions, non-finite numbers, cycles).
 */
export function canonicalJson(value: unknown): string {
  return serialise(value, new Set());
}

function serialise(value: unknown, seen: Set<object>): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`canonicalJson: non-finite number ${value}`);
      return JSON.stringify(value);
    case 'object': {
      if (seen.has(value)) throw new TypeError('canonicalJson: cyclic value');
      seen.add(value);
      const out = Array.isArray(value)
        ? `[${value.map((v) => serialise(v === undefined ? null : v, seen)).join(',')}]`
        : `{${Object.keys(value)
            .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
            .sort()
            .map((k) => `${JSON.stringify(k)}:${serialise((value as Record<string, unknown>)[k], seen)}`)
            .join(',')}}`;
      seen.delete(value);
      return out;
    }
    default:
      throw new TypeError(`canonicalJson: cannot serialise ${typeof value}`);
  }
}
