// Pure helpers of track playback: where the car was at a given time, and which trip or stop
// that time falls in. Points are the API's track points, ascending by ts_ms.

/** Index of the last point at or before tsMs (0 before the first). */
export function indexAt(points, tsMs) {
  let lo = 0;
  let hi = points.length - 1;
  if (hi < 0 || tsMs <= points[0].ts_ms) return 0;
  if (tsMs >= points[hi].ts_ms) return hi;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (points[mid].ts_ms <= tsMs) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

function bearingDeg(a, b) {
  const kx = Math.cos(((a.lat + b.lat) / 2) * (Math.PI / 180));
  const dx = (b.lon - a.lon) * kx;
  const dy = b.lat - a.lat;
  if (dx === 0 && dy === 0) return null;
  return ((Math.atan2(dx, dy) * 180) / Math.PI + 360) % 360;
}

/** The car at tsMs, interpolated linearly between the fixes around it. */
export function sampleAt(points, tsMs) {
  if (!points.length) return null;
  const i = indexAt(points, tsMs);
  const a = points[i];
  const b = points[Math.min(i + 1, points.length - 1)];
  const span = b.ts_ms - a.ts_ms;
  const f = span > 0 ? Math.min(1, Math.max(0, (tsMs - a.ts_ms) / span)) : 0;
  const lerp = (x, y) => (x == null || y == null ? (x ?? y) : x + (y - x) * f);
  return {
    index: i,
    ts_ms: Math.min(Math.max(tsMs, points[0].ts_ms), points[points.length - 1].ts_ms),
    lat: lerp(a.lat, b.lat),
    lon: lerp(a.lon, b.lon),
    speed_kmh: lerp(a.speed_kmh, b.speed_kmh),
    // The direction of travel where the car moves; the terminal's heading where it stands.
    heading_deg: bearingDeg(a, b) ?? a.heading_deg ?? 0,
    acc: f < 0.5 ? a.acc : b.acc,
  };
}

/** The segment (trip or stop) whose clipped span holds tsMs, with its position in the list. */
export function segmentAt(segments, tsMs) {
  for (let i = 0; i < segments.length; i += 1) {
    const s = segments[i];
    if (s.clip_start_ms <= tsMs && tsMs <= s.clip_end_ms) return { index: i, segment: s };
  }
  return null;
}

/**
 * Where playback goes on from tsMs when stops are skipped: past a stop longer than minStopMs,
 * and across a gap in the data longer than maxGapMs.
 */
export function skipForward(points, stops, tsMs, { minStopMs = 120_000, maxGapMs = 300_000 } = {}) {
  let t = tsMs;
  for (const stop of stops) {
    const long = stop.clip_end_ms - stop.clip_start_ms > minStopMs;
    if (long && stop.clip_start_ms <= t && t < stop.clip_end_ms) t = stop.clip_end_ms;
  }
  const i = indexAt(points, t);
  if (i + 1 < points.length && points[i + 1].ts_ms - points[i].ts_ms > maxGapMs) {
    t = Math.max(t, points[i + 1].ts_ms);
  }
  return t;
}
