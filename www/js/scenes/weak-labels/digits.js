// The digits for the weak labels' workers: the engine builds bags of the 8×8 digits from the text
// of data/digits.csv, which a worker fetches once, the first time a run needs it, and hands to
// its engine instance (setDigits, shared with the Playground).

import { setDigits, hasDigits } from '../../../pkg/descent.js';

let loading = null;

/** Hands this worker's engine the digits (fetched once) when `config` needs them. */
export async function dataFor(config) {
  if (config?.data !== 'digits' || hasDigits()) return;
  loading ??= (async () => {
    const res = await fetch(new URL('../../../data/digits.csv', import.meta.url));
    if (!res.ok) throw new Error(`could not load the digits data (HTTP ${res.status})`);
    setDigits(await res.text());
  })();
  try {
    await loading;
  } catch (err) {
    loading = null; // try again next time
    throw err;
  }
}
