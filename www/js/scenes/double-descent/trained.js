// The double-descent page's trained-network panel: a width sweep of two-layer networks with
// every layer trained by gradient descent for a fixed number of steps (src/scenes/
// double_descent/trained.rs), a background task (task-client.js) in a worker of its own (a scenes/double-descent/worker.js
// started on first use), filled in progressively with a progress bar, cancellable. The panel
// owns its DOM inside `root` (elements marked data-role) and reports its state on
// document.body.dataset.trained.

import { TASK, plainMessage } from '../../core/protocol.js';
import { formatInt, formatNumber } from '../../core/controls.js';
import { SeriesPlot, COLORS } from '../../plots/index.js';
import { createTask } from '../../core/task-client.js';

export class TrainedSweepPanel {
  /**
   * root: the panel's <figure>; settings(): {noise, seed, seeds, teacher} from the page's controls.
   */
  constructor({ root, settings }) {
    this.root = root;
    this.settings = settings;
    this.task = createTask({
      workerUrl: new URL('./worker.js', import.meta.url),
      kind: TASK.TRAIN,
      name: 'sweep',
      onProgress: (msg) => this.onProgress(msg, false),
      onDone: (msg) => this.onProgress(msg, true),
      onFail: (text) => this.fail(text),
    });
    // workers: null spreads the sweep over a pool of workers; 1 keeps it in one (the benchmark's
    // comparison, set through window.descent.trained).
    this.state = { id: 0, status: 'idle', report: null, progress: null, startedAt: 0, ms: null, workers: null };
    this.el = (role) => root.querySelector(`[data-role="${role}"]`);
    this.plot = new SeriesPlot(this.el('plot'), {
      x: { label: 'parameters per training point  p / n', name: 'p/n', log: true },
      // Linear: the peak is a factor of about four over the ends, clearer on a linear axis.
      y: { label: 'mean squared error', log: false, size: 56, range: [0, null] },
      series: [
        { label: 'test (mean ± s.e.)', stroke: COLORS.test, width: 2.25, points: true, pointSize: 6 },
        { label: 'train', stroke: COLORS.train, width: 1.75, dash: [7, 4], points: true, pointSize: 4 },
      ],
      height: (w) => Math.min(340, Math.max(220, w * 0.5)),
    });
    this.el('start').disabled = false;
    this.el('start').addEventListener('click', () => this.start());
    this.el('cancel').addEventListener('click', () => this.cancel());
    this.setStatus('idle');
  }

  setStatus(s) {
    this.state.status = s;
    document.body.dataset.trained = s;
    const running = s === 'running';
    this.el('start').hidden = running;
    this.el('cancel').hidden = !running;
    this.el('start').textContent = this.state.report ? 'Train again with the current settings' : 'Train the width sweep';
  }

  start() {
    const s = this.settings();
    this.state.report = null;
    this.state.progress = null;
    this.state.startedAt = performance.now();
    this.state.ms = null;
    const config = { noise: s.noise, seed: s.seed, seeds: s.seeds, teacher: s.teacher };
    this.state.config = config;
    this.el('progress').hidden = false;
    this.el('status').textContent = 'starting…';
    this.setStatus('running');
    this.state.id = this.task.id + 1; // the id start() gives it
    this.task.start({ config, workers: this.state.workers ?? undefined });
  }

  /** Ends the sweep now: the networks trained so far stay drawn. */
  cancel() {
    if (this.state.status !== 'running' || !this.task.cancel()) return;
    this.setStatus('cancelled');
    this.render();
  }

  fail(text) {
    this.setStatus('failed');
    this.el('status').textContent = plainMessage(text);
    this.el('progress').hidden = false;
  }

  /** A TASK_PROGRESS of the sweep, or (`done`) its TASK_DONE. */
  onProgress(msg, done) {
    this.state.report = msg.report;
    this.state.progress = msg.progress;
    if (done) {
      this.state.ms = performance.now() - this.state.startedAt;
      this.setStatus('done');
    }
    this.render();
  }

  render() {
    const { report: r, progress: p } = this.state;
    if (!r) return;
    this.el('plot').hidden = false; // empty until the first networks are trained
    this.plot.setData(r.ratio, r.testMse.mean, r.trainMse.mean);
    this.plot.setErrors([r.testMse.se, r.trainMse.se]);
    const markers = [{ x: 1, label: 'parameters = n', color: '#555' }];
    if (Number.isFinite(r.nullMse)) markers.push({ y: r.nullMse, label: 'predicting 0', color: '#888', dash: [2, 4] });
    this.plot.setMarkers(markers);
    const bar = this.el('progress').querySelector('progress');
    bar.max = Math.max(1, p.cellsTotal);
    bar.value = p.cellsDone;
    const widths = r.widths.length;
    const seeds = Math.round(p.cellsTotal / Math.max(1, widths));
    let text;
    if (this.state.status === 'running') {
      text = p.workers > 1
        ? `${formatInt(p.cellsDone)} of ${formatInt(p.cellsTotal)} networks trained, on ${p.workers} workers`
        : `network ${formatInt(p.cellsDone + 1)} of ${formatInt(p.cellsTotal)}` +
          (p.width != null ? ` (width ${formatInt(p.width)}, seed ${formatInt((p.seedIndex ?? 0) + 1)} of ${seeds})` : '');
    } else if (this.state.status === 'done') {
      text = `${formatInt(p.cellsTotal)} networks trained in ${formatNumber(this.state.ms / 1000, 3)} s` +
        (p.workers > 1 ? ` on ${p.workers} workers` : '');
    } else {
      text = `cancelled after ${formatInt(p.cellsDone)} of ${formatInt(p.cellsTotal)} networks; the finished ones are drawn`;
    }
    this.el('status').textContent = text;
    const diverged = r.diverged.reduce((a, b) => a + (b ?? 0), 0);
    this.el('settings').textContent =
      `n = 100 points in d = 20 dimensions, label noise σ = ${formatNumber(this.state.config.noise)}; ` +
      `two-layer ReLU networks, widths ${formatInt(r.widths[0])}–${formatInt(r.widths.at(-1))} (p = width·(d + 2) + 1 parameters), ` +
      `NTK parametrisation, η = ${formatNumber(r.lr)}, ${formatInt(r.steps)} full-batch steps each; ` +
      `${seeds} seed${seeds === 1 ? '' : 's'} from ${this.state.config.seed}.` +
      (diverged ? ` ${diverged} run${diverged === 1 ? '' : 's'} diverged and ${diverged === 1 ? 'is' : 'are'} left out.` : '');
    this.el('plot').setAttribute('aria-label', `Trained networks: test and train error against parameters per training point; ${text}.`);
  }
}
