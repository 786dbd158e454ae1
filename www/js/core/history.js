// The Playground's loss history and what the page reads from it: which points are kept when it
// grows long, and when the training loss has stopped moving. Pure functions over
// {step: [], train: [], test: []} (parallel arrays, steps increasing), shared by the page and
// its tests.

/**
 * The first steps are reported one by one (the worker advances a single step at a time until
 * here), so that a spike in the first steps, such as a catapult's, is drawn as it happened.
 * Thinning never touches them.
 */
export const EARLY_STEPS = 1000;

/** The convergence rule (see `settled`): judged over the last half of training, steps s/2 to s. */
export const CONVERGENCE = {
  /** The train loss moved by less than this share of its current value ... */
  tolerance: 0.001,
  /** Not judged before this step ... */
  minStep: 1000,
  /** ... nor while the loss is above this share of its first value (it has not started yet). */
  minDrop: 0.9,
};

/**
 * Halves the number of points after the early steps: of the older half of them, each pair of
 * neighbours becomes one point, the one with the larger train loss, so that a spike survives
 * every thinning. The points of steps ≤ `early` and the newer half are kept as they are.
 */
export function thinHistory(h, early = EARLY_STEPS) {
  const n = h.step.length;
  let from = 0;
  while (from < n && h.step[from] <= early) from++;
  const mid = from + ((n - from) >> 1);
  const keep = [];
  for (let i = 0; i < from; i++) keep.push(i);
  for (let i = from; i < mid; i += 2) {
    const j = i + 1 < mid ? i + 1 : i;
    keep.push(larger(h.train[j], h.train[i]) ? j : i);
  }
  for (let i = mid; i < n; i++) keep.push(i);
  for (const key of Object.keys(h)) {
    const a = h[key];
    h[key] = keep.map((i) => a[i]);
  }
  return h;
}

/** Whether loss `a` is larger than `b`; a finite loss beats a missing one. */
function larger(a, b) {
  if (!Number.isFinite(a)) return false;
  return !Number.isFinite(b) || a > b;
}

/**
 * Whether the train loss has stopped moving at the last point of `h`: its step s is at least
 * `minStep`, the loss is below `minDrop` × the first loss, and every train loss reported from
 * step s/2 to s (and the last one before step s/2, where the window starts) lies
 * within `tolerance` × the last loss of the last loss. Non-finite losses never count as settled.
 */
export function settled(h, rule = CONVERGENCE) {
  const n = h.step.length;
  if (n < 2) return false;
  const s = h.step[n - 1];
  const last = h.train[n - 1];
  const first = h.train[0];
  if (!(s >= rule.minStep) || !Number.isFinite(last) || !Number.isFinite(first)) return false;
  if (!(last <= rule.minDrop * first)) return false;
  const from = s / 2;
  const band = rule.tolerance * Math.abs(last);
  // Back to the first point at or before step s/2: the loss where the window starts.
  for (let i = n - 2; i >= 0; i--) {
    const v = h.train[i];
    if (!Number.isFinite(v) || Math.abs(v - last) > band) return false;
    if (h.step[i] <= from) return true;
  }
  return false;
}
