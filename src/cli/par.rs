//! Threads over independent pieces of work (cells, seeds) with the results in a fixed order:
//! the numbers never depend on the thread count.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// `f(0), …, f(n − 1)` on up to `threads` threads, in index order. Each thread takes the next
/// index as it finishes one, so uneven pieces balance.
pub fn map<T: Send>(n: usize, threads: usize, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let threads = threads.clamp(1, n.max(1));
    if threads == 1 {
        return (0..n).map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let slots: Mutex<Vec<Option<T>>> = Mutex::new((0..n).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n {
                        break;
                    }
                    let v = f(i);
                    slots.lock().expect("a worker panicked")[i] = Some(v);
                }
            });
        }
    });
    slots
        .into_inner()
        .expect("a worker panicked")
        .into_iter()
        .map(|v| v.expect("every index ran"))
        .collect()
}

/// The threads available here (at least 1).
pub fn available() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

#[cfg(test)]
mod tests {
    #[test]
    fn results_come_in_index_order_whatever_the_thread_count() {
        let one = super::map(37, 1, |i| i * i);
        for threads in [2, 3, 8, 64] {
            assert_eq!(super::map(37, threads, |i| i * i), one);
        }
        assert!(super::map(0, 4, |i| i).is_empty());
    }
}
