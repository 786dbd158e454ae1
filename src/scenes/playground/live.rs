//! The live Playground run behind the page: the same [`Playground`] on the CPU or on the GPU
//! backend, chosen per workload, and carried over to the CPU when the GPU fails.
//!
//! - **Choice.** [`BackendChoice::Auto`] puts a run on the GPU only when WebGPU is there, the
//!   run is full batch, and a step costs at least [`AUTO_GPU_MIN_FLOPS`]: below that the
//!   dispatch and readback latency of a GPU outweighs its arithmetic and the CPU path is
//!   faster. The reader can force either backend.
//! - **Fallback.** No WebGPU, a failed adapter or device request, or a shader that does not
//!   compile: the run starts on the CPU and [`Live::notice`] says why in plain words
//!   ([`unavailable_notice`]); the technical account is [`Live::notice_detail`], for the
//!   console. A software
//!   adapter (SwiftShader, lavapipe: a GPU emulated on the CPU) is never auto's choice, and
//!   the notice says so; forced onto one, the run says it is slower than the CPU path.
//! - **Lost device.** A GPU run keeps a host [`Snapshot`] of its parameters, refreshed after
//!   steps at an interval that grows with the network's size. When the device fails mid-run
//!   the run continues on the CPU from the latest snapshot (from the initial parameters,
//!   which the seed reproduces, when none was taken yet) with the same data, step count and
//!   divergence reference, and the notice says from which step.

use serde::Serialize;

use super::{DataSource, Playground, PlaygroundConfig, Report, Snapshot};
use crate::backend::cpu::Cpu;
use crate::backend::gpu::Gpu;
use crate::error::{Error, Result};
use crate::session::budget::PLAYGROUND_MEMORY;
use crate::session::device::{
    AUTO_GPU_MIN_FLOPS, BackendChoice, software_notice, software_warning, unavailable_notice,
};

/// What [`BackendChoice::Auto`] picks for `config` when a GPU is there: full batch, and a
/// step of at least [`AUTO_GPU_MIN_FLOPS`] ([`PlaygroundConfig::flops_per_step`]).
pub fn auto_prefers_gpu(config: &PlaygroundConfig) -> bool {
    config.full_batch() && config.flops_per_step() >= AUTO_GPU_MIN_FLOPS
}

/// Both boxed: a run is large and moves between the variants.
enum Engine {
    Cpu(Box<Playground<Cpu>>),
    Gpu(Box<Playground<Gpu>>),
}

/// A report with the backend that produced it and the notice in force.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LiveReport {
    #[serde(flatten)]
    pub report: Report,
    /// "cpu" or "webgpu".
    pub backend: &'static str,
    /// Why the run is on the CPU when a GPU was wanted, or that it moved there.
    pub notice: Option<String>,
}

/// A live run on one backend, able to move to the CPU.
pub struct Live {
    engine: Engine,
    config: PlaygroundConfig,
    /// The digits or the reader's table the run is on (a fallback rebuilds from them).
    source: DataSource,
    choice: BackendChoice,
    /// The GPU adapter's name while on the GPU.
    adapter: Option<String>,
    notice: Option<String>,
    /// The technical account behind `notice`, for the console, when there is one.
    notice_detail: Option<String>,
    snapshot: Option<Snapshot>,
    /// Clock reading (ms) of the latest snapshot.
    snapshot_at: f64,
}

impl Live {
    /// Builds the run on the chosen backend. Settings errors (out of range, too large, a
    /// first step that overflows) are returned as errors; a GPU that cannot be had is not an
    /// error but a CPU run with a [`Live::notice`]. `now_ms` is a clock reading in ms.
    pub async fn create(
        config: PlaygroundConfig,
        choice: BackendChoice,
        now_ms: f64,
    ) -> Result<Self> {
        Self::create_with(config, choice, DataSource::default(), now_ms).await
    }

    /// [`Live::create`] on the data of `source` (the digits, a reader's table).
    pub async fn create_with(
        config: PlaygroundConfig,
        choice: BackendChoice,
        source: DataSource,
        now_ms: f64,
    ) -> Result<Self> {
        let config = config.with_source(&source);
        config.validate(PLAYGROUND_MEMORY)?;
        let mut notice = None;
        let mut notice_detail = None;
        let want_gpu = match choice {
            BackendChoice::Cpu => false,
            BackendChoice::Auto => auto_prefers_gpu(&config),
            BackendChoice::Gpu if !config.full_batch() => {
                notice = Some(
                    "The GPU backend trains full batch only; this mini-batch run is on the CPU."
                        .to_string(),
                );
                false
            }
            BackendChoice::Gpu => true,
        };
        if want_gpu {
            match Gpu::new().await {
                Ok(gpu) if gpu.is_software() && choice == BackendChoice::Auto => {
                    notice = Some(software_notice(gpu.adapter(), "training runs on the CPU"));
                }
                Ok(gpu) => {
                    let adapter = gpu.adapter().to_string();
                    let software = gpu.is_software().then(|| software_warning(&adapter));
                    match Playground::build_with_async(
                        config.clone(),
                        gpu,
                        PLAYGROUND_MEMORY,
                        &source,
                    )
                    .await
                    {
                        Ok(pg) => {
                            return Ok(Live {
                                engine: Engine::Gpu(Box::new(pg)),
                                config,
                                source,
                                choice,
                                adapter: Some(adapter),
                                notice: software,
                                notice_detail: None,
                                snapshot: None,
                                snapshot_at: now_ms,
                            });
                        }
                        Err(e @ (Error::Gpu { .. } | Error::GpuUnavailable { .. })) => {
                            let (text, detail) = unavailable_notice(&e, "training runs on the CPU");
                            notice = Some(text);
                            notice_detail = Some(detail);
                        }
                        Err(e) => return Err(e),
                    }
                }
                Err(e) => {
                    let (text, detail) = unavailable_notice(&e, "training runs on the CPU");
                    notice = Some(text);
                    notice_detail = Some(detail);
                }
            }
        }
        Ok(Live {
            engine: Engine::Cpu(Box::new(Playground::with_source(config.clone(), &source)?)),
            config,
            source,
            choice,
            adapter: None,
            notice,
            notice_detail,
            snapshot: None,
            snapshot_at: now_ms,
        })
    }

    /// A run continued from the Playground weights file `text` on the chosen backend: the
    /// file's settings (see [`Live::config`]), its parameters, step count and divergence
    /// reference. A file that cannot be read, or settings that cannot be built, are the error.
    pub async fn import(text: &str, choice: BackendChoice, now_ms: f64) -> Result<Self> {
        Self::import_with(text, choice, DataSource::default(), now_ms).await
    }

    /// [`Live::import`] on the data of `source` (the digits, a reader's table).
    pub async fn import_with(
        text: &str,
        choice: BackendChoice,
        source: DataSource,
        now_ms: f64,
    ) -> Result<Self> {
        let (config, weights) = super::read_weights_with(text, &source)?;
        let mut live = Live::create_with(config, choice, source, now_ms).await?;
        let snapshot = Snapshot {
            step: weights.step,
            params: weights.params(),
            initial_loss: weights.initial_loss,
            velocity: weights.velocity_params(),
        };
        let failed = match &mut live.engine {
            Engine::Cpu(pg) => {
                pg.restore_weights_async(&weights).await?;
                None
            }
            Engine::Gpu(pg) => match pg.restore_weights_async(&weights).await {
                Ok(_) => None,
                Err(e @ Error::InvalidWeights { .. }) => return Err(e),
                Err(e) => Some(e),
            },
        };
        // On the GPU the file is the snapshot a lost device falls back to.
        live.snapshot = Some(snapshot.clone());
        if let Some(e) = failed {
            live.fall_back(e)?;
        }
        Ok(live)
    }

    /// The weights file of the run now, as JSON text (see [`crate::session::weights`]).
    pub async fn export_weights(&mut self) -> Result<String> {
        let failed = match &mut self.engine {
            Engine::Cpu(pg) => return Ok(super::export_weights(pg).await?.to_json()),
            Engine::Gpu(pg) => match super::export_weights(pg).await {
                Ok(w) => return Ok(w.to_json()),
                Err(e @ Error::InvalidWeights { .. }) => return Err(e),
                Err(e) => e,
            },
        };
        self.fall_back(failed)?;
        let pg = self.cpu().expect("on the CPU after a fallback");
        Ok(super::export_weights(pg).await?.to_json())
    }

    /// Back to θ₀: the seed's initial parameters at step 0 (the run then equals a fresh one of
    /// [`Live::config`]); returns the report there.
    pub async fn rewind(&mut self) -> Result<LiveReport> {
        self.snapshot = None; // a lost device falls back to θ₀, which the seed reproduces
        let failed = match &mut self.engine {
            Engine::Cpu(pg) => {
                let r = pg.rewind_async().await?;
                return Ok(self.wrap(r));
            }
            Engine::Gpu(pg) => match pg.rewind_async().await {
                Ok(r) => return Ok(self.wrap(r)),
                Err(e) => e,
            },
        };
        self.fall_back(failed)?;
        let pg = self.cpu().expect("on the CPU after a fallback");
        let r = pg.rewind();
        Ok(self.wrap(r))
    }

    /// The backend now running: "cpu" or "webgpu".
    pub fn backend(&self) -> &'static str {
        match &self.engine {
            Engine::Cpu(_) => "cpu",
            Engine::Gpu(_) => "webgpu",
        }
    }

    /// The GPU adapter's name while the run is on the GPU.
    pub fn adapter(&self) -> Option<&str> {
        self.adapter.as_deref()
    }

    /// The reader's choice the run was created with.
    pub fn choice(&self) -> BackendChoice {
        self.choice
    }

    /// Why the run is on the CPU though a GPU was wanted, or that it moved there mid-run.
    pub fn notice(&self) -> Option<&str> {
        self.notice.as_deref()
    }

    /// The technical account behind [`Live::notice`] (an adapter or device error), for the
    /// console; `None` when the notice says it all.
    pub fn notice_detail(&self) -> Option<&str> {
        self.notice_detail.as_deref()
    }

    /// The CPU run, or `None` while on the GPU.
    pub fn cpu(&mut self) -> Option<&mut Playground<Cpu>> {
        match &mut self.engine {
            Engine::Cpu(pg) => Some(pg),
            Engine::Gpu(_) => None,
        }
    }

    pub fn config(&self) -> &PlaygroundConfig {
        &self.config
    }

    /// Data, grid, step count and parameter count, whichever backend runs.
    pub fn data(&self) -> &crate::data::Dataset {
        match &self.engine {
            Engine::Cpu(pg) => &pg.data,
            Engine::Gpu(pg) => &pg.data,
        }
    }

    pub fn grid(&self) -> &crate::data::GridSpec {
        match &self.engine {
            Engine::Cpu(pg) => &pg.grid,
            Engine::Gpu(pg) => &pg.grid,
        }
    }

    pub fn step(&self) -> u64 {
        match &self.engine {
            Engine::Cpu(pg) => pg.step(),
            Engine::Gpu(pg) => pg.step(),
        }
    }

    pub fn param_count(&self) -> usize {
        match &self.engine {
            Engine::Cpu(pg) => pg.param_count(),
            Engine::Gpu(pg) => pg.param_count(),
        }
    }

    pub fn memory_bytes(&self) -> u64 {
        self.config.memory_bytes()
    }

    pub fn target_grid(&self) -> Option<Vec<f32>> {
        match &self.engine {
            Engine::Cpu(pg) => pg.target_grid(),
            Engine::Gpu(pg) => pg.target_grid(),
        }
    }

    pub fn set_lr(&mut self, lr: f64) -> Result<()> {
        match &mut self.engine {
            Engine::Cpu(pg) => pg.set_lr(lr)?,
            Engine::Gpu(pg) => pg.set_lr(lr)?,
        }
        self.config.lr = lr;
        Ok(())
    }

    fn wrap(&self, report: Report) -> LiveReport {
        LiveReport {
            report,
            backend: self.backend(),
            notice: self.notice.clone(),
        }
    }

    /// Up to `steps` steps, then the report. On the GPU, a device failure moves the run to
    /// the CPU (see the module notes) and the steps are taken there.
    pub async fn advance(&mut self, steps: u64, now_ms: f64) -> Result<LiveReport> {
        let interval = self.snapshot_interval_ms();
        let failed = match &mut self.engine {
            Engine::Cpu(pg) => {
                let r = pg.advance(steps);
                return Ok(self.wrap(r));
            }
            Engine::Gpu(pg) => match pg.advance_async(steps).await {
                Ok(r) => {
                    if r.diverged.is_none() && now_ms - self.snapshot_at >= interval {
                        match pg.snapshot_async().await {
                            Ok(s) => {
                                self.snapshot = Some(s);
                                self.snapshot_at = now_ms;
                            }
                            Err(e) => {
                                self.fall_back(e)?;
                            }
                        }
                    }
                    return Ok(self.wrap(r));
                }
                Err(e) => e,
            },
        };
        self.fall_back(failed)?;
        let pg = self.cpu().expect("on the CPU after a fallback");
        let r = pg.advance(steps);
        Ok(self.wrap(r))
    }

    /// The report at the current parameters.
    pub async fn evaluate(&mut self) -> Result<LiveReport> {
        let failed = match &mut self.engine {
            Engine::Cpu(pg) => {
                let r = pg.evaluate();
                return Ok(self.wrap(r));
            }
            Engine::Gpu(pg) => match pg.evaluate_async().await {
                Ok(r) => return Ok(self.wrap(r)),
                Err(e) => e,
            },
        };
        self.fall_back(failed)?;
        let pg = self.cpu().expect("on the CPU after a fallback");
        let r = pg.evaluate();
        Ok(self.wrap(r))
    }

    /// Predictions on the grid (never a non-finite value).
    pub async fn predict_grid(&mut self) -> Result<Vec<f32>> {
        let failed = match &mut self.engine {
            Engine::Cpu(pg) => return Ok(pg.predict_grid()),
            Engine::Gpu(pg) => match pg.predict_grid_async().await {
                Ok(g) => return Ok(g),
                Err(e) => e,
            },
        };
        self.fall_back(failed)?;
        Ok(self
            .cpu()
            .expect("on the CPU after a fallback")
            .predict_grid())
    }

    /// Milliseconds between snapshots of a GPU run: 1 s, plus 0.1 ms per thousand
    /// parameters, so that reading the parameters back costs a few per cent of the time at
    /// most (33 M parameters: every 4.4 s).
    fn snapshot_interval_ms(&self) -> f64 {
        1000.0 + self.param_count() as f64 * 1e-4
    }

    /// Moves the run to the CPU after the GPU failed with `cause`.
    fn fall_back(&mut self, cause: Error) -> Result<()> {
        let pg = match &self.snapshot {
            Some(s) => Playground::resume_with(self.config.clone(), &self.source, s)?,
            None => Playground::with_source(self.config.clone(), &self.source)?,
        };
        let step = pg.step();
        self.notice = Some(format!(
            "The GPU stopped working ({cause}); training continues on the CPU from step {step}."
        ));
        self.notice_detail = None;
        self.engine = Engine::Cpu(Box::new(pg));
        self.adapter = None;
        Ok(())
    }

    /// Makes the GPU fail as a lost device would (for tests of the fallback); no effect on
    /// the CPU.
    pub fn lose_device(&mut self) {
        if let Engine::Gpu(pg) = &mut self.engine {
            pg.trainer_mut().backend.lose_device();
        }
    }
}
