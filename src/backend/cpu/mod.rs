//! The CPU backend: the reference implementation of [`Backend`] and the fallback when there is
//! no GPU. Buffers are plain `Vec<f32>`; the matrix products go through [`gemm::Gemm`].

pub mod gemm;

use super::{Activation, Backend, Trans};

/// The CPU backend. Holds the packing scratch of the matrix kernels so steps allocate nothing.
#[derive(Default)]
pub struct Cpu {
    gemm: gemm::Gemm,
}

impl Cpu {
    pub fn new() -> Self {
        Self::default()
    }
}

impl Backend for Cpu {
    type Buf = Vec<f32>;

    fn name(&self) -> &'static str {
        "cpu"
    }

    fn zeros(&mut self, len: usize) -> Vec<f32> {
        vec![0.0; len]
    }

    fn upload(&mut self, data: &[f32]) -> Vec<f32> {
        data.to_vec()
    }

    fn write(&mut self, buf: &mut Vec<f32>, data: &[f32]) {
        buf[..data.len()].copy_from_slice(data);
    }

    fn read(&mut self, buf: &Vec<f32>, out: &mut [f32]) {
        let n = out.len();
        out.copy_from_slice(&buf[..n]);
    }

    fn copy(&mut self, src: &Vec<f32>, dst: &mut Vec<f32>, len: usize) {
        dst[..len].copy_from_slice(&src[..len]);
    }

    fn gemm(
        &mut self,
        ta: Trans,
        tb: Trans,
        m: usize,
        n: usize,
        k: usize,
        alpha: f32,
        a: &Vec<f32>,
        b: &Vec<f32>,
        beta: f32,
        c: &mut Vec<f32>,
    ) {
        let lda = if ta == Trans::N { k } else { m };
        let ldb = if tb == Trans::N { n } else { k };
        self.gemm.run(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, n);
    }

    fn bias_act(
        &mut self,
        rows: usize,
        cols: usize,
        z: &mut Vec<f32>,
        bias: &Vec<f32>,
        bias_scale: f32,
        act: Activation,
        h: &mut Vec<f32>,
    ) {
        let z = &mut z[..rows * cols];
        let h = &mut h[..rows * cols];
        for (zr, hr) in z.chunks_exact_mut(cols).zip(h.chunks_exact_mut(cols)) {
            for ((zv, hv), bv) in zr.iter_mut().zip(hr.iter_mut()).zip(&bias[..cols]) {
                *zv += bias_scale * bv;
                *hv = act.apply(*zv);
            }
        }
    }

    fn act_backward(&mut self, len: usize, z: &Vec<f32>, dh: &Vec<f32>, act: Activation, dz: &mut Vec<f32>) {
        for ((d, &zv), &g) in dz[..len].iter_mut().zip(&z[..len]).zip(&dh[..len]) {
            *d = g * act.derivative(zv);
        }
    }

    fn col_sum(&mut self, rows: usize, cols: usize, alpha: f32, a: &Vec<f32>, out: &mut Vec<f32>) {
        let out = &mut out[..cols];
        out.fill(0.0);
        for row in a[..rows * cols].chunks_exact(cols) {
            for (o, v) in out.iter_mut().zip(row) {
                *o += v;
            }
        }
        for o in out {
            *o *= alpha;
        }
    }

    fn axpy(&mut self, len: usize, alpha: f32, x: &Vec<f32>, y: &mut Vec<f32>) {
        for (yv, xv) in y[..len].iter_mut().zip(&x[..len]) {
            *yv += alpha * xv;
        }
    }

    fn residual_loss(
        &mut self,
        len: usize,
        f: &Vec<f32>,
        f0: Option<&Vec<f32>>,
        y: &Vec<f32>,
        r: &mut Vec<f32>,
        loss: &mut Vec<f32>,
        slot: usize,
    ) {
        let mut acc = 0.0f64;
        for i in 0..len {
            let fi = match f0 {
                Some(f0) => f[i] - f0[i],
                None => f[i],
            };
            let ri = fi - y[i];
            r[i] = ri;
            acc += (ri as f64) * (ri as f64);
        }
        loss[slot] = (acc / (2.0 * len as f64)) as f32;
    }
}
