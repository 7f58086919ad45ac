//! One allocation of power, energy until morning, water and bandwidth, with critical minimums
//! and feeder limits, plus shelter places for the families, for the first 10,000 consumers
//! (loads and pods) of a community from `kos-twin generate`.
//!
//! With `varied` among the arguments, a harder problem of the same community: the pods (with
//! their critical minimums) first, households that differ in energy, water and bandwidth per
//! household, scarcer resources and feeder limits at 45 % of peak power, so that feeder limits
//! run out one after another before the last resource does (in the default problem, one
//! resource runs out first for everyone, and there are no minimums).
//!
//! `cargo bench -p kos-commons --bench allocate [-- CONSUMERS] [varied]`; writes the problem to
//! `$KOS_BENCH_OUT/commons-problem.json` and the allocation to
//! `$KOS_BENCH_OUT/commons-result.json` when that variable is set (for
//! `scripts/bench-allocate.sh`, which solves the same problem with scipy/HiGHS).

use std::time::Instant;

use kos_commons::shelter::{Family, Shelter, place};
use kos_commons::{Consumer, Group, Problem, allocate};

/// Consumers per neighbourhood in the shelter problem.
const HOOD: usize = 50;

fn main() {
    let want: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(10_000);
    let varied = std::env::args().any(|a| a == "varied");
    // A fraction in [0, 1) from a consumer's index and a salt (splitmix64's finaliser).
    let u = |i: usize, salt: u64| {
        let mut x = (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ salt;
        x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (x ^ (x >> 31)) as f64 / 2f64.powi(64)
    };
    let mut buses = 2 * want;
    let scene = loop {
        let s = kos_scene::generate(buses, 1);
        if s.loads.len() + s.pods.len() >= want || buses >= kos_scene::generate::MAX_BUSES {
            break s;
        }
        buses = (buses * 3 / 2).min(kos_scene::generate::MAX_BUSES);
    };
    let critical = |p: &kos_scene::Priority| matches!(p, kos_scene::Priority::Critical);
    let mut loads: Vec<(Consumer, String)> = Vec::new();
    for (i, l) in scene.loads.iter().enumerate() {
        let h = l.households.max(1) as f64;
        // kW now, kWh until morning (12 h at 40 % of peak), litres per hour, Mbit/s; varied:
        // 25 to 55 % of peak until morning, 8 to 22 l/h and 1 to 10 Mbit/s per household.
        let demand = if varied {
            vec![
                l.peak_kw,
                l.peak_kw * (0.25 + 0.3 * u(i, 1)) * 12.0,
                (8.0 + 14.0 * u(i, 2)) * h,
                (1.0 + 9.0 * u(i, 3)) * h,
            ]
        } else {
            vec![l.peak_kw, l.peak_kw * 0.4 * 12.0, 15.0 * h, 5.0 * h]
        };
        let c = Consumer {
            id: l.id.clone(),
            demand,
            weight: h,
            minimum: if critical(&l.priority) {
                vec![l.peak_kw * 0.5, 0.0, 5.0 * h, 1.0]
            } else {
                vec![]
            },
            priority: if critical(&l.priority) { 2 } else { 0 },
        };
        loads.push((c, l.bus.clone()));
    }
    let mut pods: Vec<(Consumer, String)> = Vec::new();
    for p in &scene.pods {
        let water = p.water_m3_per_day * 1000.0 / 24.0;
        let c = Consumer {
            id: p.id.clone(),
            demand: vec![p.power_kw, p.power_kw * 12.0, water, p.bandwidth_mbps],
            weight: 1.0 + p.occupants as f64 / 10.0,
            minimum: if critical(&p.priority) {
                vec![
                    p.power_kw * 0.5,
                    p.power_kw * 3.0,
                    water * 0.5,
                    p.bandwidth_mbps * 0.2,
                ]
            } else {
                vec![]
            },
            priority: if critical(&p.priority) { 3 } else { 1 },
        };
        pods.push((c, p.bus.clone()));
    }
    let ordered = if varied {
        pods.into_iter().chain(loads)
    } else {
        loads.into_iter().chain(pods)
    };
    let (consumers, bus_of): (Vec<Consumer>, Vec<String>) = ordered.take(want).unzip();
    // Scarce: 60 % of what is asked of each resource; varied: 55, 65, 50 and 70 %.
    let total: Vec<f64> = (0..4)
        .map(|k| consumers.iter().map(|c| c.demand[k]).sum())
        .collect();
    let scarcity = if varied {
        [0.55, 0.65, 0.5, 0.7]
    } else {
        [0.6; 4]
    };
    let capacity: Vec<f64> = total.iter().zip(scarcity).map(|(t, s)| s * t).collect();
    let feeder = if varied { 0.45 } else { 0.7 };
    // Feeder limits: consumers on the same bus in groups, 70 % of their peak power (varied: 45 %).
    let mut by_bus: std::collections::BTreeMap<&str, Vec<usize>> = Default::default();
    for (i, b) in bus_of.iter().enumerate() {
        by_bus.entry(b.as_str()).or_default().push(i);
    }
    let groups: Vec<Group> = by_bus
        .iter()
        .filter(|(_, m)| m.len() > 1)
        .map(|(b, m)| Group {
            id: format!("feeder-{b}"),
            members: m.iter().map(|&i| consumers[i].id.clone()).collect(),
            cap: vec![
                Some(feeder * m.iter().map(|&i| consumers[i].demand[0]).sum::<f64>()),
                None,
                None,
                None,
            ],
        })
        .collect();
    let problem = Problem {
        resources: vec![
            "power_kw".into(),
            "energy_kwh".into(),
            "water_l_per_h".into(),
            "bandwidth_mbps".into(),
        ],
        capacity,
        consumers,
        groups,
    };
    problem.validate().unwrap();
    // Families of the households (2 to 5 people), and shelters for 60 % of them.
    let families: Vec<Family> = problem
        .consumers
        .iter()
        .enumerate()
        .flat_map(|(i, c)| {
            (0..c.weight as usize).map(move |k| Family {
                id: format!("{}-{k}", c.id),
                people: 2 + ((i + k) % 4) as u32,
                priority: (k % 7 == 0) as u32,
                group: i / HOOD,
            })
        })
        .collect();
    // Neighbourhoods of HOOD consumers, weighted by their households.
    let mut weights = vec![0.0; problem.consumers.len().div_ceil(HOOD)];
    for (i, c) in problem.consumers.iter().enumerate() {
        weights[i / HOOD] += c.weight;
    }
    let people: u32 = families.iter().map(|f| f.people).sum();
    let shelters: Vec<Shelter> = (0..40)
        .map(|s| Shelter {
            id: format!("shelter-{s}"),
            places: people * 6 / 10 / 40 + s % 3,
        })
        .collect();
    if let Some(dir) = std::env::var_os("KOS_BENCH_OUT") {
        let path = std::path::Path::new(&dir).join("commons-problem.json");
        std::fs::write(&path, serde_json::to_string(&problem).unwrap()).unwrap();
        println!("problem written to {}", path.display());
    }
    let runs = 30;
    // The whole call (allocation and shelter places), and the allocation alone.
    let mut ms = Vec::new();
    let mut alloc_ms = Vec::new();
    let mut last = None;
    for _ in 0..runs {
        let t = Instant::now();
        let a = allocate(&problem);
        let mid = t.elapsed();
        let p = place(&families, &shelters, &weights);
        ms.push(t.elapsed().as_secs_f64() * 1e3);
        alloc_ms.push(mid.as_secs_f64() * 1e3);
        assert!(p.free.iter().all(|&f| f < 5));
        last = Some(a);
    }
    let a = last.unwrap();
    if let Some(dir) = std::env::var_os("KOS_BENCH_OUT") {
        let path = std::path::Path::new(&dir).join("commons-result.json");
        std::fs::write(&path, serde_json::to_string(&a).unwrap()).unwrap();
        println!("allocation written to {}", path.display());
    }
    let jain = a.jain;
    ms.sort_by(f64::total_cmp);
    alloc_ms.sort_by(f64::total_cmp);
    println!(
        "{} consumers{}, {} resources, {} feeder limits, {} with minimums, {} families in {} shelters: median {:.3} ms, min {:.3} ms (of {runs}); Jain {:.4}",
        problem.consumers.len(),
        if varied { " (varied)" } else { "" },
        problem.resources.len(),
        problem.groups.len(),
        problem
            .consumers
            .iter()
            .filter(|c| !c.minimum.is_empty())
            .count(),
        families.len(),
        shelters.len(),
        ms[runs / 2],
        ms[0],
        jain
    );
    println!(
        "allocation alone: median {:.3} ms, min {:.3} ms (of {runs})",
        alloc_ms[runs / 2],
        alloc_ms[0]
    );
}
