//! The few algebraically largest (or smallest) eigenvalues of a symmetric operator known only
//! through matrix-vector products: the top of a Hessian spectrum from Hessian-vector
//! products, or of an NTK Gram matrix.
//!
//! **Method: block Lanczos with full reorthogonalisation** (Golub & Underwood 1977; Golub &
//! Van Loan, *Matrix Computations*, 4th ed. 2013, §10.3.6). From a start block of b = k
//! orthonormal vectors (random, or given: [`lanczos_top_k_from`] warm-starts from an earlier
//! run's Ritz vectors, as the Step-size scene does between tracked steps), each step applies the operator to the newest block and orthonormalises
//! the products against the whole basis Q (classical Gram–Schmidt applied twice, which keeps Q
//! orthonormal to rounding), so that Q spans the block Krylov space
//! span{Q₀, AQ₀, A²Q₀, …}. The Ritz values are the eigenvalues of the small projected matrix
//! T = QᵀAQ (formed from the stored products AQ, so no three-term recurrence is trusted), and
//! the Ritz vector of θ is u = Qs with residual ‖Au − θu‖ = ‖(AQ)s − θQs‖, computed exactly.
//!
//! A block of k vectors, rather than one, is what finds a repeated eigenvalue: a single Krylov
//! sequence holds only one direction of each eigenspace, so a top eigenvalue of multiplicity 3
//! would appear once, and the next distinct eigenvalue would take the other two places. A
//! block of b vectors resolves multiplicities up to b.
//!
//! **Stopping.** After each block step the k wanted Ritz pairs are checked; the run stops when
//! every residual is at most `tol`·‖A‖ (‖A‖ estimated by the largest |Ritz value|), when the
//! basis spans the whole space (the Ritz values are then the eigenvalues, up to rounding), or
//! after `max_matvecs` products. For a symmetric operator a residual r bounds the distance from
//! θ to the nearest eigenvalue by r (and by r²/gap once the gap to the rest of the spectrum is
//! larger than r).
//!
//! **Cost.** m = the basis size: m products, O(dim·m²) for the orthogonalisation and for T
//! (grown by each new block's rows and columns), O(m³) per Rayleigh–Ritz step; memory 2·dim·m f64. Meant for small dimensions (a Hessian of up to some
//! 10⁴ parameters, an NTK of up to 10³ points) and k ≤ 8.

use nalgebra::{DMatrix, SymmetricEigen};

use crate::error::{Error, Result};
use crate::rng::Rng;

/// Settings of [`lanczos_top_k_with`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LanczosOptions {
    /// Block size; 0 (the default) means k. It bounds the multiplicity that can be resolved.
    pub block: usize,
    /// The most operator products; 0 (the default) means max(40·b, 200), capped at
    /// dim rounded up to a whole block.
    pub max_matvecs: usize,
    /// Relative residual at which a Ritz pair counts as converged (default 1e-10).
    pub tol: f64,
}

impl Default for LanczosOptions {
    fn default() -> Self {
        LanczosOptions {
            block: 0,
            max_matvecs: 0,
            tol: 1e-10,
        }
    }
}

/// k extreme eigenpairs of a symmetric operator.
#[derive(Clone, Debug, PartialEq)]
pub struct Eigenpairs {
    /// The eigenvalue estimates (Ritz values): for [`lanczos_top_k`] the algebraically largest,
    /// in descending order; for [`lanczos_bottom_k`] the algebraically smallest (most
    /// negative), in ascending order.
    pub values: Vec<f64>,
    /// The unit eigenvector estimate (Ritz vector, length dim) of each value.
    pub vectors: Vec<Vec<f64>>,
    /// ‖Au − θu‖ of each pair.
    pub residuals: Vec<f64>,
    /// Operator products used.
    pub matvecs: usize,
    /// Whether every residual met the tolerance (or the basis spanned the whole space).
    pub converged: bool,
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    super::dot(a, b)
}

/// Orthogonalises `v` against the orthonormal `basis` twice (classical Gram–Schmidt twice) and
/// normalises it; returns its norm after orthogonalisation relative to before (0 for a zero v).
fn orthonormalise(v: &mut [f64], basis: &[Vec<f64>]) -> f64 {
    let before = dot(v, v).sqrt();
    if before == 0.0 {
        return 0.0;
    }
    for _ in 0..2 {
        let coeffs: Vec<f64> = basis.iter().map(|q| dot(q, v)).collect();
        for (q, c) in basis.iter().zip(coeffs) {
            v.iter_mut().zip(q).for_each(|(a, b)| *a -= c * b);
        }
    }
    let after = dot(v, v).sqrt();
    if after > 0.0 {
        v.iter_mut().for_each(|a| *a /= after);
    }
    after / before
}

/// A new basis vector from `candidate` (or, when it lies numerically in span(`basis`), from
/// fresh random vectors), orthonormal to `basis`. None when `basis` spans the whole space.
fn extend(basis: &[Vec<f64>], mut candidate: Vec<f64>, rng: &mut Rng) -> Option<Vec<f64>> {
    let dim = candidate.len();
    if basis.len() >= dim {
        return None;
    }
    // Below this relative norm the candidate is rounding noise in span(basis).
    const LOST: f64 = 1e-8;
    if orthonormalise(&mut candidate, basis) > LOST {
        return Some(candidate);
    }
    for _ in 0..8 {
        let mut r: Vec<f64> = (0..dim).map(|_| rng.normal()).collect();
        if orthonormalise(&mut r, basis) > LOST {
            return Some(r);
        }
    }
    None
}

/// The k algebraically largest eigenvalues (descending) of the symmetric operator
/// `matvec` (v ↦ Av on vectors of length `dim`), by block Lanczos from a random start block
/// drawn from `seed`, with [`LanczosOptions::default`]. Errors: k = 0 or k > dim, a product
/// of the wrong length or with non-finite entries.
pub fn lanczos_top_k(
    dim: usize,
    k: usize,
    matvec: impl FnMut(&[f64]) -> Vec<f64>,
    seed: u64,
) -> Result<Eigenpairs> {
    lanczos_top_k_with(dim, k, matvec, seed, &LanczosOptions::default())
}

/// The k algebraically smallest (most negative) eigenvalues, ascending: [`lanczos_top_k`]
/// of −A.
pub fn lanczos_bottom_k(
    dim: usize,
    k: usize,
    mut matvec: impl FnMut(&[f64]) -> Vec<f64>,
    seed: u64,
) -> Result<Eigenpairs> {
    let mut out = lanczos_top_k(
        dim,
        k,
        |v| {
            let mut w = matvec(v);
            w.iter_mut().for_each(|a| *a = -*a);
            w
        },
        seed,
    )?;
    out.values.iter_mut().for_each(|a| *a = -*a);
    Ok(out)
}

/// [`lanczos_top_k`] with explicit [`LanczosOptions`].
pub fn lanczos_top_k_with(
    dim: usize,
    k: usize,
    matvec: impl FnMut(&[f64]) -> Vec<f64>,
    seed: u64,
    options: &LanczosOptions,
) -> Result<Eigenpairs> {
    lanczos_top_k_from(dim, k, matvec, &[], seed, options)
}

/// [`lanczos_top_k_with`] from a given start block: the vectors of `start` (of length `dim`;
/// others are passed over) come first, e.g. the Ritz vectors of an earlier call on a nearby
/// operator (a warm start: the first Rayleigh–Ritz step then already holds their estimates),
/// and random vectors drawn from `seed` fill the block up to its size.
pub fn lanczos_top_k_from(
    dim: usize,
    k: usize,
    mut matvec: impl FnMut(&[f64]) -> Vec<f64>,
    start: &[Vec<f64>],
    seed: u64,
    options: &LanczosOptions,
) -> Result<Eigenpairs> {
    if k == 0 || k > dim {
        return Err(Error::config(
            "k",
            format!("asks for 1 to dim = {dim} eigenvalues, got {k}"),
        ));
    }
    if !(options.tol.is_finite() && options.tol >= 0.0) {
        return Err(Error::config(
            "tol",
            format!("must be a finite number ≥ 0, got {}", options.tol),
        ));
    }
    let b = options.block.max(k).min(dim);
    let max_matvecs = if options.max_matvecs == 0 {
        (40 * b).max(200).min(dim.div_ceil(b) * b)
    } else {
        options.max_matvecs
    }
    .max(b);

    let mut rng = Rng::new(seed);
    let mut q: Vec<Vec<f64>> = Vec::new();
    let mut aq: Vec<Vec<f64>> = Vec::new();
    let mut t = DMatrix::<f64>::zeros(0, 0);
    let mut candidates: Vec<Vec<f64>> = start
        .iter()
        .filter(|v| v.len() == dim && v.iter().all(|a| a.is_finite()))
        .take(b)
        .cloned()
        .collect();
    while candidates.len() < b {
        candidates.push((0..dim).map(|_| rng.normal()).collect());
    }
    loop {
        // Orthonormalise the candidates into the next block and apply the operator to it.
        let block_start = q.len();
        for c in candidates.drain(..) {
            let Some(v) = extend(&q, c, &mut rng) else {
                break;
            };
            let w = matvec(&v);
            if w.len() != dim {
                return Err(Error::ShapeMismatch {
                    op: "lanczos_top_k",
                    expected: format!("products of length {dim}"),
                    got: w.len().to_string(),
                });
            }
            if w.iter().any(|a| !a.is_finite()) {
                return Err(Error::config(
                    "operator",
                    "a matrix-vector product has non-finite entries",
                ));
            }
            q.push(v);
            aq.push(w);
        }
        let m = q.len();

        // Rayleigh–Ritz on the whole basis: T = QᵀAQ, symmetrised, grown by the new block's
        // rows and columns (the earlier entries do not change).
        let mut grown = DMatrix::zeros(m, m);
        grown
            .view_mut((0, 0), (block_start, block_start))
            .copy_from(&t);
        for i in 0..m {
            for j in block_start.max(i)..m {
                let v = 0.5 * (dot(&q[i], &aq[j]) + dot(&q[j], &aq[i]));
                grown[(i, j)] = v;
                grown[(j, i)] = v;
            }
        }
        t = grown;
        let eig = SymmetricEigen::new(t.clone());
        let mut order: Vec<usize> = (0..m).collect();
        order.sort_by(|&i, &j| eig.eigenvalues[j].total_cmp(&eig.eigenvalues[i]));
        let scale = eig.eigenvalues.amax();
        let wanted = k.min(m);
        let mut values = Vec::with_capacity(wanted);
        let mut vectors = Vec::with_capacity(wanted);
        let mut residuals = Vec::with_capacity(wanted);
        for &i in &order[..wanted] {
            let theta = eig.eigenvalues[i];
            let s = eig.eigenvectors.column(i);
            let mut u = vec![0.0; dim];
            let mut au = vec![0.0; dim];
            for (j, &sj) in s.iter().enumerate() {
                u.iter_mut().zip(&q[j]).for_each(|(a, b)| *a += sj * b);
                au.iter_mut().zip(&aq[j]).for_each(|(a, b)| *a += sj * b);
            }
            let r = au
                .iter()
                .zip(&u)
                .map(|(a, b)| (a - theta * b).powi(2))
                .sum::<f64>()
                .sqrt();
            values.push(theta);
            vectors.push(u);
            residuals.push(r);
        }
        let spans_all = m >= dim;
        let converged =
            spans_all || (wanted == k && residuals.iter().all(|&r| r <= options.tol * scale));
        if converged || m >= max_matvecs || m == block_start {
            return Ok(Eigenpairs {
                values,
                vectors,
                residuals,
                matvecs: m,
                converged,
            });
        }
        // The next block: the products of the newest block (orthogonalised when extended).
        candidates = aq[block_start..m].to_vec();
        let room = (max_matvecs - m).min(dim - m);
        candidates.truncate(room);
    }
}
