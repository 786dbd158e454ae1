//! The native GPU backend for tests, shared by tests/gpu_backend.rs, tests/batched.rs and
//! tests/live.rs: a Vulkan adapter is required (Mesa's lavapipe runs the tests without a GPU:
//! `apt-get install mesa-vulkan-drivers`). Without one a GPU test FAILS, unless
//! `DESCENT_ALLOW_NO_GPU=1` is set, in which case it prints why and passes without running.

#![allow(dead_code)]

use descent::backend::gpu::Gpu;

/// The GPU backend, or `None` (test skipped) when there is no adapter and
/// `DESCENT_ALLOW_NO_GPU=1`; without that variable a missing adapter fails the test.
pub fn gpu() -> Option<Gpu> {
    match Gpu::new_blocking() {
        Ok(g) => Some(g),
        Err(e) => {
            if std::env::var("DESCENT_ALLOW_NO_GPU").as_deref() == Ok("1") {
                eprintln!("skipping a GPU test (DESCENT_ALLOW_NO_GPU=1): {e}");
                None
            } else {
                panic!(
                    "{e}. The GPU tests need a Vulkan adapter (Mesa's lavapipe will do: apt-get \
                     install mesa-vulkan-drivers); set DESCENT_ALLOW_NO_GPU=1 to skip them"
                );
            }
        }
    }
}
