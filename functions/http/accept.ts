/**
 * Content negotiation: which of `offers` (in the server's order of preference) the client's Accept
 * header wants most. A missing Accept header accepts anything, so the first offer wins.
 */
export function negotiate<T extends string>(accept: string | undefined, offers: readonly T[]): T | undefined {
  if (!accept?.trim()) return offers[0];
  const ranges = accept.split(",").map((part) => {
    const [range = "", ...params] = part.trim().toLowerCase().split(";");
    const q = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
    return { range: range.trim(), q: q ? Number(q.slice(2)) : 1 };
  });
  let best: { offer: T; q: number } | undefined;
  for (const offer of offers) {
    const q = quality(offer, ranges);
    if (q > 0 && (!best || q > best.q)) best = { offer, q };
  }
  return best?.offer;
}

/** The q of the most specific range that matches `offer` (RFC 9110 §12.5.1). */
function quality(offer: string, ranges: { range: string; q: number }[]): number {
  const [type] = offer.split("/");
  const exact = ranges.find((r) => r.range === offer);
  const family = ranges.find((r) => r.range === `${type}/*`);
  const any = ranges.find((r) => r.range === "*/*");
  const match = exact ?? family ?? any;
  return match && Number.isFinite(match.q) ? match.q : 0;
}
