//! Dense linear algebra the scenes need beyond nalgebra's.
//!
//! - [`tridiagonal`]: Householder reduction of a symmetric matrix to tridiagonal form and the
//!   O(m) shifted solves that make a ridge slider free.

pub mod tridiagonal;

pub use tridiagonal::Tridiagonal;
