//! Phase diagrams: the regime, sharpness and loss spike of a grid of step sizes or
//! initialisation scales against widths, one column of networks trained at a time.

use serde::{Deserialize, Serialize};

use super::column::{
    CPU_BATCH_ELEMS, Column, ColumnTrainer, GPU_SLICE_STEPS, Start, TRAIN_SLICE_FLOPS, advance_all,
    batches, finals_all, on_trainer,
};
use super::live::{Tracked, measure};
use super::{Regime, StepSizeConfig};
use crate::backend::cpu::Cpu;
use crate::backend::gpu::Gpu;
use crate::error::{Error, Result};
use crate::exec::block_on;
use crate::nn::Loss;
use crate::nn::batched::{NetConfig, is_divergent};
use crate::session::device::{
    AUTO_GPU_MIN_FLOPS, BackendChoice, software_notice, software_warning, unavailable_notice,
};
use crate::session::net::NetSettings;

pub use super::phase_config::{PhaseAxis, PhaseConfig};

/// One finished cell (serialised only to carry a column between workers, see [`PhaseColumn`]).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PhaseCell {
    pub regime: Regime,
    /// Training loss at the end (None when diverged).
    pub final_loss: Option<f64>,
    /// Top Hessian eigenvalue at the end times η_eff (2 is the edge of stability).
    pub sharpness_lr: Option<f64>,
    /// λ_max(Θ_T)·η_eff/n at the end (below 2: the linearised dynamics are stable there).
    pub ntk_lr: Option<f64>,
    pub weight_change: Option<f64>,
    pub kernel_distance: Option<f64>,
    /// The largest loss over the run divided by the starting loss.
    pub peak_ratio: Option<f64>,
}

/// One column of a diagram computed on its own ([`PhaseDiagram::compute_column`]): its cells in
/// the order of the y values, and its stability bound. Serialisable, so that a page can compute
/// columns in a pool of workers and record them in one diagram (every number crosses exactly).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PhaseColumn {
    pub cells: Vec<PhaseCell>,
    pub bound: Option<f64>,
}

/// Progress of a phase diagram.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PhaseProgress {
    /// Finished cells.
    pub done: usize,
    pub total: usize,
    /// Of the whole diagram's work, counting the column in training (0 to 1).
    pub fraction: f64,
    pub finished: bool,
    /// What is being computed now, in words ("width 1024: 13 networks training together, step
    /// 150 of 300").
    pub activity: String,
    /// The backend of the width under way (between widths: of the next one; when finished: of
    /// the last one): "cpu" or "webgpu".
    pub backend: &'static str,
    /// Why the diagram trains on the CPU although a GPU was asked for, or that it moved there.
    pub notice: Option<String>,
    /// The technical account behind `notice` (an adapter or device error), for the console.
    pub notice_detail: Option<String>,
}

/// Everything a heatmap needs; cell arrays are row-major over (y, width): index
/// `iy·widths.length + ix`, null where not computed yet or undefined (diverged).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PhaseReport {
    pub axis: PhaseAxis,
    pub widths: Vec<usize>,
    /// Step-size multiples (stepSize axis) or initialisation scales (initScale axis).
    pub ys: Vec<f64>,
    /// 0 stable, 1 catapult, 2 divergent, 3 unsettled.
    pub regime: Vec<Option<u8>>,
    pub final_loss: Vec<Option<f64>>,
    pub sharpness_lr: Vec<Option<f64>>,
    pub ntk_lr: Vec<Option<f64>>,
    pub weight_change: Vec<Option<f64>>,
    pub kernel_distance: Vec<Option<f64>>,
    pub peak_ratio: Vec<Option<f64>>,
    /// Per width (stepSize axis): the largest multiple whose cell, and every smaller one's,
    /// did not diverge, once that width's column is complete.
    pub empirical_catapult_bound: Vec<Option<f64>>,
    /// Per width: the stability bound 2n/λ_max(Θ₀) in slider units (at the base init scale;
    /// the initScale axis has one per cell, not listed).
    pub stability_bound: Vec<Option<f64>>,
    pub progress: PhaseProgress,
}

/// A phase diagram, one width (column) at a time: the column's cells — one network each,
/// every cell of a step-size column starting from the same θ₀ on the same data — are trained
/// together as one [`BatchedTrainer`](crate::nn::batched::BatchedTrainer) batch, on the CPU or on the GPU (see [`PhaseDiagram::create`]),
/// then each trained network is measured on the CPU in f64 (empirical NTK, top-k Lanczos on
/// both) exactly as a [`StepSize`](super::StepSize) run would be. Deterministic from the seed; on the CPU
/// every cell equals the [`StepSize`](super::StepSize) run of the same settings (tests/step_size.rs).
pub struct PhaseDiagram {
    pub config: PhaseConfig,
    widths: Vec<usize>,
    ys: Vec<f64>,
    /// Row-major over (iy, ix), as the report.
    cells: Vec<Option<PhaseCell>>,
    bounds: Vec<Option<f64>>,
    next_column: usize,
    column: Option<Column>,
    choice: BackendChoice,
    /// The GPU while it is usable and not lent to a column.
    gpu: Option<Gpu>,
    backend: &'static str,
    notice: Option<String>,
    notice_detail: Option<String>,
}

/// Training and measuring of the cells from their networks' numbers (see [`PhaseDiagram`]).
fn classify(
    lr_multiple: f64,
    initial_loss: f64,
    final_loss: Option<f64>,
    peak_loss: f64,
    tracked: Option<Tracked>,
    eta: f64,
) -> PhaseCell {
    let Some(final_loss) = final_loss else {
        return PhaseCell {
            regime: Regime::Divergent,
            final_loss: None,
            sharpness_lr: None,
            ntk_lr: None,
            weight_change: None,
            kernel_distance: None,
            peak_ratio: Some(peak_loss / initial_loss).filter(|v| v.is_finite()),
        };
    };
    let ntk_lr = tracked.as_ref().map(|t| t.ntk_top() * eta);
    let regime =
        if final_loss >= initial_loss || ntk_lr.is_none_or(|v| v >= 2.0 && lr_multiple > 1.0) {
            Regime::Unsettled
        } else if lr_multiple > 1.0 {
            Regime::Catapult
        } else {
            Regime::Stable
        };
    PhaseCell {
        regime,
        final_loss: Some(final_loss),
        sharpness_lr: tracked.as_ref().map(|t| t.sharpness() * eta),
        ntk_lr,
        weight_change: tracked.as_ref().map(|t| t.weight_change),
        kernel_distance: tracked.map(|t| t.kernel_distance),
        peak_ratio: Some(peak_loss / initial_loss).filter(|v| v.is_finite()),
    }
}

impl PhaseDiagram {
    /// A diagram trained on the CPU.
    pub fn new(config: PhaseConfig) -> Result<Self> {
        config.validate()?;
        let widths = config.widths();
        let ys = config.ys();
        Ok(PhaseDiagram {
            cells: vec![None; widths.len() * ys.len()],
            bounds: vec![None; widths.len()],
            config,
            widths,
            ys,
            next_column: 0,
            column: None,
            choice: BackendChoice::Cpu,
            gpu: None,
            backend: "cpu",
            notice: None,
            notice_detail: None,
        })
    }

    /// A diagram whose columns train on the chosen backend: [`BackendChoice::Auto`] gives a
    /// column the GPU when WebGPU is there and one batched step costs at least
    /// [`AUTO_GPU_MIN_FLOPS`] (the same rule as the Playground's, for the whole batch);
    /// [`BackendChoice::Gpu`] every column. A GPU that cannot be had is not an error: the
    /// diagram trains on the CPU and [`PhaseProgress::notice`] says why.
    pub async fn create(config: PhaseConfig, choice: BackendChoice) -> Result<Self> {
        let mut d = Self::new(config)?;
        d.choice = choice;
        let wanted = match choice {
            BackendChoice::Cpu => false,
            BackendChoice::Gpu => true,
            BackendChoice::Auto => (0..d.widths.len()).any(|ix| d.column_prefers_gpu(ix)),
        };
        if wanted {
            match Gpu::new().await {
                Ok(gpu) if gpu.is_software() && choice == BackendChoice::Auto => {
                    d.notice = Some(software_notice(
                        gpu.adapter(),
                        "the phase diagram trains on the CPU",
                    ));
                }
                Ok(gpu) => {
                    if gpu.is_software() {
                        d.notice = Some(software_warning(gpu.adapter()));
                    }
                    d.gpu = Some(gpu);
                }
                Err(e) if choice == BackendChoice::Gpu => {
                    let (text, detail) =
                        unavailable_notice(&e, "the phase diagram trains on the CPU");
                    d.notice = Some(text);
                    d.notice_detail = Some(detail);
                }
                Err(_) => {}
            }
        }
        Ok(d)
    }

    /// Gives the diagram a GPU (a test's device) and the choice its columns follow.
    pub fn set_gpu(&mut self, gpu: Gpu, choice: BackendChoice) {
        self.gpu = Some(gpu);
        self.choice = choice;
    }

    /// Takes the diagram's GPU back when no width is training on it (later widths train on
    /// the CPU).
    pub fn take_gpu(&mut self) -> Option<Gpu> {
        self.gpu.take()
    }

    /// Destroys the GPU device, held or lent to the column in training (a simulated device
    /// loss: the next operation on it fails and the diagram continues on the CPU).
    pub fn lose_device(&mut self) {
        if let Some(gpu) = self.gpu.as_mut() {
            gpu.lose_device();
        }
        if let Some(Column {
            trainer: Some(ColumnTrainer::Gpu(ts)),
            ..
        }) = self.column.as_mut()
        {
            for t in ts {
                t.backend.lose_device();
            }
        }
    }

    pub fn total(&self) -> usize {
        self.widths.len() * self.ys.len()
    }

    pub fn is_done(&self) -> bool {
        self.next_column == self.widths.len() && self.column.is_none()
    }

    fn done(&self) -> usize {
        self.cells.iter().filter(|c| c.is_some()).count()
    }

    /// The step-size configuration of cell (ix, iy), before its step size is known.
    fn cell_config(&self, ix: usize, iy: usize) -> StepSizeConfig {
        let c = &self.config;
        let mut base = StepSizeConfig {
            net: NetSettings {
                width: self.widths[ix],
                ..c.base.net.clone()
            },
            hessian_iters: c.hessian_iters,
            lr: None,
            measure_catapult: false,
            ..c.base.clone()
        };
        match c.axis {
            PhaseAxis::StepSize => base.lr_multiple = self.ys[iy],
            PhaseAxis::InitScale => {
                base.net.init.init_scale = self.ys[iy];
                base.lr_multiple = c.lr_multiple;
            }
        }
        base
    }

    /// Floating-point operations of one batched training step of column `ix`.
    fn column_step_flops(&self, ix: usize) -> f64 {
        self.cell_config(ix, 0).run().flops_per_step() * self.ys.len() as f64
    }

    fn column_prefers_gpu(&self, ix: usize) -> bool {
        match self.choice {
            BackendChoice::Cpu => false,
            BackendChoice::Gpu => true,
            BackendChoice::Auto => self.column_step_flops(ix) >= AUTO_GPU_MIN_FLOPS,
        }
    }

    /// Whether every column trains on the CPU (no GPU is held, or no column wants one), so
    /// that its columns may be computed apart ([`PhaseDiagram::compute_column`]).
    pub fn cpu_only(&self) -> bool {
        self.gpu.is_none() || !(0..self.widths.len()).any(|ix| self.column_prefers_gpu(ix))
    }

    /// How many columns (widths) the diagram has.
    pub fn column_count(&self) -> usize {
        self.widths.len()
    }

    /// How many rows (step sizes or initialisation scales) the diagram has.
    pub fn row_count(&self) -> usize {
        self.ys.len()
    }

    pub fn progress(&self) -> PhaseProgress {
        let (done, total) = (self.done(), self.total());
        // A column in training counts ¾ of a cell per network by its steps; measuring the
        // network completes the cell.
        let partial = self.column.as_ref().map_or(0.0, |c| {
            let left = c.trained.len() - c.measured;
            let trained = if c.trainer.is_none() {
                1.0
            } else {
                c.steps_done as f64 / self.config.steps.max(1) as f64
            };
            0.75 * trained * left as f64
        });
        let activity = match &self.column {
            _ if self.is_done() => "done".to_string(),
            None => format!("width {}: starting", self.widths[self.next_column]),
            Some(c) if c.trainer.is_some() => {
                let batches = c
                    .trainer
                    .as_ref()
                    .map_or(1, |t| on_trainer!(t, ts => ts.len()));
                let nets = c.trained.len();
                let how = match (nets, batches) {
                    (1, _) => String::new(),
                    (_, 1) => " together".to_string(),
                    (_, b) if b == nets => " one after another".to_string(),
                    (_, b) => format!(" in {b} batches"),
                };
                format!(
                    "width {}: {nets} network{} training{how}, step {} of {}",
                    self.widths[c.ix],
                    if nets == 1 { "" } else { "s" },
                    c.steps_done,
                    self.config.steps
                )
            }
            Some(c) => format!(
                "width {}: measuring network {} of {} (NTK and sharpness)",
                self.widths[c.ix],
                c.measured + 1,
                c.trained.len()
            ),
        };
        // Between widths: the backend the next one will train on.
        let backend = match &self.column {
            None if !self.is_done() => {
                if self.gpu.is_some() && self.column_prefers_gpu(self.next_column) {
                    "webgpu"
                } else {
                    "cpu"
                }
            }
            _ => self.backend,
        };
        PhaseProgress {
            done,
            total,
            fraction: ((done as f64 + partial) / total as f64).min(1.0),
            finished: self.is_done(),
            activity,
            backend,
            notice: self.notice.clone(),
            notice_detail: self.notice_detail.clone(),
        }
    }

    /// Computes until `cells` more cells are finished (or the diagram is); returns the
    /// progress. Blocks on the GPU's readbacks natively; on the web use
    /// [`PhaseDiagram::advance_async`].
    pub fn advance(&mut self, cells: usize) -> Result<PhaseProgress> {
        let target = (self.done() + cells).min(self.total());
        while self.done() < target && !self.is_done() {
            block_on(self.advance_async())?;
        }
        Ok(self.progress())
    }

    /// One slice of work (setting up a column, about [`TRAIN_SLICE_FLOPS`] of its training,
    /// or measuring one of its networks); returns the progress. A GPU that fails hands the
    /// column under way to the CPU, which restarts it from θ₀ (cells already finished are
    /// kept), and the notice says so.
    pub async fn advance_async(&mut self) -> Result<PhaseProgress> {
        if self.is_done() {
            return Ok(self.progress());
        }
        match self.work().await {
            Ok(()) => {}
            Err(Error::Gpu { op, message }) => {
                let ix = self.column.as_ref().map_or(self.next_column, |c| c.ix);
                self.column = None;
                self.gpu = None;
                self.next_column = ix;
                self.choice = BackendChoice::Cpu;
                self.backend = "cpu";
                self.notice = Some(format!(
                    "The GPU stopped working ({}); the phase diagram continues on the CPU from width {}.",
                    Error::Gpu { op, message },
                    self.widths[ix]
                ));
                self.notice_detail = None;
            }
            Err(e) => return Err(e),
        }
        Ok(self.progress())
    }

    async fn work(&mut self) -> Result<()> {
        let Some(ix) = self.column.as_ref().map(|c| c.ix) else {
            let ix = self.next_column;
            self.next_column += 1;
            return self.start_column(ix).await;
        };
        let per_step = self.column_step_flops(ix).max(1.0);
        let steps = self.config.steps;
        let Some(column) = self.column.as_mut() else {
            return Ok(());
        };
        match column.trainer.as_mut() {
            Some(trainer) if column.steps_done < steps => {
                let most = match trainer {
                    ColumnTrainer::Cpu(_) => steps,
                    ColumnTrainer::Gpu(_) => GPU_SLICE_STEPS,
                };
                let k = ((TRAIN_SLICE_FLOPS / per_step) as u64)
                    .min(most)
                    .clamp(1, steps - column.steps_done);
                // Losses at the parameters before each step: step 0's is the starting loss.
                let skip = usize::from(column.steps_done == 0);
                let losses = on_trainer!(trainer, ts => advance_all(ts, k).await)?;
                for (peak, l) in column.peak.iter_mut().zip(&losses) {
                    for &v in l.iter().skip(skip) {
                        *peak = peak.max(v);
                    }
                }
                column.steps_done += k;
                Ok(())
            }
            Some(_) => self.finish_training().await,
            None => {
                self.measure_next();
                Ok(())
            }
        }
    }

    /// Sets up column `ix`: the θ₀ measurements of its cells and the batch that trains them.
    async fn start_column(&mut self, ix: usize) -> Result<()> {
        let ny = self.ys.len();
        let mut starts = Vec::new();
        let mut start_of = vec![None; ny];
        match self.config.axis {
            PhaseAxis::StepSize => {
                if let Some(s) = Start::new(&self.cell_config(ix, 0))? {
                    starts.push(s);
                    start_of.fill(Some(0));
                }
            }
            PhaseAxis::InitScale => {
                for (iy, at) in start_of.iter_mut().enumerate() {
                    if let Some(s) = Start::new(&self.cell_config(ix, iy))? {
                        *at = Some(starts.len());
                        starts.push(s);
                    }
                }
            }
        }
        if self.config.axis == PhaseAxis::StepSize || self.bounds[ix].is_none() {
            self.bounds[ix] = starts.first().map(|s| s.bound);
        }
        let mut trained = Vec::new();
        let mut lrs = Vec::new();
        let mut nets = Vec::new();
        for iy in 0..ny {
            let cfg = self.cell_config(ix, iy);
            match start_of[iy] {
                None => self.store(ix, iy, classify(1.0, 1.0, None, f64::NAN, None, 0.0)),
                Some(s) => {
                    let lr = cfg.lr_multiple * starts[s].bound;
                    trained.push(iy);
                    lrs.push(lr);
                    nets.push(NetConfig {
                        seed: cfg.data.seed,
                        init_scale: cfg.net.init.init_scale,
                        lr,
                    });
                }
            }
        }
        if nets.is_empty() {
            return Ok(());
        }
        let base = self.cell_config(ix, 0);
        let spec = base.run().spec();
        let (x, y) = {
            let data = &starts[0].run.data;
            (data.x_train.clone(), data.y_train.clone())
        };
        let use_gpu = self.column_prefers_gpu(ix) && self.gpu.is_some();
        let centred = base.net.init.center_output;
        let trainer = match self.gpu.take() {
            Some(gpu) if use_gpu => {
                self.backend = "webgpu";
                let mut gpu = Some(gpu);
                let all = nets.len();
                ColumnTrainer::Gpu(batches(|| gpu.take(), &spec, &x, &y, &nets, all, centred)?)
            }
            other => {
                self.gpu = other;
                self.backend = "cpu";
                let per_batch = CPU_BATCH_ELEMS / (x.len() / spec.input_dim * spec.max_width());
                let cpu = || Some(Cpu::new());
                ColumnTrainer::Cpu(batches(cpu, &spec, &x, &y, &nets, per_batch, centred)?)
            }
        };
        let peak = vec![f32::NEG_INFINITY; nets.len()];
        self.column = Some(Column {
            ix,
            start_of,
            starts,
            trained,
            lrs,
            trainer: Some(trainer),
            steps_done: 0,
            peak,
            finals: Vec::new(),
            measured: 0,
        });
        Ok(())
    }

    /// After the column's last step: the final losses (f64, from one forward pass) and
    /// parameters of its networks; the trainer is dropped and a GPU returns to the diagram.
    async fn finish_training(&mut self) -> Result<()> {
        let Some(column) = self.column.as_mut() else {
            return Ok(());
        };
        let Some(mut trainer) = column.trainer.take() else {
            return Ok(());
        };
        let x = column.starts[0].run.data.x_train.clone();
        let y = column.starts[0].run.data.y_train.clone();
        let states = on_trainer!(&mut trainer, ts => finals_all(ts, &x).await)?;
        let mut finals = Vec::with_capacity(column.trained.len());
        for (b, (train_loss, diverged, outputs, theta)) in states.into_iter().enumerate() {
            let start = &column.starts[column.start_of[column.trained[b]].unwrap_or(0)];
            let first = start.initial_loss as f32;
            let loss = Loss::Squared
                .eval(&outputs, start.f0.as_deref(), 1.0, &y, 1)
                .loss;
            if diverged || is_divergent(train_loss, first) || is_divergent(loss as f32, first) {
                finals.push(None);
            } else {
                column.peak[b] = column.peak[b].max(loss as f32);
                finals.push(Some((theta, loss)));
            }
        }
        column.finals = finals;
        if let ColumnTrainer::Gpu(ts) = trainer {
            self.gpu = ts.into_iter().next().map(|t| t.backend);
        }
        Ok(())
    }

    /// Measures the next trained network of the column and stores its cell; closes the column
    /// after the last.
    fn measure_next(&mut self) {
        let hessian_iters = self.config.hessian_iters;
        let top_k = self.config.base.top_k as usize;
        let Some((ix, b, iy)) = self
            .column
            .as_ref()
            .map(|c| (c.ix, c.measured, c.trained[c.measured]))
        else {
            return;
        };
        let lr_multiple = self.cell_config(ix, iy).lr_multiple;
        let Some(column) = self.column.as_mut() else {
            return;
        };
        let final_state = column.finals[b].take();
        let start = &mut column.starts[column.start_of[iy].unwrap_or(0)];
        let eta = column.lrs[b] * start.run.trainer().mlp.effective_lr(1.0);
        let peak = (column.peak[b] as f64).max(start.initial_loss);
        let cell = match final_state {
            None => classify(lr_multiple, start.initial_loss, None, peak, None, eta),
            Some((theta, loss)) => {
                let tracked = start.kernel_at(&theta).ok().and_then(|k| {
                    let mut warm = start.warm.clone();
                    measure(
                        &start.objective,
                        (&start.theta_0, &start.k0),
                        (&theta, &k),
                        &mut warm,
                        (top_k, hessian_iters),
                    )
                });
                classify(
                    lr_multiple,
                    start.initial_loss,
                    Some(loss),
                    peak,
                    tracked,
                    eta,
                )
            }
        };
        column.measured += 1;
        if column.measured == column.trained.len() {
            self.column = None;
        }
        self.store(ix, iy, cell);
    }

    /// Computes column `ix` of the diagram of `config` on its own, on the CPU: the same slices
    /// [`PhaseDiagram::advance`] computes for it (the θ₀ measurements, the batched training of
    /// its networks, the measuring of each), so its cells are those of the whole diagram's
    /// column. `between` is called before each slice; an error from it stops the column. For
    /// columns computed on several threads and recorded with [`PhaseDiagram::set_column`].
    pub fn compute_column(
        config: &PhaseConfig,
        ix: usize,
        mut between: impl FnMut() -> Result<()>,
    ) -> Result<PhaseColumn> {
        let mut d = PhaseDiagram::new(config.clone())?;
        if ix >= d.widths.len() {
            return Err(Error::config(
                "widthCount",
                format!("the diagram has no column {ix}"),
            ));
        }
        d.next_column = ix;
        loop {
            between()?;
            block_on(d.work())?;
            if d.column.is_none() {
                break;
            }
        }
        Ok(PhaseColumn {
            cells: (0..d.ys.len())
                .map(|iy| *d.cell(ix, iy).expect("every cell of the column is stored"))
                .collect(),
            bound: d.bounds[ix],
        })
    }

    /// Records column `ix` computed by [`PhaseDiagram::compute_column`] (in any order; once
    /// every column is recorded the diagram is done).
    pub fn set_column(&mut self, ix: usize, column: PhaseColumn) {
        for (iy, cell) in column.cells.into_iter().enumerate() {
            self.store(ix, iy, cell);
        }
        self.bounds[ix] = column.bound;
        if self.column.is_none() && self.cells.iter().all(Option::is_some) {
            self.next_column = self.widths.len();
        }
    }

    fn store(&mut self, ix: usize, iy: usize, cell: PhaseCell) {
        let nx = self.widths.len();
        self.cells[iy * nx + ix] = Some(cell);
    }

    /// The cell at (ix, iy) if computed.
    pub fn cell(&self, ix: usize, iy: usize) -> Option<&PhaseCell> {
        self.cells
            .get(iy * self.widths.len() + ix)
            .and_then(Option::as_ref)
    }

    pub fn report(&self) -> PhaseReport {
        let total = self.total();
        let pick = |f: fn(&PhaseCell) -> Option<f64>| -> Vec<Option<f64>> {
            (0..total)
                .map(|i| self.cells[i].as_ref().and_then(f))
                .collect()
        };
        let nx = self.widths.len();
        let empirical = (0..nx)
            .map(|ix| {
                if self.config.axis != PhaseAxis::StepSize {
                    return None;
                }
                let column: Vec<&PhaseCell> = (0..self.ys.len())
                    .filter_map(|iy| self.cell(ix, iy))
                    .collect();
                if column.len() < self.ys.len() {
                    return None;
                }
                let mut best = None;
                for (iy, cell) in column.iter().enumerate() {
                    if cell.regime == Regime::Divergent {
                        break;
                    }
                    best = Some(self.ys[iy]);
                }
                best
            })
            .collect();
        PhaseReport {
            axis: self.config.axis,
            widths: self.widths.clone(),
            ys: self.ys.clone(),
            regime: (0..total)
                .map(|i| self.cells[i].as_ref().map(|c| c.regime.code()))
                .collect(),
            final_loss: pick(|c| c.final_loss),
            sharpness_lr: pick(|c| c.sharpness_lr),
            ntk_lr: pick(|c| c.ntk_lr),
            weight_change: pick(|c| c.weight_change),
            kernel_distance: pick(|c| c.kernel_distance),
            peak_ratio: pick(|c| c.peak_ratio),
            empirical_catapult_bound: empirical,
            stability_bound: self.bounds.clone(),
            progress: self.progress(),
        }
    }
}
