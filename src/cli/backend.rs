//! `--backend cpu|gpu|auto` natively: which GPU a run gets, through wgpu on Vulkan.
//!
//! - `cpu`: no GPU.
//! - `gpu`: the adapter wgpu prefers, whatever it is; a software one (Mesa's lavapipe, which
//!   emulates a GPU on the CPU) is used with a note that the CPU path would be faster, and
//!   no adapter at all is an error.
//! - `auto`: a hardware GPU when wgpu finds one (a discrete one first), else the CPU with a
//!   note; never a software adapter.
//!
//! A driver whose scene has a GPU path calls [`gpu_for`]; one without calls [`cpu_only`] for
//! the note a `--backend gpu` run gets.

use crate::backend::gpu::Gpu;
use crate::error::{Error, Result};
use crate::session::device::{
    BackendChoice, software_notice, software_warning, unavailable_notice,
};

/// The GPU a run of `choice` uses (`None`: the CPU), and notes for the reader. `what` says in
/// a few words what runs on the CPU when the GPU is not used ("the run uses the CPU").
pub fn gpu_for(choice: BackendChoice, what: &str) -> Result<(Option<Gpu>, Vec<String>)> {
    match choice {
        BackendChoice::Cpu => Ok((None, Vec::new())),
        BackendChoice::Gpu => {
            let gpu = Gpu::new_blocking()?;
            let notes = if gpu.is_software() {
                vec![software_warning(gpu.adapter())]
            } else {
                Vec::new()
            };
            Ok((Some(gpu), notes))
        }
        BackendChoice::Auto => {
            let adapters = adapters();
            match hardware(&adapters) {
                Some(a) => match crate::exec::block_on(Gpu::from_adapter(a)) {
                    Ok(gpu) => Ok((Some(gpu), Vec::new())),
                    Err(e) => Ok((None, vec![unavailable_notice(&e, what).0])),
                },
                None => {
                    let note = match adapters.first() {
                        Some(a) => software_notice(&a.get_info().name, what),
                        None => {
                            unavailable_notice(
                                &Error::GpuUnavailable {
                                    reason: "no GPU adapter was found".into(),
                                    detail: "wgpu found no Vulkan adapter".into(),
                                },
                                what,
                            )
                            .0
                        }
                    };
                    Ok((None, vec![note]))
                }
            }
        }
    }
}

/// The note for a scene without a GPU path when the GPU was asked for (`None` otherwise).
pub fn cpu_only(choice: BackendChoice, scene: &str) -> Option<String> {
    (choice == BackendChoice::Gpu).then(|| format!("{scene} has no GPU path: it ran on the CPU."))
}

/// Every adapter wgpu finds here.
pub fn adapters() -> Vec<wgpu::Adapter> {
    let instance = wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle());
    pollster::block_on(instance.enumerate_adapters(wgpu::Backends::all()))
}

/// The adapter `auto` takes: a discrete GPU, else an integrated, virtual or other hardware one;
/// never a software emulation (device type `Cpu`).
pub fn hardware(adapters: &[wgpu::Adapter]) -> Option<&wgpu::Adapter> {
    use wgpu::DeviceType::*;
    [DiscreteGpu, IntegratedGpu, VirtualGpu, Other]
        .iter()
        .find_map(|t| adapters.iter().find(|a| a.get_info().device_type == *t))
}

/// One line per adapter: name, type and API (for `descent backends`' listing and notes).
pub fn describe(adapters: &[wgpu::Adapter]) -> Vec<String> {
    adapters
        .iter()
        .map(|a| {
            let i = a.get_info();
            let kind = match i.device_type {
                wgpu::DeviceType::Cpu => "software, on the CPU",
                wgpu::DeviceType::DiscreteGpu => "discrete GPU",
                wgpu::DeviceType::IntegratedGpu => "integrated GPU",
                wgpu::DeviceType::VirtualGpu => "virtual GPU",
                wgpu::DeviceType::Other => "other",
            };
            format!("{} ({kind}, {:?})", i.name, i.backend)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_never_takes_a_software_adapter_and_cpu_takes_none() {
        let (gpu, notes) = gpu_for(BackendChoice::Cpu, "the run uses the CPU").unwrap();
        assert!(gpu.is_none() && notes.is_empty());
        let adapters = adapters();
        let (gpu, notes) = gpu_for(BackendChoice::Auto, "the run uses the CPU").unwrap();
        match hardware(&adapters) {
            Some(_) => assert!(gpu.is_some_and(|g| !g.is_software())),
            None => {
                assert!(gpu.is_none());
                assert_eq!(notes.len(), 1);
                assert!(notes[0].contains("the run uses the CPU"), "{notes:?}");
            }
        }
    }

    #[test]
    fn gpu_on_a_software_adapter_runs_with_a_note() {
        let adapters = adapters();
        if adapters.is_empty() || hardware(&adapters).is_some() {
            return; // the case needs a machine whose only adapter is a software one
        }
        let (gpu, notes) = gpu_for(BackendChoice::Gpu, "the run uses the CPU").unwrap();
        assert!(gpu.is_some_and(|g| g.is_software()));
        assert!(notes[0].contains("software emulation"), "{notes:?}");
        assert_eq!(
            cpu_only(BackendChoice::Gpu, "weak-labels").as_deref(),
            Some("weak-labels has no GPU path: it ran on the CPU.")
        );
        assert_eq!(cpu_only(BackendChoice::Auto, "weak-labels"), None);
    }
}
