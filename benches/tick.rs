//! Time of one full simulation tick (weather, dispatch, power flow with relief, stores,
//! monitors with flow tracing, wear, report) on the default scene and on generated scenes.
//!
//! `cargo bench --profile dev --bench tick [-- BUSES...]`; see `scripts/bench-tick.sh`.

use std::time::Instant;

use kos_twin::app::headless_app;
use kos_twin::scene::default_scene;
use kos_twin::sim::run_ticks;

fn time_ticks(name: &str, scene: &kos_scene::Scene, warmup: u64, ticks: u64) {
    let mut app = headless_app(scene);
    run_ticks(&mut app, warmup);
    let mut ms: Vec<f64> = (0..ticks)
        .map(|_| {
            let t = Instant::now();
            run_ticks(&mut app, 1);
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    ms.sort_by(f64::total_cmp);
    let mean = ms.iter().sum::<f64>() / ms.len() as f64;
    println!(
        "{name:<24} {:>6} buses  ticks {ticks:>4}  median {:>8.3} ms  mean {:>8.3} ms  p95 {:>8.3} ms",
        scene.buses.len(),
        ms[ms.len() / 2],
        mean,
        ms[(ms.len() * 95 / 100).min(ms.len() - 1)],
    );
}

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![10_000]
    } else {
        sizes
    };
    time_ticks("default scene", &default_scene(), 30, 300);
    for n in sizes {
        let scene = kos_scene::generate(n, 1);
        time_ticks("generated, seed 1", &scene, 5, 60);
    }
}
