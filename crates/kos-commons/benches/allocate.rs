//! One allocation of power, energy until morning, water and bandwidth, with critical minimums
//! and feeder limits, plus shelter places for the families, for the first 10,000 consumers
//! (loads and pods) of a community from `kos-twin generate`.
//!
//! `cargo bench -p kos-commons --bench allocate [-- CONSUMERS]`; writes the problem to
//! `$KOS_BENCH_OUT/commons-problem.json` when that variable is set.

use std::time::Instant;

use kos_commons::shelter::{Family, Shelter, place};
use kos_commons::{Consumer, Group, Problem, allocate};

fn main() {
    let want: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(10_000);
    let mut buses = 2 * want;
    let scene = loop {
        let s = kos_scene::generate(buses, 1);
        if s.loads.len() + s.pods.len() >= want || buses >= kos_scene::generate::MAX_BUSES {
            break s;
        }
        buses = (buses * 3 / 2).min(kos_scene::generate::MAX_BUSES);
    };
    let critical = |p: &kos_scene::Priority| matches!(p, kos_scene::Priority::Critical);
    let mut consumers: Vec<Consumer> = Vec::new();
    let mut bus_of: Vec<String> = Vec::new();
    for l in &scene.loads {
        let h = l.households.max(1) as f64;
        consumers.push(Consumer {
            id: l.id.clone(),
            // kW now, kWh until morning (12 h at 40 % of peak), litres per hour, Mbit/s.
            demand: vec![l.peak_kw, l.peak_kw * 0.4 * 12.0, 15.0 * h, 5.0 * h],
            weight: h,
            minimum: if critical(&l.priority) {
                vec![l.peak_kw * 0.5, 0.0, 5.0 * h, 1.0]
            } else {
                vec![]
            },
            priority: if critical(&l.priority) { 2 } else { 0 },
        });
        bus_of.push(l.bus.clone());
    }
    for p in &scene.pods {
        let water = p.water_m3_per_day * 1000.0 / 24.0;
        consumers.push(Consumer {
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
        });
        bus_of.push(p.bus.clone());
    }
    consumers.truncate(want);
    bus_of.truncate(want);
    // Scarce: 60 % of what is asked of each resource.
    let total: Vec<f64> = (0..4)
        .map(|k| consumers.iter().map(|c| c.demand[k]).sum())
        .collect();
    let capacity: Vec<f64> = total.iter().map(|t| 0.6 * t).collect();
    // Feeder limits: consumers on the same bus in groups, 70 % of their peak power.
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
                Some(0.7 * m.iter().map(|&i| consumers[i].demand[0]).sum::<f64>()),
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
            })
        })
        .collect();
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
    let mut ms = Vec::new();
    let mut jain = 0.0;
    for _ in 0..runs {
        let t = Instant::now();
        let a = allocate(&problem);
        let p = place(&families, &shelters);
        ms.push(t.elapsed().as_secs_f64() * 1e3);
        jain = a.jain;
        assert!(p.free.iter().all(|&f| f < 5));
    }
    ms.sort_by(f64::total_cmp);
    println!(
        "{} consumers, {} resources, {} feeder limits, {} families in {} shelters: median {:.3} ms, min {:.3} ms (of {runs}); Jain {:.4}",
        problem.consumers.len(),
        problem.resources.len(),
        problem.groups.len(),
        families.len(),
        shelters.len(),
        ms[runs / 2],
        ms[0],
        jain
    );
}
