//! A cascade on a generated community: its normally-open point closed (two feeders in a
//! ring) and its demand quadrupled, with no relief, steps run until nothing more trips. The
//! trips are checked against the rules on flows solved independently of the cascade's own.

use kos_grid::{Network, PowerFlow, PowerFlowOptions, PowerFlowResult};
use kos_protection::cascade::{CascadeRules, CascadeState, CascadeTrip, TripRule, step};

fn meshed_overloaded() -> Network {
    let mut scene = kos_scene::generate(300, 3);
    for s in &mut scene.switches {
        s.closed = Some(true);
    }
    let mut net = kos_scene::build_grid(&scene).network;
    for b in &mut net.buses {
        b.pd_mw *= 4.0;
        b.qd_mvar *= 4.0;
    }
    net
}

fn solve(net: &Network) -> PowerFlowResult {
    PowerFlow::new()
        .solve(net, &PowerFlowOptions::default())
        .unwrap()
}

fn run(rules: &CascadeRules, steps: usize) -> (Vec<(usize, CascadeTrip)>, Network) {
    let mut net = meshed_overloaded();
    let mut state = CascadeState::new(net.branches.len());
    let mut log = Vec::new();
    for s in 0..steps {
        let first = solve(&net);
        let out = step(&mut net, first, &mut state, rules, |n| Some(solve(n)));
        log.extend(out.trips.into_iter().map(|t| (s, t)));
    }
    (log, net)
}

#[test]
fn a_cascade_on_a_generated_scene_follows_the_rules_and_stops() {
    let rules = CascadeRules::default();
    let (log, end) = run(&rules, 12);
    assert!(log.len() >= 2, "{log:?}");
    assert!(
        log.iter()
            .any(|(_, t)| matches!(t.rule, TripRule::SustainedOverflow { .. })),
        "{log:?}"
    );
    assert!(
        log.iter().any(|(_, t)| t.rule == TripRule::HardOverflow),
        "{log:?}"
    );

    // Replay: the network of each round, solved on its own, shows each trip's loading.
    let mut net = meshed_overloaded();
    let mut k = 0;
    // Consecutive steps above the rating at the end of each step, per branch, recounted.
    while k < log.len() {
        let (s, round) = (log[k].0, log[k].1.round);
        let r = solve(&net);
        let mut j = k;
        while j < log.len() && log[j].0 == s && log[j].1.round == round {
            let t = log[j].1;
            let pct = r.branch_loading_pct[t.branch];
            assert!(
                (pct - t.loading_pct).abs() < 1e-6 * pct.max(1.0),
                "branch {}: {pct} vs {}",
                t.branch,
                t.loading_pct
            );
            match t.rule {
                TripRule::HardOverflow => assert!(pct > 200.0, "{t:?}"),
                TripRule::SustainedOverflow { steps } => {
                    assert!((100.0..=200.0).contains(&pct), "{t:?}");
                    assert!(steps > rules.steps_allowed);
                    // It cannot have been counted more often than the steps run so far
                    // plus the rounds of this step.
                    assert!(steps as usize <= s + round + 1, "{t:?} in step {s}");
                }
            }
            j += 1;
        }
        for (_, t) in &log[k..j] {
            net.branches[t.branch].in_service = false;
        }
        k = j;
    }

    // It stopped: the last steps trip nothing, and nothing left in is above twice its
    // rating.
    let last_step = log.last().unwrap().0;
    assert!(last_step < 11, "still tripping at step {last_step}");
    let r = solve(&end);
    for (b, br) in end.branches.iter().enumerate() {
        if br.in_service && br.rate_a_mva > 0.0 && r.bus_island[br.from].is_some() {
            assert!(r.branch_loading_pct[b] <= 200.0, "branch {b}");
        }
    }

    // The same inputs give the same cascade.
    assert_eq!(run(&rules, 12).0, log);
}
