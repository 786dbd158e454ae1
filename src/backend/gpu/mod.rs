//! The GPU backend: [`Backend`] on WebGPU compute shaders through wgpu (the browser's WebGPU
//! on wasm32, Vulkan natively — a real GPU or Mesa's software lavapipe).
//!
//! Every operation is a WGSL shader in this folder whose entry point has the name of its CPU
//! twin in [`super::cpu::Cpu`] (`bias_act`, `act_backward`, `col_sum`, `axpy`, and the
//! batched `gemm_batched`, `bias_act_batched`, `col_sum_batched`, `residual_loss_batched`,
//! `cross_entropy_batched`, each one dispatch for a whole batch of networks, the kernel
//! matrices' `ntk_accumulate` and `nngp_ntk_recursion`, the heavy-ball update
//! `momentum_step`, and the DLLP bag loss `bag_cross_entropy`, three dispatches of one entry
//! point); `gemm`, `residual_loss` and `cross_entropy` are `gemm_batched`,
//! `residual_loss_batched` and `cross_entropy_batched` with one network, and products with one output column or row of
//! either go to `gemv`. The twin is the
//! fallback and the test oracle.
//!
//! - **Parameters stay on the device.** A [`GpuBuf`] is a storage buffer; nothing is copied
//!   back except by [`Backend::read`] / [`Backend::read_async`].
//! - **Many operations per submission.** Operations are recorded into one command encoder and
//!   submitted together on the next readback, [`Backend::flush`], or when the ring of
//!   per-operation uniform parameter slots ([`PARAM_SLOTS`]) is full.
//! - **Fallible, asynchronous creation.** [`Gpu::new`] returns
//!   [`Error::GpuUnavailable`] when there is no adapter, the device request fails or a shader
//!   does not compile; nothing on this path panics. Errors raised later by the device
//!   (validation, out of memory, device lost) are recorded, not thrown: [`Gpu::check`] reports
//!   the first, and every readback returns it.
//! - **Readback.** Natively [`Backend::read`] blocks (it polls the device until the copy is
//!   mapped). On the web nothing may block: use [`Backend::read_async`], whose future borrows
//!   nothing, so a caller can queue k steps, then await one readback of the k losses. The
//!   synchronous `read` on wasm fills its output with NaN and records an error.

use std::future::Future;
use std::num::NonZeroU64;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use bytemuck::Pod;
use wgpu::util::DeviceExt;

mod params;
use params::*;

use super::{Activation, Backend, KernelRecursion, MAX_RECURSION_DEPTH, Trans};
use crate::error::{Error, Result};

/// Bytes of one operation's uniform parameters (sixteen 32-bit words; every shader's `Params`
/// fits in it). Each slot of the ring is this rounded up to the device's uniform offset
/// alignment (a power of two, at least 32 in WebGPU).
const PARAM_BYTES: u64 = 64;
/// Operations recorded per submission at most: the number of uniform parameter slots.
pub const PARAM_SLOTS: usize = 1024;
/// Invocations per workgroup of the element-wise shaders.
const WG_1D: u32 = 256;
/// Output tile of `gemm_tile.wgsl` (rows and columns).
const GEMM_TILE: usize = 64;
/// Columns per workgroup of `col_sum.wgsl`.
const COL_SUM_COLS: usize = 16;
/// The WebGPU default for workgroups per dispatch dimension.
const MAX_GROUPS: u32 = 65_535;
/// Long loops are split over several dispatches so that no invocation loops more than about
/// 1024 times: llvmpipe (Mesa's software Vulkan) silently stops any invocation after 65535
/// loop iterations in all, and a real device may time out a long dispatch.
/// Inner-dimension slice of one `gemm` dispatch (1024 tiles of 16).
const GEMM_K_SLICE: usize = 16 * 1024;
/// Rows per `col_sum` dispatch (1024 per invocation).
const COL_SUM_ROW_SLICE: usize = 16 * 1024;
/// Outputs per `residual_loss` dispatch (1024 per invocation).
const RESIDUAL_SLICE: usize = 256 * 1024;
/// Logits per `cross_entropy` dispatch: whole rows, about 1024 logits per invocation (three
/// passes over each, so about 3072 loop iterations), at least one row per invocation.
const CROSS_ENTROPY_SLICE: usize = 256 * 1024;
/// (bag, class) pairs per `bag_cross_entropy` loss dispatch: about 1024 bag rows per invocation
/// (three passes over each, so about 3072 loop iterations), at least one pair per invocation.
const BAG_PAIR_ROWS: usize = 256 * 1024;
/// The largest bag `bag_cross_entropy` takes: one invocation loops three times over a bag, and
/// llvmpipe stops an invocation after 65535 loop iterations.
pub const MAX_BAG: usize = 16 * 1024;
/// Inner-dimension slices of one `gemv` dispatch: 1024 iterations of its 64 lanes per row (A as
/// stored), or of its 4 lanes per row (A transposed).
const GEMV_K_SLICE: usize = 64 * 1024;
const GEMV_T_K_SLICE: usize = 4 * 1024;
/// Networks per dispatch of the batched operations that give each network its own workgroups
/// along one dimension (`gemm_batched`, `col_sum_batched`, `residual_loss_batched`).
const BATCH_SLICE: usize = MAX_GROUPS as usize;

/// What every shader that applies an activation starts with: the activations' code, generated
/// from their blocks in src/math/activation.rs, then activation.wgsl.
fn activation_prelude() -> String {
    format!(
        "{}\n{}",
        crate::math::activation::wgsl_activations(),
        include_str!("activation.wgsl")
    )
}
const GEMM_TILE_WGSL: &str = include_str!("gemm_tile.wgsl");

/// The shaders, one per [`Backend`] operation, named after their CPU twins.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kernel {
    BiasAct,
    ActBackward,
    ColSum,
    Axpy,
    GemmBatched,
    BiasActBatched,
    ColSumBatched,
    ResidualLossBatched,
    CrossEntropyBatched,
    BagCrossEntropy,
    Gemv,
    NtkAccumulate,
    NngpNtkRecursion,
    MomentumStep,
}

impl Kernel {
    const ALL: [Kernel; 14] = [
        Kernel::BiasAct,
        Kernel::ActBackward,
        Kernel::ColSum,
        Kernel::Axpy,
        Kernel::GemmBatched,
        Kernel::BiasActBatched,
        Kernel::ColSumBatched,
        Kernel::ResidualLossBatched,
        Kernel::CrossEntropyBatched,
        Kernel::BagCrossEntropy,
        Kernel::Gemv,
        Kernel::NtkAccumulate,
        Kernel::NngpNtkRecursion,
        Kernel::MomentumStep,
    ];

    /// The entry point, the shader file's stem and the CPU twin's name.
    fn name(self) -> &'static str {
        match self {
            Kernel::BiasAct => "bias_act",
            Kernel::ActBackward => "act_backward",
            Kernel::ColSum => "col_sum",
            Kernel::Axpy => "axpy",
            Kernel::GemmBatched => "gemm_batched",
            Kernel::BiasActBatched => "bias_act_batched",
            Kernel::ColSumBatched => "col_sum_batched",
            Kernel::ResidualLossBatched => "residual_loss_batched",
            Kernel::CrossEntropyBatched => "cross_entropy_batched",
            Kernel::BagCrossEntropy => "bag_cross_entropy",
            Kernel::Gemv => "gemv",
            Kernel::NtkAccumulate => "ntk_accumulate",
            Kernel::NngpNtkRecursion => "nngp_ntk_recursion",
            Kernel::MomentumStep => "momentum_step",
        }
    }

    fn source(self) -> String {
        match self {
            Kernel::BiasAct => activation_prelude() + "\n" + include_str!("bias_act.wgsl"),
            Kernel::ActBackward => activation_prelude() + "\n" + include_str!("act_backward.wgsl"),
            Kernel::ColSum => include_str!("col_sum.wgsl").to_string(),
            Kernel::Axpy => include_str!("axpy.wgsl").to_string(),
            Kernel::GemmBatched => {
                format!("{GEMM_TILE_WGSL}\n{}", include_str!("gemm_batched.wgsl"))
            }
            Kernel::BiasActBatched => {
                activation_prelude() + "\n" + include_str!("bias_act_batched.wgsl")
            }
            Kernel::ColSumBatched => include_str!("col_sum_batched.wgsl").to_string(),
            Kernel::ResidualLossBatched => include_str!("residual_loss_batched.wgsl").to_string(),
            Kernel::CrossEntropyBatched => include_str!("cross_entropy_batched.wgsl").to_string(),
            Kernel::BagCrossEntropy => include_str!("bag_cross_entropy.wgsl").to_string(),
            Kernel::Gemv => include_str!("gemv.wgsl").to_string(),
            Kernel::NtkAccumulate => {
                activation_prelude() + "\n" + include_str!("ntk_accumulate.wgsl")
            }
            Kernel::NngpNtkRecursion => format!(
                "{}\n{}\n{}",
                activation_prelude(),
                include_str!("nngp_ntk_recursion.wgsl"),
                crate::math::activation::wgsl_moments()
            ),
            Kernel::MomentumStep => include_str!("momentum_step.wgsl").to_string(),
        }
    }

    /// The storage bindings after the uniform at binding 0, in order: `true` = read-only.
    fn storage(self) -> &'static [bool] {
        match self {
            Kernel::BiasAct => &[false, true, false],
            Kernel::ActBackward => &[true, true, false],
            Kernel::ColSum => &[true, false],
            Kernel::Axpy => &[true, false],
            Kernel::GemmBatched => &[true, true, true, false],
            Kernel::BiasActBatched => &[false, true, false],
            Kernel::ColSumBatched => &[true, true, false],
            Kernel::ResidualLossBatched | Kernel::CrossEntropyBatched | Kernel::BagCrossEntropy => {
                &[true, true, true, false, false]
            }
            Kernel::Gemv => &[true, true, true, false],
            Kernel::NtkAccumulate => &[true, true, false],
            Kernel::NngpNtkRecursion => &[true, true, true, true, false],
            Kernel::MomentumStep => &[true, false, false],
        }
    }
}

/// A buffer of f32 on the device.
#[derive(Debug)]
pub struct GpuBuf {
    buffer: wgpu::Buffer,
    len: usize,
}

impl GpuBuf {
    /// Its length in f32 elements.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

struct Pipeline {
    pipeline: wgpu::ComputePipeline,
    layout: wgpu::BindGroupLayout,
}

/// The first error the device reported outside an error scope (shared with its callbacks).
type ErrorSlot = Arc<Mutex<Option<String>>>;

fn record(slot: &ErrorSlot, message: String) {
    let mut guard = slot.lock().unwrap_or_else(|p| p.into_inner());
    guard.get_or_insert(message);
}

/// A wgpu device with the compiled shaders, an open command encoder and the uniform ring.
pub struct Gpu {
    device: wgpu::Device,
    queue: wgpu::Queue,
    adapter: String,
    /// The adapter emulates a GPU on the CPU (SwiftShader in a browser, lavapipe natively).
    software: bool,
    pipelines: Vec<Pipeline>,
    /// `PARAM_SLOTS` slots of `param_stride` bytes, bound with a dynamic offset per operation.
    params: wgpu::Buffer,
    params_host: Vec<u8>,
    param_stride: usize,
    slots_used: usize,
    /// The compute pass open on `encoder`: consecutive dispatches share one pass (wgpu orders
    /// them by their buffer use), which saves a pass's set-up per operation (about 15 µs on a
    /// real GPU). Declared before `encoder`, so it is dropped first. It is ended before a copy is recorded and before the encoder is submitted.
    pass: Option<wgpu::ComputePass<'static>>,
    encoder: Option<wgpu::CommandEncoder>,
    errors: ErrorSlot,
}

impl Gpu {
    /// Requests an adapter and a device and compiles the shaders. Fails with
    /// [`Error::GpuUnavailable`] (never panics) when any of that is impossible, e.g. a browser
    /// without WebGPU or a machine without a Vulkan driver.
    pub async fn new() -> Result<Self> {
        #[cfg(target_arch = "wasm32")]
        if !wgpu::util::is_browser_webgpu_supported().await {
            // Checked first: creating an instance where `navigator.gpu` is unreachable panics.
            return Err(unavailable(
                "this browser does not offer WebGPU",
                "navigator.gpu is missing or requestAdapter() returned null",
            ));
        }
        let instance = wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle());
        let adapter = instance
            .request_adapter(&wgpu::RequestAdapterOptions {
                power_preference: wgpu::PowerPreference::HighPerformance,
                ..Default::default()
            })
            .await
            .map_err(|e| unavailable("no GPU adapter was found", e.to_string()))?;
        Self::from_adapter(&adapter).await
    }

    /// [`Gpu::new`] with a chosen adapter.
    pub async fn from_adapter(adapter: &wgpu::Adapter) -> Result<Self> {
        let info = adapter.get_info();
        let software = info.device_type == wgpu::DeviceType::Cpu;
        // Browsers may leave the description empty (Chromium's SwiftShader does).
        let name = match (info.name.is_empty(), software) {
            (false, _) => format!("{} ({})", info.name, info.backend),
            (true, true) => format!("{} fallback adapter", info.backend),
            (true, false) => format!("unnamed {} adapter", info.backend),
        };
        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor {
                label: Some("descent"),
                // Everything the adapter offers (buffer sizes above all), and no features.
                required_limits: adapter.limits(),
                ..Default::default()
            })
            .await
            .map_err(|e| {
                unavailable(
                    "the GPU could not be opened",
                    format!("the device request failed: {e}"),
                )
            })?;
        let mut gpu = Self::from_device(device, queue, name).await?;
        gpu.software = software;
        Ok(gpu)
    }

    /// Builds the backend on an existing device (tests can inject one). `adapter` is a name
    /// shown to the reader.
    pub async fn from_device(
        device: wgpu::Device,
        queue: wgpu::Queue,
        adapter: String,
    ) -> Result<Self> {
        let errors: ErrorSlot = Arc::new(Mutex::new(None));
        {
            let errors = errors.clone();
            device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
                record(&errors, e.to_string())
            }));
        }
        {
            let errors = errors.clone();
            device.set_device_lost_callback(move |reason, message| {
                record(&errors, format!("device lost ({reason:?}): {message}"));
            });
        }
        let scope = device.push_error_scope(wgpu::ErrorFilter::Validation);
        let pipelines = Kernel::ALL
            .iter()
            .map(|&k| build_pipeline(&device, k))
            .collect();
        let param_stride = (device.limits().min_uniform_buffer_offset_alignment as usize)
            .max(PARAM_BYTES as usize);
        let params = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("descent params"),
            size: (param_stride * PARAM_SLOTS) as u64,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        if let Some(e) = scope.pop().await {
            return Err(unavailable(
                "the GPU could not compile Descent's shaders",
                format!("the compute shaders did not compile: {e}"),
            ));
        }
        Ok(Gpu {
            device,
            queue,
            adapter,
            software: false,
            pipelines,
            params,
            params_host: vec![0; param_stride * PARAM_SLOTS],
            param_stride,
            slots_used: 0,
            encoder: None,
            pass: None,
            errors,
        })
    }

    /// [`Gpu::new`], blocking (native only).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn new_blocking() -> Result<Self> {
        crate::exec::block_on(Self::new())
    }

    /// The adapter's name and API, e.g. "llvmpipe (LLVM 15.0.6, 256 bits) (vulkan)".
    pub fn adapter(&self) -> &str {
        &self.adapter
    }

    /// Whether the adapter is a software emulation of a GPU on the CPU (a WebGPU fallback
    /// adapter such as SwiftShader, or Mesa's lavapipe): correct but slower than the CPU path.
    pub fn is_software(&self) -> bool {
        self.software
    }

    /// The first error the device reported since creation, if any. Operations after an error
    /// are still recorded but their results are undefined.
    pub fn check(&self) -> Result<()> {
        let guard = self.errors.lock().unwrap_or_else(|p| p.into_inner());
        match guard.as_ref() {
            None => Ok(()),
            Some(message) => Err(Error::Gpu {
                op: "device",
                message: message.clone(),
            }),
        }
    }

    fn fail(&self, op: &'static str, message: String) {
        record(&self.errors, format!("{op}: {message}"));
    }

    /// The open encoder, for a copy: ends the open compute pass first.
    fn encoder(&mut self) -> &mut wgpu::CommandEncoder {
        self.pass = None;
        let device = &self.device;
        self.encoder
            .get_or_insert_with(|| device.create_command_encoder(&Default::default()))
    }

    /// Records one dispatch of `kernel` with `params` (the shader's `Params`, a struct of
    /// [`params`]) over `bufs` (the storage bindings 1, 2, … in order).
    fn dispatch<P: Pod>(
        &mut self,
        kernel: Kernel,
        params: &P,
        bufs: &[&wgpu::Buffer],
        groups: [u32; 3],
    ) {
        if groups.iter().any(|&g| g > MAX_GROUPS) {
            self.fail(
                kernel.name(),
                format!("{groups:?} workgroups exceed the {MAX_GROUPS} per dimension allowed"),
            );
            return;
        }
        if self.slots_used == PARAM_SLOTS {
            self.flush_encoder();
        }
        let offset = self.slots_used * self.param_stride;
        let bytes = bytemuck::bytes_of(params);
        self.params_host[offset..offset + bytes.len()].copy_from_slice(bytes);
        self.slots_used += 1;

        let Pipeline { pipeline, layout } = &self.pipelines[kernel as usize];
        let mut entries = Vec::with_capacity(1 + bufs.len());
        entries.push(wgpu::BindGroupEntry {
            binding: 0,
            resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                buffer: &self.params,
                offset: 0,
                size: NonZeroU64::new(PARAM_BYTES),
            }),
        });
        for (i, b) in bufs.iter().enumerate() {
            entries.push(wgpu::BindGroupEntry {
                binding: i as u32 + 1,
                resource: b.as_entire_binding(),
            });
        }
        let bind_group = self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: None,
            layout,
            entries: &entries,
        });
        if self.pass.is_none() {
            let device = &self.device;
            let encoder = self
                .encoder
                .get_or_insert_with(|| device.create_command_encoder(&Default::default()));
            let pass = encoder
                .begin_compute_pass(&wgpu::ComputePassDescriptor {
                    label: Some("descent"),
                    timestamp_writes: None,
                })
                .forget_lifetime();
            self.pass = Some(pass);
        }
        let Some(pass) = self.pass.as_mut() else {
            return;
        };
        pass.set_pipeline(pipeline);
        pass.set_bind_group(0, &bind_group, &[offset as u32]);
        pass.dispatch_workgroups(groups[0], groups[1], groups[2]);
    }

    /// Submits the recorded operations with their uniform parameters.
    fn flush_encoder(&mut self) {
        self.pass = None;
        if let Some(encoder) = self.encoder.take() {
            let used = self.slots_used * self.param_stride;
            if used > 0 {
                // Applied at the start of this submission, after every earlier one.
                self.queue
                    .write_buffer(&self.params, 0, &self.params_host[..used]);
            }
            self.queue.submit([encoder.finish()]);
            self.slots_used = 0;
        }
    }

    /// Queues the copy of `buf[..len]` into a mappable buffer, submits, and requests the map.
    /// Natively it also waits for the map, so the returned future is ready at once.
    pub fn read_later(&mut self, buf: &GpuBuf, len: usize) -> Readback {
        let mut readback = Readback {
            state: ReadbackState::Done(Ok(Vec::new())),
            errors: self.errors.clone(),
        };
        if let Err(e) = self.check() {
            readback.state = ReadbackState::Done(Err(e));
            return readback;
        }
        if len > buf.len {
            readback.state = ReadbackState::Done(Err(Error::ShapeMismatch {
                op: "read",
                expected: format!("at most {} values", buf.len),
                got: format!("{len}"),
            }));
            return readback;
        }
        if len == 0 {
            return readback;
        }
        let bytes = (len * 4) as u64;
        let staging = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("descent readback"),
            size: bytes,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        self.encoder()
            .copy_buffer_to_buffer(&buf.buffer, 0, &staging, 0, Some(bytes));
        self.flush_encoder();
        let signal = Arc::new(Mutex::new(MapSignal::default()));
        {
            let signal = signal.clone();
            staging
                .slice(..)
                .map_async(wgpu::MapMode::Read, move |result| {
                    let mut s = signal.lock().unwrap_or_else(|p| p.into_inner());
                    s.result = Some(result.map_err(|e| e.to_string()));
                    if let Some(w) = s.waker.take() {
                        w.wake();
                    }
                });
        }
        #[cfg(not(target_arch = "wasm32"))]
        if let Err(e) = self.device.poll(wgpu::PollType::wait_indefinitely()) {
            readback.state = ReadbackState::Done(Err(Error::Gpu {
                op: "read",
                message: format!("waiting for the device failed: {e}"),
            }));
            return readback;
        }
        readback.state = ReadbackState::Mapping {
            staging,
            len,
            signal,
        };
        readback
    }
}

/// Compiles one shader into a pipeline with an explicit layout: binding 0 the uniform
/// parameters (dynamic offset), then the storage buffers.
fn build_pipeline(device: &wgpu::Device, kernel: Kernel) -> Pipeline {
    let name = kernel.name();
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some(name),
        source: wgpu::ShaderSource::Wgsl(kernel.source().into()),
    });
    let mut entries = vec![wgpu::BindGroupLayoutEntry {
        binding: 0,
        visibility: wgpu::ShaderStages::COMPUTE,
        ty: wgpu::BindingType::Buffer {
            ty: wgpu::BufferBindingType::Uniform,
            has_dynamic_offset: true,
            min_binding_size: NonZeroU64::new(PARAM_BYTES),
        },
        count: None,
    }];
    for (i, &read_only) in kernel.storage().iter().enumerate() {
        entries.push(wgpu::BindGroupLayoutEntry {
            binding: i as u32 + 1,
            visibility: wgpu::ShaderStages::COMPUTE,
            ty: wgpu::BindingType::Buffer {
                ty: wgpu::BufferBindingType::Storage { read_only },
                has_dynamic_offset: false,
                min_binding_size: None,
            },
            count: None,
        });
    }
    let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
        label: Some(name),
        entries: &entries,
    });
    let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
        label: Some(name),
        bind_group_layouts: &[Some(&layout)],
        immediate_size: 0,
    });
    let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
        label: Some(name),
        layout: Some(&pipeline_layout),
        module: &module,
        entry_point: Some(name),
        compilation_options: Default::default(),
        cache: None,
    });
    Pipeline { pipeline, layout }
}

/// `reason` in plain words for the reader, `detail` for the console.
fn unavailable(reason: &str, detail: impl Into<String>) -> Error {
    Error::GpuUnavailable {
        reason: reason.to_string(),
        detail: detail.into(),
    }
}

/// Workgroups for `len` invocations of a 256-wide 1-D shader, folded into 2-D past 65535.
fn groups_1d(len: usize) -> [u32; 3] {
    let g = len.div_ceil(WG_1D as usize).max(1);
    if g <= MAX_GROUPS as usize {
        [g as u32, 1, 1]
    } else {
        [MAX_GROUPS, g.div_ceil(MAX_GROUPS as usize) as u32, 1]
    }
}

/// Where a mapping callback leaves its result for the [`Readback`] future.
#[derive(Default)]
struct MapSignal {
    result: Option<std::result::Result<(), String>>,
    waker: Option<Waker>,
}

enum ReadbackState {
    Mapping {
        staging: wgpu::Buffer,
        len: usize,
        signal: Arc<Mutex<MapSignal>>,
    },
    Done(Result<Vec<f32>>),
    Taken,
}

/// A readback in flight (from [`Gpu::read_later`]): resolves to the values once the device
/// has run the work queued before it and the copy is mapped. Borrows nothing.
pub struct Readback {
    state: ReadbackState,
    errors: ErrorSlot,
}

impl Future for Readback {
    type Output = Result<Vec<f32>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let result = match &this.state {
            ReadbackState::Mapping { signal, .. } => {
                let mut s = signal.lock().unwrap_or_else(|p| p.into_inner());
                match s.result.take() {
                    None => {
                        s.waker = Some(cx.waker().clone());
                        return Poll::Pending;
                    }
                    Some(r) => r,
                }
            }
            ReadbackState::Done(_) | ReadbackState::Taken => Ok(()),
        };
        let state = std::mem::replace(&mut this.state, ReadbackState::Taken);
        let out = match state {
            ReadbackState::Mapping { staging, len, .. } => match result {
                Err(e) => Err(Error::Gpu {
                    op: "read",
                    message: format!("mapping the readback failed: {e}"),
                }),
                Ok(()) => {
                    let values = match staging.slice(..).get_mapped_range() {
                        Ok(view) => Ok(view
                            .chunks_exact(4)
                            .take(len)
                            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                            .collect::<Vec<f32>>()),
                        Err(e) => Err(Error::Gpu {
                            op: "read",
                            message: format!("the mapped range is unavailable: {e}"),
                        }),
                    };
                    staging.unmap();
                    values
                }
            },
            ReadbackState::Done(r) => r,
            ReadbackState::Taken => Err(Error::Gpu {
                op: "read",
                message: "the readback was polled after it completed".into(),
            }),
        };
        // An error the device reported while running the queued work poisons the values.
        let guard = this.errors.lock().unwrap_or_else(|p| p.into_inner());
        Poll::Ready(match (out, guard.as_ref()) {
            (Ok(_), Some(message)) => Err(Error::Gpu {
                op: "device",
                message: message.clone(),
            }),
            (out, _) => out,
        })
    }
}

/// Dropping the backend destroys its device, so that its memory returns at once instead of
/// whenever the browser's garbage collector finds the `GPUDevice`: a page that rebuilds its
/// run on every slider move would otherwise hold one live device per rebuild, and Chromium's
/// SwiftShader stops answering after a few dozen of them. A readback still in flight then
/// completes with the device-lost error.
impl Drop for Gpu {
    fn drop(&mut self) {
        self.pass = None;
        self.encoder = None;
        self.device.destroy();
    }
}

impl Backend for Gpu {
    type Buf = GpuBuf;

    fn name(&self) -> &'static str {
        "webgpu"
    }

    fn zeros(&mut self, len: usize) -> GpuBuf {
        // wgpu zero-fills new buffers. Never size 0: empty bindings are invalid.
        let buffer = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: None,
            size: (len.max(1) * 4) as u64,
            usage: wgpu::BufferUsages::STORAGE
                | wgpu::BufferUsages::COPY_SRC
                | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        GpuBuf { buffer, len }
    }

    fn upload(&mut self, data: &[f32]) -> GpuBuf {
        if data.is_empty() {
            return self.zeros(0);
        }
        let buffer = self
            .device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: None,
                contents: bytemuck::cast_slice(data),
                usage: wgpu::BufferUsages::STORAGE
                    | wgpu::BufferUsages::COPY_SRC
                    | wgpu::BufferUsages::COPY_DST,
            });
        GpuBuf {
            buffer,
            len: data.len(),
        }
    }

    fn write(&mut self, buf: &mut GpuBuf, data: &[f32]) {
        if data.len() > buf.len {
            self.fail(
                "write",
                format!("{} values into a buffer of {}", data.len(), buf.len),
            );
            return;
        }
        if data.is_empty() {
            return;
        }
        if self.encoder.is_none() {
            // Nothing recorded is waiting: a queue write lands after every earlier submission.
            self.queue
                .write_buffer(&buf.buffer, 0, bytemuck::cast_slice(data));
        } else {
            // A queue write would land before the recorded operations that still read the old
            // contents; stage the data and copy it in order instead.
            let staging = self
                .device
                .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                    label: Some("descent upload"),
                    contents: bytemuck::cast_slice(data),
                    usage: wgpu::BufferUsages::COPY_SRC,
                });
            let bytes = (data.len() * 4) as u64;
            self.encoder()
                .copy_buffer_to_buffer(&staging, 0, &buf.buffer, 0, Some(bytes));
        }
    }

    fn read(&mut self, buf: &GpuBuf, out: &mut [f32]) {
        #[cfg(not(target_arch = "wasm32"))]
        let values = crate::exec::block_on(self.read_later(buf, out.len()));
        #[cfg(target_arch = "wasm32")]
        let values: Result<Vec<f32>> = Err(Error::Gpu {
            op: "read",
            message: format!(
                "a synchronous readback of {} values cannot wait in a browser; use read_async",
                buf.len.min(out.len())
            ),
        });
        match values {
            Ok(v) if v.len() == out.len() => out.copy_from_slice(&v),
            Ok(v) => {
                self.fail("read", format!("{} values for {}", v.len(), out.len()));
                out.fill(f32::NAN);
            }
            Err(e) => {
                // NaN trips the trainer's divergence check; the cause stays in `check`.
                self.fail("read", e.to_string());
                out.fill(f32::NAN);
            }
        }
    }

    fn read_async(
        &mut self,
        buf: &GpuBuf,
        len: usize,
    ) -> impl Future<Output = Result<Vec<f32>>> + use<> {
        self.read_later(buf, len)
    }

    fn flush(&mut self) {
        self.flush_encoder();
    }

    fn copy(&mut self, src: &GpuBuf, dst: &mut GpuBuf, len: usize) {
        if len > src.len || len > dst.len {
            self.fail(
                "copy",
                format!("{len} values from {} into {}", src.len, dst.len),
            );
            return;
        }
        if len > 0 {
            self.encoder().copy_buffer_to_buffer(
                &src.buffer,
                0,
                &dst.buffer,
                0,
                Some((len * 4) as u64),
            );
        }
    }

    fn gemm(
        &mut self,
        ta: Trans,
        tb: Trans,
        m: usize,
        n: usize,
        k: usize,
        alpha: f32,
        a: &GpuBuf,
        b: &GpuBuf,
        beta: f32,
        c: &mut GpuBuf,
    ) {
        if m == 0 || n == 0 {
            return;
        }
        if a.len < m * k || b.len < k * n || c.len < m * n {
            self.fail(
                "gemm",
                format!(
                    "{m}×{k} · {k}×{n} with buffers of {}, {} and {}",
                    a.len, b.len, c.len
                ),
            );
            return;
        }
        // One network of the batched product: the same tiles and gemv, one shader less.
        self.gemm_batched(ta, tb, m, n, k, 1, alpha, None, a, 0, b, 0, beta, c, 0);
    }

    fn bias_act(
        &mut self,
        rows: usize,
        cols: usize,
        z: &mut GpuBuf,
        bias: &GpuBuf,
        bias_scale: f32,
        act: Activation,
        h: &mut GpuBuf,
    ) {
        let len = rows * cols;
        if len == 0 {
            return;
        }
        let params = BiasActParams {
            rows: rows as u32,
            cols: cols as u32,
            bias_scale,
            act: act.gpu_code(),
        };
        self.dispatch(
            Kernel::BiasAct,
            &params,
            &[&z.buffer, &bias.buffer, &h.buffer],
            groups_1d(len),
        );
    }

    fn act_backward(
        &mut self,
        len: usize,
        z: &GpuBuf,
        dh: &GpuBuf,
        act: Activation,
        dz: &mut GpuBuf,
    ) {
        if len == 0 {
            return;
        }
        let params = ActBackwardParams {
            len: len as u32,
            act: act.gpu_code(),
            _pad: [0; 2],
        };
        self.dispatch(
            Kernel::ActBackward,
            &params,
            &[&z.buffer, &dh.buffer, &dz.buffer],
            groups_1d(len),
        );
    }

    fn col_sum(
        &mut self,
        rows: usize,
        cols: usize,
        alpha: f32,
        a: &GpuBuf,
        beta: f32,
        out: &mut GpuBuf,
    ) {
        if cols == 0 {
            return;
        }
        let groups = [cols.div_ceil(COL_SUM_COLS) as u32, 1, 1];
        let mut begin = 0;
        loop {
            let end = (begin + COL_SUM_ROW_SLICE).min(rows);
            let beta = if begin == 0 { beta } else { 1.0 };
            let params = ColSumParams {
                rows: rows as u32,
                cols: cols as u32,
                alpha,
                beta,
                row_begin: begin as u32,
                row_end: end as u32,
                _pad: [0; 2],
            };
            self.dispatch(Kernel::ColSum, &params, &[&a.buffer, &out.buffer], groups);
            begin = end;
            if begin >= rows {
                break;
            }
        }
    }

    fn axpy(&mut self, len: usize, alpha: f32, x: &GpuBuf, y: &mut GpuBuf) {
        if len == 0 {
            return;
        }
        let params = AxpyParams {
            len: len as u32,
            alpha,
            _pad: [0; 2],
        };
        self.dispatch(
            Kernel::Axpy,
            &params,
            &[&x.buffer, &y.buffer],
            groups_1d(len),
        );
    }

    fn residual_loss(
        &mut self,
        rows: usize,
        cols: usize,
        f: &GpuBuf,
        f0: Option<&GpuBuf>,
        scale: f32,
        y: &GpuBuf,
        r: &mut GpuBuf,
        loss: &mut GpuBuf,
        slot: usize,
    ) {
        // A batch of one network (loss[slot · 1 + 0]); the same shader and slices.
        self.residual_loss_batched(1, rows, cols, f, f0, scale, y, r, loss, slot);
    }

    fn cross_entropy(
        &mut self,
        rows: usize,
        cols: usize,
        f: &GpuBuf,
        f0: Option<&GpuBuf>,
        scale: f32,
        y: &GpuBuf,
        r: &mut GpuBuf,
        loss: &mut GpuBuf,
        slot: usize,
    ) {
        // A batch of one network (loss[slot · 1 + 0]); the same shader and slices.
        self.cross_entropy_batched(1, rows, cols, f, f0, scale, y, r, loss, slot);
    }

    fn bag_cross_entropy(
        &mut self,
        rows: usize,
        cols: usize,
        bag: usize,
        f: &GpuBuf,
        f0: Option<&GpuBuf>,
        scale: f32,
        y: &GpuBuf,
        r: &mut GpuBuf,
        loss: &mut GpuBuf,
        slot: usize,
    ) {
        let len = rows * cols;
        if len == 0 {
            return;
        }
        if bag == 0
            || bag > MAX_BAG
            || !rows.is_multiple_of(bag)
            || slot >= loss.len
            || f.len < len
            || r.len < len
            || y.len < len
            || f0.is_some_and(|f0| f0.len < len)
        {
            self.fail(
                "bag_cross_entropy",
                format!(
                    "{rows} × {cols} logits in bags of {bag} (at most {MAX_BAG}, dividing the \
                     rows) into slot {slot} over buffers of {}, {}, {} targets and {} losses",
                    f.len, r.len, y.len, loss.len
                ),
            );
            return;
        }
        // Without f0 the shader never reads binding 2; bind f there (read-only twice is valid).
        let has_f0 = f0.is_some() as u32;
        let f0 = f0.unwrap_or(f);
        let params = |phase: u32, begin: usize, end: usize| BagCrossEntropyParams {
            rows: rows as u32,
            cols: cols as u32,
            bag: bag as u32,
            slot: slot as u32,
            scale,
            phase,
            begin: begin as u32,
            end: end as u32,
            accumulate: (phase == 1 && begin > 0) as u32,
            has_f0,
        };
        let bufs = [&f.buffer, &f0.buffer, &y.buffer, &r.buffer, &loss.buffer];
        self.dispatch(
            Kernel::BagCrossEntropy,
            &params(0, 0, rows),
            &bufs,
            groups_1d(rows),
        );
        let pairs = (rows / bag) * cols;
        let slice = (BAG_PAIR_ROWS / bag).max(256);
        let mut begin = 0;
        while begin < pairs {
            let end = (begin + slice).min(pairs);
            self.dispatch(
                Kernel::BagCrossEntropy,
                &params(1, begin, end),
                &bufs,
                [1, 1, 1],
            );
            begin = end;
        }
        self.dispatch(
            Kernel::BagCrossEntropy,
            &params(2, 0, rows),
            &bufs,
            groups_1d(rows),
        );
    }

    fn ntk_accumulate(
        &mut self,
        len: usize,
        g_d: Option<&GpuBuf>,
        g_x: &GpuBuf,
        w_coef: f32,
        b_coef: f32,
        beta: f32,
        out: &mut GpuBuf,
        offset: usize,
    ) {
        if len == 0 {
            return;
        }
        if g_x.len < len || g_d.is_some_and(|g| g.len < len) || out.len < offset + len {
            self.fail(
                "ntk_accumulate",
                format!(
                    "{len} elements at offset {offset} over buffers of {}, {} and {}",
                    g_d.map_or(0, |g| g.len),
                    g_x.len,
                    out.len
                ),
            );
            return;
        }
        let has_gd = g_d.is_some() as u32;
        // Without g_d the shader never reads binding 1; bind g_x there (read-only twice is valid).
        let g_d = g_d.unwrap_or(g_x);
        let params = NtkAccumulateParams {
            len: len as u32,
            offset: offset as u32,
            w_coef,
            b_coef,
            beta,
            has_gd,
            _pad: [0; 2],
        };
        self.dispatch(
            Kernel::NtkAccumulate,
            &params,
            &[&g_d.buffer, &g_x.buffer, &out.buffer],
            groups_1d(len),
        );
    }

    fn nngp_ntk_recursion(
        &mut self,
        rows: usize,
        cols: usize,
        rec: KernelRecursion,
        a1: &GpuBuf,
        var_rows: &GpuBuf,
        var_cols: &GpuBuf,
        layer_coefs: &GpuBuf,
        out: &mut GpuBuf,
    ) {
        let len = rows * cols;
        if len == 0 {
            return;
        }
        let depth = rec.depth;
        if a1.len < len
            || var_rows.len < depth * rows
            || var_cols.len < depth * cols
            || layer_coefs.len < 2 * (depth + 1)
            || out.len < 2 * len
            || depth > MAX_RECURSION_DEPTH
        {
            self.fail(
                "nngp_ntk_recursion",
                format!(
                    "{rows}×{cols} at depth {depth} (at most {MAX_RECURSION_DEPTH}) over buffers \
                     of {}, {}, {}, {} coefficients and {}",
                    a1.len, var_rows.len, var_cols.len, layer_coefs.len, out.len
                ),
            );
            return;
        }
        let params = NngpNtkRecursionParams {
            rows: rows as u32,
            cols: cols as u32,
            depth: depth as u32,
            act: rec.activation.gpu_code(),
            s2: rec.s2,
            sw2: rec.sw2,
            sb2: rec.sb2,
            nan_bits: f32::NAN.to_bits(),
        };
        self.dispatch(
            Kernel::NngpNtkRecursion,
            &params,
            &[
                &a1.buffer,
                &var_rows.buffer,
                &var_cols.buffer,
                &layer_coefs.buffer,
                &out.buffer,
            ],
            groups_1d(len),
        );
    }

    fn gemm_batched(
        &mut self,
        ta: Trans,
        tb: Trans,
        m: usize,
        n: usize,
        k: usize,
        batch: usize,
        alpha: f32,
        scales: Option<&GpuBuf>,
        a: &GpuBuf,
        stride_a: usize,
        b: &GpuBuf,
        stride_b: usize,
        beta: f32,
        c: &mut GpuBuf,
        stride_c: usize,
    ) {
        if m == 0 || n == 0 || batch == 0 {
            return;
        }
        let fits = |len: usize, stride: usize, size: usize| {
            (batch - 1).saturating_mul(stride).saturating_add(size) <= len
        };
        if !fits(a.len, stride_a, m * k)
            || !fits(b.len, stride_b, k * n)
            || !fits(c.len, stride_c, m * n)
            || (batch > 1 && stride_c < m * n)
            || scales.is_some_and(|s| s.len < batch)
        {
            self.fail(
                "gemm_batched",
                format!(
                    "{batch} × ({m}×{k} · {k}×{n}) with strides {stride_a}, {stride_b}, \
                     {stride_c} over buffers of {}, {} and {} ({} scales)",
                    a.len,
                    b.len,
                    c.len,
                    scales.map_or(0, |s| s.len)
                ),
            );
            return;
        }
        if self.try_gemv(
            (ta, tb),
            (m, n, k, batch),
            alpha,
            scales,
            (a, stride_a),
            (b, stride_b),
            beta,
            (c, stride_c),
        ) {
            return;
        }
        let flags = (ta == Trans::T) as u32
            | ((tb == Trans::T) as u32) << 1
            | (scales.is_some() as u32) << 2;
        // Without scales the shader never reads binding 3; bind a there (read-only twice is valid).
        let scales = scales.unwrap_or(a);
        let mut net = 0;
        while net < batch {
            let nets = (batch - net).min(BATCH_SLICE);
            let groups = [
                n.div_ceil(GEMM_TILE) as u32,
                m.div_ceil(GEMM_TILE) as u32,
                nets as u32,
            ];
            // Slices of the inner dimension accumulate into C: beta applies to the first only.
            let mut k_begin = 0;
            loop {
                let k_end = (k_begin + GEMM_K_SLICE).min(k);
                let beta = if k_begin == 0 { beta } else { 1.0 };
                let params = GemmBatchedParams {
                    m: m as u32,
                    n: n as u32,
                    k: k as u32,
                    flags,
                    alpha,
                    beta,
                    k_begin: k_begin as u32,
                    k_end: k_end as u32,
                    stride_a: stride_a as u32,
                    stride_b: stride_b as u32,
                    stride_c: stride_c as u32,
                    batch_begin: net as u32,
                    _pad: [0; 4],
                };
                self.dispatch(
                    Kernel::GemmBatched,
                    &params,
                    &[&a.buffer, &b.buffer, &scales.buffer, &c.buffer],
                    groups,
                );
                k_begin = k_end;
                if k_begin >= k {
                    break;
                }
            }
            net += nets;
        }
    }

    fn bias_act_batched(
        &mut self,
        batch: usize,
        rows: usize,
        cols: usize,
        z: &mut GpuBuf,
        bias: &GpuBuf,
        bias_scale: f32,
        act: Activation,
        h: &mut GpuBuf,
    ) {
        let len = batch * rows * cols;
        if len == 0 {
            return;
        }
        if z.len < len || h.len < len || bias.len < batch * cols {
            self.fail(
                "bias_act_batched",
                format!(
                    "{batch} × {rows}×{cols} over buffers of {}, {} and {} biases",
                    z.len, h.len, bias.len
                ),
            );
            return;
        }
        let params = BiasActBatchedParams {
            rows: rows as u32,
            cols: cols as u32,
            bias_scale,
            act: act.gpu_code(),
            len: len as u32,
            _pad: [0; 3],
        };
        self.dispatch(
            Kernel::BiasActBatched,
            &params,
            &[&z.buffer, &bias.buffer, &h.buffer],
            groups_1d(len),
        );
    }

    fn col_sum_batched(
        &mut self,
        batch: usize,
        rows: usize,
        cols: usize,
        alpha: f32,
        scales: Option<&GpuBuf>,
        a: &GpuBuf,
        beta: f32,
        out: &mut GpuBuf,
    ) {
        if cols == 0 || batch == 0 {
            return;
        }
        if a.len < batch * rows * cols
            || out.len < batch * cols
            || scales.is_some_and(|s| s.len < batch)
        {
            self.fail(
                "col_sum_batched",
                format!(
                    "{batch} × {rows}×{cols} over buffers of {} and {} ({} scales)",
                    a.len,
                    out.len,
                    scales.map_or(0, |s| s.len)
                ),
            );
            return;
        }
        let has_scales = scales.is_some() as u32;
        // Without scales the shader never reads binding 2; bind a there (read-only twice is valid).
        let scales = scales.unwrap_or(a);
        let mut net = 0;
        while net < batch {
            let nets = (batch - net).min(BATCH_SLICE);
            let groups = [cols.div_ceil(COL_SUM_COLS) as u32, nets as u32, 1];
            let mut begin = 0;
            loop {
                let end = (begin + COL_SUM_ROW_SLICE).min(rows);
                let beta = if begin == 0 { beta } else { 1.0 };
                let params = ColSumBatchedParams {
                    rows: rows as u32,
                    cols: cols as u32,
                    alpha,
                    beta,
                    row_begin: begin as u32,
                    row_end: end as u32,
                    batch_begin: net as u32,
                    has_scales,
                };
                self.dispatch(
                    Kernel::ColSumBatched,
                    &params,
                    &[&a.buffer, &scales.buffer, &out.buffer],
                    groups,
                );
                begin = end;
                if begin >= rows {
                    break;
                }
            }
            net += nets;
        }
    }

    fn residual_loss_batched(
        &mut self,
        batch: usize,
        rows: usize,
        cols: usize,
        f: &GpuBuf,
        f0: Option<&GpuBuf>,
        scale: f32,
        y: &GpuBuf,
        r: &mut GpuBuf,
        loss: &mut GpuBuf,
        slot: usize,
    ) {
        let len = rows * cols;
        if batch == 0 || len == 0 {
            return;
        }
        if (slot + 1) * batch > loss.len
            || f.len < batch * len
            || r.len < batch * len
            || y.len < len
            || f0.is_some_and(|f0| f0.len < batch * len)
        {
            self.fail(
                "residual_loss_batched",
                format!(
                    "{batch} × {len} outputs into slot {slot} over buffers of {}, {}, {} \
                     targets and {} losses",
                    f.len, r.len, y.len, loss.len
                ),
            );
            return;
        }
        // Without f0 the shader never reads binding 2; bind f there (read-only twice is valid).
        let has_f0 = f0.is_some() as u32;
        let f0 = f0.unwrap_or(f);
        let mut net = 0;
        while net < batch {
            let nets = (batch - net).min(BATCH_SLICE);
            let mut begin = 0;
            loop {
                let end = (begin + RESIDUAL_SLICE).min(len);
                let params = ResidualLossBatchedParams {
                    len: len as u32,
                    batch: batch as u32,
                    slot: slot as u32,
                    scale,
                    begin: begin as u32,
                    end: end as u32,
                    accumulate: (begin > 0) as u32,
                    batch_begin: net as u32,
                    has_f0,
                    rows: rows as u32,
                };
                self.dispatch(
                    Kernel::ResidualLossBatched,
                    &params,
                    &[&f.buffer, &f0.buffer, &y.buffer, &r.buffer, &loss.buffer],
                    [nets as u32, 1, 1],
                );
                begin = end;
                if begin >= len {
                    break;
                }
            }
            net += nets;
        }
    }

    fn cross_entropy_batched(
        &mut self,
        batch: usize,
        rows: usize,
        cols: usize,
        f: &GpuBuf,
        f0: Option<&GpuBuf>,
        scale: f32,
        y: &GpuBuf,
        r: &mut GpuBuf,
        loss: &mut GpuBuf,
        slot: usize,
    ) {
        let len = rows * cols;
        if batch == 0 || len == 0 {
            return;
        }
        if (slot + 1) * batch > loss.len
            || f.len < batch * len
            || r.len < batch * len
            || y.len < len
            || f0.is_some_and(|f0| f0.len < batch * len)
        {
            self.fail(
                "cross_entropy_batched",
                format!(
                    "{batch} × {rows} × {cols} logits into slot {slot} over buffers of {}, {}, \
                     {} targets and {} losses",
                    f.len, r.len, y.len, loss.len
                ),
            );
            return;
        }
        // Without f0 the shader never reads binding 2; bind f there (read-only twice is valid).
        let has_f0 = f0.is_some() as u32;
        let f0 = f0.unwrap_or(f);
        let slice_rows = (CROSS_ENTROPY_SLICE / cols).max(256);
        let mut net = 0;
        while net < batch {
            let nets = (batch - net).min(BATCH_SLICE);
            let mut begin = 0;
            loop {
                let end = (begin + slice_rows).min(rows);
                let params = CrossEntropyBatchedParams {
                    rows: rows as u32,
                    cols: cols as u32,
                    batch: batch as u32,
                    slot: slot as u32,
                    scale,
                    begin: begin as u32,
                    end: end as u32,
                    accumulate: (begin > 0) as u32,
                    batch_begin: net as u32,
                    has_f0,
                };
                self.dispatch(
                    Kernel::CrossEntropyBatched,
                    &params,
                    &[&f.buffer, &f0.buffer, &y.buffer, &r.buffer, &loss.buffer],
                    [nets as u32, 1, 1],
                );
                begin = end;
                if begin >= rows {
                    break;
                }
            }
            net += nets;
        }
    }

    fn momentum_step(
        &mut self,
        len: usize,
        lr: f32,
        beta: f32,
        wd: f32,
        g: &GpuBuf,
        v: &mut GpuBuf,
        theta: &mut GpuBuf,
    ) {
        if len == 0 {
            return;
        }
        if g.len < len || v.len < len || theta.len < len {
            self.fail(
                "momentum_step",
                format!(
                    "{len} parameters over buffers of {}, {} and {}",
                    g.len, v.len, theta.len
                ),
            );
            return;
        }
        let params = MomentumStepParams {
            len: len as u32,
            lr,
            beta,
            wd,
        };
        self.dispatch(
            Kernel::MomentumStep,
            &params,
            &[&g.buffer, &v.buffer, &theta.buffer],
            groups_1d(len),
        );
    }
}

impl Gpu {
    /// `C_b = alpha · s_b · op(A_b) · x_b + beta · C_b` with one output column (gemv.wgsl), for
    /// `gemm` and `gemm_batched` products with one output column or row. Operands are checked
    /// by the caller. Returns false (nothing recorded) when the shape needs more workgroups
    /// than one dispatch allows; the caller then takes the tiled path.
    fn gemv(
        &mut self,
        ta: bool,
        m: usize,
        k: usize,
        batch: usize,
        alpha: f32,
        scales: Option<&GpuBuf>,
        (a, stride_a): (&GpuBuf, usize),
        (x, stride_x): (&GpuBuf, usize),
        beta: f32,
        (c, stride_c): (&GpuBuf, usize),
    ) -> bool {
        let rows_per_group = if ta { 64 } else { 4 };
        let groups_x = m.div_ceil(rows_per_group);
        if groups_x > MAX_GROUPS as usize {
            return false;
        }
        let slice = if ta { GEMV_T_K_SLICE } else { GEMV_K_SLICE };
        let flags = ta as u32 | (scales.is_some() as u32) << 2;
        let scales = scales.unwrap_or(a);
        let mut net = 0;
        while net < batch {
            let nets = (batch - net).min(BATCH_SLICE);
            let mut k_begin = 0;
            loop {
                let k_end = (k_begin + slice).min(k);
                let beta = if k_begin == 0 { beta } else { 1.0 };
                let params = GemvParams {
                    m: m as u32,
                    k: k as u32,
                    flags,
                    alpha,
                    beta,
                    k_begin: k_begin as u32,
                    k_end: k_end as u32,
                    stride_a: stride_a as u32,
                    stride_x: stride_x as u32,
                    stride_c: stride_c as u32,
                    batch_begin: net as u32,
                    _pad: [0; 5],
                };
                self.dispatch(
                    Kernel::Gemv,
                    &params,
                    &[&a.buffer, &x.buffer, &scales.buffer, &c.buffer],
                    [groups_x as u32, 1, nets as u32],
                );
                k_begin = k_end;
                if k_begin >= k {
                    break;
                }
            }
            net += nets;
        }
        true
    }

    /// Routes a product with one output column (or row, as its transpose) to [`Gpu::gemv`];
    /// false when it is not such a product or gemv declined it.
    fn try_gemv(
        &mut self,
        (ta, tb): (Trans, Trans),
        (m, n, k, batch): (usize, usize, usize, usize),
        alpha: f32,
        scales: Option<&GpuBuf>,
        a: (&GpuBuf, usize),
        b: (&GpuBuf, usize),
        beta: f32,
        c: (&GpuBuf, usize),
    ) -> bool {
        if k == 0 {
            return false;
        }
        if n == 1 {
            // op(B) is k×1: contiguous whether B is stored k×1 or 1×k.
            self.gemv(ta == Trans::T, m, k, batch, alpha, scales, a, b, beta, c)
        } else if m == 1 {
            // Cᵀ = op(B)ᵀ · op(A)ᵀ: op(B)ᵀ is n×k, stored as is when tb == T, transposed when
            // tb == N; op(A)ᵀ (k×1) and Cᵀ (n×1) have the memory of op(A) and C.
            self.gemv(tb == Trans::N, n, k, batch, alpha, scales, b, a, beta, c)
        } else {
            false
        }
    }

    /// Destroys the device, as a driver reset or an unplugged GPU would: every later
    /// operation fails and every readback returns the device-lost error. For tests of the
    /// fallback to the CPU.
    pub fn lose_device(&mut self) {
        record(
            &self.errors,
            "device lost: destroyed on request".to_string(),
        );
        self.device.destroy();
    }
}
