//! Native steps per second of the Lazy-or-rich scene's ensemble (N networks of one width in one
//! batched trainer: 64 sine points, erf, one hidden layer, not centred) against the scene's single
//! network at the same settings, the peer of the browser figure (`scripts/bench.mjs --only
//! ensemble`). `cargo bench --bench ensemble` prints both and their ratio.

use descent::scenes::lazy::{self, Ensemble};
use descent::session::grid::GridRun;

#[path = "common/rate.rs"]
mod rate;
use rate::rate;

fn main() {
    for (networks, width) in [(32, 64), (32, 512), (8, 512)] {
        let mut config = lazy::scene_defaults();
        config.net.width = width;
        config.net.init.center_output = false;
        let mut pg = GridRun::new(config.clone()).expect("benchmark configuration");
        let grid = pg.grid_points().to_vec();
        let mut e = Ensemble::new(&config, networks, &pg.data.x_train, &pg.data.y_train, &grid)
            .expect("benchmark ensemble");
        let one = rate(|k| {
            pg.train_only(k);
        });
        let many = rate(|k| {
            let to = e.step() + k;
            e.advance_to(to).expect("ensemble steps");
        });
        eprintln!(
            "native ensemble {networks}x{width}: one network {one:.0} steps/s, ensemble {many:.1} steps/s, ratio {:.3} ({:.2} network-steps per single step)",
            many / one,
            many * networks as f64 / one
        );
    }
}
