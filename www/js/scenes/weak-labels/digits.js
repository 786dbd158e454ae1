// The data for the weak labels' workers beyond the settings. The digits: the engine builds bags
// of the 8×8 digits from the text of data/digits.csv, which a worker fetches once, the first time
// a run needs it, and hands to its engine instance (setDigits, shared with the Playground). The
// reader's own table (data 'table'): its text and read options, parsed by the engine in each
// worker (DataTable.parse, as the Playground reads it) and held there (setWeakTable); a worker
// parses a table once, by the id the page gave the reading.

import {
  setDigits, hasDigits, DataTable, setWeakTable,
} from '../../../pkg/descent.js';

let loading = null;
let heldTable = null; // the id of the table this worker's engine holds

/**
 * Parses `text` with `options` and hands the table to this worker's engine as reading `id`;
 * returns its summary. Throws the parser's error (the engine keeps the table it held).
 */
export function holdTable(id, text, options) {
  const table = DataTable.parse(text, options ?? {});
  const summary = table.summary();
  setWeakTable(table); // taken by the engine
  heldTable = id;
  return summary;
}

/**
 * Hands this worker's engine the data `config` needs: the digits (fetched once), or the reader's
 * table `table` = {id, text, options} (parsed when this worker does not hold that reading yet).
 */
export async function dataFor(config, table = null) {
  if (config?.data === 'table') {
    if (table && table.id !== heldTable) holdTable(table.id, table.text, table.options);
    return;
  }
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
