// The page's controls from the engine's settings tables. The engine writes each setting once
// (src/session/settings.rs: name, label, doc, kind, accepted range, slider span, default); the
// build writes those tables to pkg/settings.js. A scene's page lists only how each control is
// shown: its group, how many slider positions, and page behaviour (live, enabledWhen, a button).
//
// From a row of the table:
//   label, help, default     the row's label ("σ_w" becomes σ with a subscript w), doc and default
//   min, max                 the slider's span: the row's `slider`, or its range
//   linkMin, linkMax         the row's accepted range: what a link may ask for (controls.js clamps
//                            to it; a value outside the slider is kept as given)
//   kind                     bool → checkbox; choice → select with the row's options; a number
//                            on a log scale → log-slider (with 0 as a first position when the
//                            range starts at 0), else int-slider or slider
// A page entry may set `kind: 'number'` (a text field: the seed) or `kind: 'select'` with
// `options` (a number offered at a few values: the batch size), but never a label, help,
// default or range: those are the engine's.

import { SPECS } from '../../pkg/settings.js';

const PAGE_KEYS = new Set([
  'name', 'group', 'positions', 'step', 'kind', 'options', 'numeric', 'live', 'enabledWhen', 'button', 'alwaysInUrl',
]);

/** The engine's settings table called `name` (a scene id, or e.g. 'double-descent/trained'). */
export function specOf(name) {
  const spec = SPECS[name];
  if (!spec) throw new Error(`the engine has no settings table called ${name}`);
  return spec;
}

/** The row of setting `setting` in table `name`. */
export function rowOf(name, setting) {
  const row = specOf(name).settings.find((s) => s.name === setting);
  if (!row) throw new Error(`${name}: the engine has no setting ${setting}`);
  return row;
}

/** The [value, label] options of the choice setting `setting` in table `name`. */
export function optionsOf(name, setting) {
  const row = rowOf(name, setting);
  if (row.kind.type !== 'choice') throw new Error(`${name}: ${setting} is not a choice`);
  return row.kind.options.map((o) => [o.value, o.label]);
}

/** The controls of scene `scene`: each page entry completed from the engine's row. */
export function controlsFrom(scene, entries) {
  return entries.map((entry) => {
    for (const k of Object.keys(entry)) {
      if (!PAGE_KEYS.has(k)) throw new Error(`${scene}: control ${entry.name} sets ${k}, which the engine's table holds`);
    }
    return { ...fromRow(rowOf(scene, entry.name)), ...entry };
  });
}

function fromRow(row) {
  const m = /^(.*)_(\w+)$/u.exec(row.label);
  const c = { name: row.name, label: m ? m[1] : row.label, help: row.doc, default: row.default };
  if (m) c.sub = m[2];
  switch (row.kind.type) {
    case 'bool':
      c.kind = 'checkbox';
      break;
    case 'choice':
      c.kind = 'select';
      c.options = row.kind.options.map((o) => [o.value, o.label]);
      break;
    default: {
      const [lo, hi] = row.slider ?? [row.min, row.max];
      Object.assign(c, { min: lo, max: hi, linkMin: row.min, linkMax: row.max });
      if (row.kind.type === 'int') c.integer = true;
      if (row.scale === 'log') {
        c.kind = 'log-slider';
        if (row.min === 0) c.zero = true;
      } else {
        c.kind = row.kind.type === 'int' ? 'int-slider' : 'slider';
      }
    }
  }
  return c;
}
