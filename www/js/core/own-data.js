// "Your own data": the file chooser and drop zone for a CSV or TSV file of the Playground and
// the Weak labels scene, the options of how it is read (target column, task; the test share and
// standardisation are the scene's Data controls) and what was read (or why it could not be). The
// file is read in this browser only: its text goes to the page's own workers, which parse it
// with the engine; nothing is uploaded anywhere.

const $ = (id) => document.getElementById(id);

/** The largest file read at all: above it the file is refused before it is read (with its size). */
export const MAX_FILE_BYTES = 64 * 1024 * 1024;

/** How a file is read (the engine's table options; see src/data/table.rs). */
export const DEFAULT_READ = { target: null, task: 'auto' };

function el(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'text') e.textContent = v;
    else if (k === 'class') e.className = v;
    else if (v !== false && v != null) e.setAttribute(k, v === true ? '' : String(v));
  }
  e.append(...kids);
  return e;
}

function formatBytes(b) {
  if (b >= 1e9) return `${(b / 1e9).toFixed(1)} GB`;
  if (b >= 1e6) return `${(b / 1e6).toFixed(1)} MB`;
  return `${Math.max(1, Math.round(b / 1e3))} kB`;
}

/** The Playground's sentence on a table's inputs: more than two are drawn on a plane. */
function principalPlane(t) {
  return t.dim > 2 ? ` Its ${t.dim} inputs are drawn on their first two principal axes.` : '';
}

/**
 * Builds the panel into `root`. `onFile({name, size, text})` fires when a file was read;
 * `onRead(options)` when the reader changes how it is read; `onForget()` when the reader goes
 * back to the built-in sets. `inputsNote(summary)`: the sentence on how the scene draws the
 * table's inputs (default: the Playground's principal plane). Returns {showTable(summary),
 * showError(message), setBusy(text), clear()}.
 */
export function ownDataPanel(root, { onFile, onRead, onForget, inputsNote = principalPlane }) {
  const input = el('input', { type: 'file', id: 'data-file', accept: '.csv,.tsv,.txt,text/csv,text/tab-separated-values,text/plain', class: 'visually-hidden' });
  const chooser = el('label', { for: 'data-file', class: 'btn drop-zone', id: 'data-drop', tabindex: '-1' },
    el('span', { text: 'Choose a CSV or TSV file… or drop it here' }));
  const privacy = el('p', { class: 'note-muted', id: 'data-privacy', text: 'The file is read in this browser only and never sent anywhere. A link to a run on it does not hold the data.' });
  const status = el('p', { class: 'own-data-status', id: 'data-status', role: 'status', 'aria-live': 'polite' });
  const error = el('p', { class: 'alert alert-error own-data-error', id: 'data-error', role: 'alert', hidden: true });

  const target = el('select', { id: 'data-target' });
  const task = el('select', { id: 'data-task' },
    el('option', { value: 'auto', text: 'infer from the target' }),
    el('option', { value: 'classification', text: 'classification' }),
    el('option', { value: 'regression', text: 'regression' }));
  const forget = el('button', { type: 'button', class: 'btn btn-small', id: 'data-forget', text: 'Back to the built-in sets' });
  const options = el('div', { class: 'own-data-options', id: 'data-options', hidden: true },
    field('data-target', 'Target column', target),
    field('data-task', 'Task', task),
    el('p', { class: 'note-muted', text: 'The test share and standardisation are under Data, above.' }),
    forget);

  root.replaceChildren(
    el('h2', { class: 'own-data-title', text: 'Your own data' }),
    privacy, input, chooser, error, status, options,
  );

  const read = () => ({
    target: target.value === '' ? null : target.value,
    task: task.value,
  });
  for (const c of [target, task]) c.addEventListener('change', () => onRead(read()));
  forget.addEventListener('click', () => onForget());

  async function take(file) {
    if (!file) return;
    api.clearError();
    if (file.size === 0) {
      api.showError(`${file.name} is empty.`);
      return;
    }
    if (file.size > MAX_FILE_BYTES) {
      api.showError(`${file.name} is ${formatBytes(file.size)}; files up to ${formatBytes(MAX_FILE_BYTES)} are read in the page. The run shown is kept.`);
      return;
    }
    api.setBusy(`Reading ${file.name}…`);
    let text;
    try {
      text = await file.text();
    } catch (err) {
      api.showError(`Could not read ${file.name}: ${err?.message ?? err}`);
      return;
    }
    onFile({ name: file.name, size: file.size, text });
  }

  input.addEventListener('change', () => {
    take(input.files?.[0]);
    input.value = ''; // choosing the same file again reads it again
  });
  // Dropping works anywhere on the panel's block, and on the stage's plots.
  const dropTargets = [root];
  for (const t of dropTargets) {
    t.addEventListener('dragover', (e) => {
      if (![...(e.dataTransfer?.types ?? [])].includes('Files')) return;
      e.preventDefault();
      root.classList.add('dragging');
    });
    t.addEventListener('dragleave', () => root.classList.remove('dragging'));
    t.addEventListener('drop', (e) => {
      e.preventDefault();
      root.classList.remove('dragging');
      take(e.dataTransfer?.files?.[0]);
    });
  }

  let shown = ''; // the status of the file the run trains on
  const api = {
    /**
     * What the engine read: {name, rows, dim, columns, target, task, classes, classNames,
     * dropped, hash} and `taskChoice` (what the reader chose: auto, classification,
     * regression); the options follow it.
     */
    showTable(t) {
      api.clearError();
      target.replaceChildren(...t.columns.map((c) => el('option', { value: c, text: c, selected: c === t.target })));
      task.value = t.taskChoice ?? 'auto';
      options.hidden = false;
      const what = t.task === 'classification' ? `classification, ${t.classes} classes` : 'regression';
      const dropped = t.dropped > 0 ? ` ${t.dropped} row${t.dropped === 1 ? '' : 's'} with missing values dropped.` : '';
      const plane = inputsNote(t);
      shown = `${t.name}: ${t.rows} rows, ${t.dim} input${t.dim === 1 ? '' : 's'}, target “${t.target}” (${what}).${dropped}${plane}`;
      status.textContent = shown;
      root.dataset.loaded = 'true';
    },
    showError(message) {
      error.textContent = message;
      error.hidden = false;
      // The status goes back to the file the run shown trains on (if any).
      status.textContent = shown;
      root.dataset.error = message;
    },
    clearError() {
      error.hidden = true;
      error.textContent = '';
      delete root.dataset.error;
    },
    setBusy(text) {
      status.textContent = text;
    },
    /** Back to no file: the options hide, the status clears. */
    clear() {
      options.hidden = true;
      shown = '';
      status.textContent = '';
      delete root.dataset.loaded;
      api.clearError();
    },
    /** A message in the status line (e.g. that a link's data is not in the link). */
    say(text) {
      status.textContent = text;
    },
    read,
  };
  return api;
}

function field(id, label, control) {
  return el('div', { class: 'control control-select' },
    el('div', { class: 'control-head' }, el('label', { for: id, text: label })),
    control);
}
