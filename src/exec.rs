//! The one way synchronous code gets the value of a future.
//!
//! The engine's work is asynchronous so that a GPU readback never blocks the browser; the
//! command line, the tests, the benchmarks and the CPU-only wasm entry points call it
//! synchronously through [`block_on`].

use std::future::Future;

use crate::error::Result;

/// The value of `future`. Natively this waits for it (a GPU readback waits for the device).
/// In wasm nothing may wait: a future that is not ready when first polled (a readback from the
/// browser's WebGPU) gives an error that names the async method to use instead. Every future of
/// the CPU backend is ready when first polled, on both platforms.
pub fn block_on<T>(future: impl Future<Output = Result<T>>) -> Result<T> {
    #[cfg(not(target_arch = "wasm32"))]
    {
        pollster::block_on(future)
    }
    #[cfg(target_arch = "wasm32")]
    {
        let mut future = std::pin::pin!(future);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match future.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(r) => r,
            std::task::Poll::Pending => Err(crate::error::Error::Gpu {
                op: "read",
                message: "a synchronous readback cannot wait in a browser; use the async methods"
                    .into(),
            }),
        }
    }
}
