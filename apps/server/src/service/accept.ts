/**
 * The representation an `Accept` header prefers among `offered` (in the server's order of
 * preference on ties), or `undefined` when it accepts none of them. No header accepts anything.
 * Media ranges (`image/*`, `*\/*`) and `q` weights are honoured; `q=0` refuses.
 */
export function preferredType<T extends string>(accept: string | undefined, offered: readonly T[]): T | undefined {
  if (accept === undefined || accept.trim() === '') return offered[0];
  const ranges = accept.split(',').map((part) => {
    const [range, ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    return { range: range.trim(), q: q === undefined ? 1 : Number(q.slice(2)) || 0 };
  });
  const weight = (type: string) => {
    const [major] = type.split('/');
    // The most specific matching range decides.
    const match = ranges.find((r) => r.range === type) ?? ranges.find((r) => r.range === `${major}/*`) ?? ranges.find((r) => r.range === '*/*');
    return match?.q ?? 0;
  };
  let best: T | undefined;
  let bestWeight = 0;
  for (const type of offered) {
    const w = weight(type);
    if (w > bestWeight) {
      best = type;
      bestWeight = w;
    }
  }
  return best;
}
