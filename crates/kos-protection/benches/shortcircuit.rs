//! Short-circuit currents at every bus: the median time of `short_circuit` on `sc-case/1`
//! files given as arguments (scripts/bench-shortcircuit.sh runs pandapower's calc_sc on the
//! same files in the same run), or on the default scene and a generated 10,000-bus scene
//! without arguments, and then one fault's whole sequence there: the fault currents, the
//! devices' operations and the FLISR plan with its power flows.
//!
//! `cargo bench -p kos-protection --bench shortcircuit [-- CASE.json ...]`; with
//! `-- --export DIR` it only writes the cases of the default scene and of the generated scene
//! to `DIR/default-scene.json` and `DIR/generated-10000.json`.

use std::time::Instant;

use kos_protection::check::analyse_fault;
use kos_protection::flisr::plan_scene;
use kos_scene::Scene;

use kos_protection::sc::{ScCase, ScOptions, short_circuit};
use kos_protection::scene::sc_case;

fn median_ms(case: &ScCase) -> (f64, usize) {
    let options = ScOptions::default();
    let first = Instant::now();
    let out = short_circuit(case, &options).expect("the case solves");
    let once = first.elapsed().as_secs_f64();
    // About two seconds of repetitions, at least five.
    let reps = ((2.0 / once.max(1e-6)) as usize).clamp(5, 2000);
    let mut times: Vec<f64> = (0..reps)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(short_circuit(case, &options).unwrap());
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    (times[times.len() / 2], out.len())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let default_scene = || {
        let text = include_str!("../../../scenes/default.ron");
        sc_case(&kos_scene::parse(text, "default.ron").expect("the default scene parses"))
    };
    let generated = || sc_case(&kos_scene::generate(10_000, 1));
    if let Some(k) = args.iter().position(|a| a == "--export") {
        let dir = args.get(k + 1).expect("--export DIR");
        for (name, case) in [
            ("default-scene", default_scene()),
            ("generated-10000", generated()),
        ] {
            let path = format!("{dir}/{name}.json");
            std::fs::write(&path, serde_json::to_string_pretty(&case).unwrap()).expect("writes");
            println!("{path}");
        }
        return;
    }
    let files: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let mut cases = Vec::new();
    if files.is_empty() {
        cases.push(("default scene".to_string(), default_scene()));
        cases.push(("generated 10,000 buses".to_string(), generated()));
    }
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap_or_else(|e| panic!("{f}: {e}"));
        let case: ScCase = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{f}: {e}"));
        cases.push((f.to_string(), case));
    }
    for (name, case) in &cases {
        let (ms, buses) = median_ms(case);
        println!("kos-protection short_circuit {name}: {buses} buses, median {ms:.3} ms");
    }
    if files.is_empty() {
        let text = include_str!("../../../scenes/default.ron");
        let scene = kos_scene::parse(text, "default.ron").expect("the default scene parses");
        fault_sequence("default scene", &scene, "mv-03");
        let generated = kos_scene::generate(10_000, 1);
        // A ring main unit half way along the first MV feeder.
        let n = generated
            .lines
            .iter()
            .filter(|l| l.id.starts_with("mvc-0-"))
            .count();
        let bus = generated
            .lines
            .iter()
            .find(|l| l.id == format!("mvc-0-{}", n / 2))
            .map(|l| l.to.clone())
            .expect("the feeder has cables");
        fault_sequence("generated 10,000 buses", &generated, &bus);
    }
}

/// One permanent fault at `bus`: the sequence of operations, then the FLISR plan on the
/// network left by the lockout.
fn fault_sequence(name: &str, scene: &Scene, bus: &str) {
    let once = || {
        let a = analyse_fault(scene, bus, true)
            .expect("the fault is analysed")
            .expect("the bus is fed");
        let d = a.sequence.isolated_by.expect("a device isolates the fault");
        let mut after = scene.clone();
        let branch = &a.device_branch[d];
        for l in after.lines.iter_mut().filter(|l| &l.id == branch) {
            l.in_service = false;
        }
        let model = kos_scene::build_grid(&after);
        let ids: Vec<String> = model
            .branch_assets
            .iter()
            .map(|(id, _)| id.clone())
            .collect();
        let plan = plan_scene(&after, &model.network, &ids, &model.bus_index, bus)
            .expect("the bus is in the network");
        (a.path[d].name.clone(), plan)
    };
    let (device, plan) = once();
    let mut times: Vec<f64> = (0..15)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(once());
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    println!(
        "kos-protection fault sequence + FLISR {name}: fault at {bus}, {device} isolates, FLISR opens {} and closes {} branches, median {:.3} ms",
        plan.open.len(),
        plan.close.len(),
        times[times.len() / 2]
    );
}
