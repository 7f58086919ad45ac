//! Cascading overloads by Grid2Op's rules (`grid2op/Parameters.py`, the loop of
//! `Backend.next_grid_state`):
//!
//! - a branch loaded above `hard_overflow_ratio` times its rating trips at once;
//! - a branch at or above its rating for more than `steps_allowed` consecutive steps trips;
//! - a tripped branch may not be reconnected for `cooldown_steps` steps.
//!
//! Within one step the flow is solved again after every round of trips, each round counting
//! one more step of overflow for the branches still above their rating, until a round trips
//! nothing or an island's power flow collapses. The caller's `settle` solves the network
//! after its fail-safe layer (redispatch, curtailment, shedding by priority) has acted, so
//! that a cascade is prevented where relief can prevent it. Defaults are Grid2Op's:
//! `NB_TIMESTEP_OVERFLOW_ALLOWED` 2, `HARD_OVERFLOW_THRESHOLD` 2.0, `NB_TIMESTEP_RECONNECTION`
//! 10. Loading is the branch's apparent power over its rating (`rate_a_mva`); a branch with
//! no rating never trips.

use kos_grid::{IslandStatus, Network, PowerFlowResult};
use serde::{Deserialize, Serialize};

/// The rules, Grid2Op's defaults.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CascadeRules {
    /// A branch trips at once above this multiple of its rating (2.0).
    pub hard_overflow_ratio: f64,
    /// A branch at or above its rating for more than this many consecutive steps trips (2).
    pub steps_allowed: u32,
    /// Steps a tripped branch stays out before it may be reconnected (10).
    pub cooldown_steps: u32,
}

impl Default for CascadeRules {
    fn default() -> Self {
        Self {
            hard_overflow_ratio: 2.0,
            steps_allowed: 2,
            cooldown_steps: 10,
        }
    }
}

/// Why a branch tripped.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TripRule {
    /// Above the hard overflow ratio.
    HardOverflow,
    /// Above its rating for more steps than allowed (the count reached).
    SustainedOverflow {
        /// Consecutive steps above the rating, this one included.
        steps: u32,
    },
}

/// One trip of a cascade.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CascadeTrip {
    /// Branch index.
    pub branch: usize,
    /// Round of the step's cascade, from 0 (0: tripped on the step's first solution).
    pub round: usize,
    /// Its loading when it tripped, % of rating.
    pub loading_pct: f64,
    /// The rule that tripped it.
    pub rule: TripRule,
}

/// What one step's cascade did.
#[derive(Debug, Clone, Default)]
pub struct CascadeOutcome {
    /// Trips in order.
    pub trips: Vec<CascadeTrip>,
    /// Islands whose power flow did not converge after the last round (index into the last
    /// solution's islands): they collapsed.
    pub collapsed: Vec<usize>,
    /// The last solution (after the last round's trips), if one was made.
    pub last: Option<PowerFlowResult>,
}

/// Overflow counts and reconnection cooldowns kept from step to step, per branch.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CascadeState {
    /// Consecutive steps each branch ended at or above its rating.
    pub overflow_steps: Vec<u32>,
    /// Steps before each branch may be reconnected (0: free).
    pub cooldown: Vec<u32>,
}

impl CascadeState {
    /// A state for `n` branches, nothing counted.
    pub fn new(n: usize) -> Self {
        Self {
            overflow_steps: vec![0; n],
            cooldown: vec![0; n],
        }
    }

    /// Whether branch `k` may be reconnected now.
    pub fn may_reconnect(&self, k: usize) -> bool {
        self.cooldown.get(k).is_none_or(|&c| c == 0)
    }

    fn fit(&mut self, n: usize) {
        self.overflow_steps.resize(n, 0);
        self.cooldown.resize(n, 0);
    }
}

/// Whether branch `k` is above its rating (`ratio` 1) or a multiple of it in `r`.
fn loading(net: &Network, r: &PowerFlowResult, k: usize) -> Option<f64> {
    let b = &net.branches[k];
    if !b.in_service || b.rate_a_mva <= 0.0 {
        return None;
    }
    let live = r
        .bus_island
        .get(b.from)
        .copied()
        .flatten()
        .is_some_and(|i| {
            r.islands
                .get(i)
                .is_some_and(|i| i.status == IslandStatus::Solved)
        });
    live.then(|| r.branch_loading_pct.get(k).copied().unwrap_or(0.0))
}

/// Islands of `r` whose power flow did not converge.
fn collapsed(r: &PowerFlowResult) -> Vec<usize> {
    r.islands
        .iter()
        .filter(|i| i.status == IslandStatus::NotConverged)
        .map(|i| i.id)
        .collect()
}

/// Runs one step's cascade on `net`, whose solution after the fail-safe layer is `first`.
/// `settle` solves `net` again after a round of trips (its relief may change demands and
/// setpoints in it) and returns `None` when the solution failed altogether. Tripped branches
/// are left out of service in `net`; `state` carries the counts to the next step.
pub fn step(
    net: &mut Network,
    first: PowerFlowResult,
    state: &mut CascadeState,
    rules: &CascadeRules,
    mut settle: impl FnMut(&mut Network) -> Option<PowerFlowResult>,
) -> CascadeOutcome {
    let n = net.branches.len();
    state.fit(n);
    for c in &mut state.cooldown {
        *c = c.saturating_sub(1);
    }
    // Grid2Op counts within the step on a copy of the kept counts.
    let mut counts = state.overflow_steps.clone();
    let mut out = CascadeOutcome::default();
    let mut r = first;
    for round in 0.. {
        let mut trips = Vec::new();
        for (k, count) in counts.iter_mut().enumerate() {
            let Some(pct) = loading(net, &r, k) else {
                continue;
            };
            if pct > 100.0 * rules.hard_overflow_ratio {
                trips.push(CascadeTrip {
                    branch: k,
                    round,
                    loading_pct: pct,
                    rule: TripRule::HardOverflow,
                });
                continue;
            }
            if pct >= 100.0 {
                *count += 1;
                if *count > rules.steps_allowed {
                    trips.push(CascadeTrip {
                        branch: k,
                        round,
                        loading_pct: pct,
                        rule: TripRule::SustainedOverflow { steps: *count },
                    });
                }
            }
        }
        if trips.is_empty() {
            break;
        }
        for t in &trips {
            net.branches[t.branch].in_service = false;
            state.cooldown[t.branch] = rules.cooldown_steps;
        }
        out.trips.extend(trips);
        match settle(net) {
            Some(next) => r = next,
            None => {
                out.last = None;
                return out;
            }
        }
        out.collapsed = collapsed(&r);
        if !out.collapsed.is_empty() {
            break;
        }
    }
    // The kept counts follow the step's final flows: up by one where still above the
    // rating, back to zero elsewhere.
    for (k, count) in state.overflow_steps.iter_mut().enumerate() {
        *count = match loading(net, &r, k) {
            Some(pct) if pct >= 100.0 => *count + 1,
            _ => 0,
        };
    }
    out.last = Some(r);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use kos_grid::{Bus, BusKind, Generator, PowerFlow, PowerFlowOptions};

    /// A source and a load joined by three parallel lines of different impedance; the load
    /// is `mw`. Ratings are set so that the weakest path carries most.
    fn parallel(mw: f64) -> Network {
        let mut net = Network::new("parallel", 10.0);
        net.buses.push(Bus::new("src", BusKind::Slack, 11.0));
        let mut load = Bus::new("load", BusKind::Pq, 11.0);
        load.pd_mw = mw;
        net.buses.push(load);
        net.generators.push(Generator::new(0, 0.0, 1.0));
        for (x, rate) in [(0.01, 1.0), (0.02, 1.0), (0.04, 1.0)] {
            let mut l = kos_grid::Branch::line(0, 1, x / 4.0, x, 0.0);
            l.rate_a_mva = rate;
            net.branches.push(l);
        }
        net
    }

    fn solve(net: &Network) -> Option<PowerFlowResult> {
        PowerFlow::new()
            .solve(net, &PowerFlowOptions::default())
            .ok()
    }

    /// 2.1 MW over three lines of 1 MVA with impedances 1:2:4 share the flow 4:2:1:
    /// 1.2, 0.6, 0.3 MW. Line 0 is soft-overloaded (120 %): it trips only on the third step.
    /// Then 2.1 MW shares 2:1 over lines 1 and 2 (1.4 and 0.7 MW): line 1 above its rating,
    /// counted from that step on, trips three steps later; line 2 is then alone with 2.1 MW,
    /// above twice its rating, and trips in the same step's next round. The load is dark.
    #[test]
    fn soft_then_hard_overflow_trip_in_the_order_the_rules_give() {
        let mut net = parallel(2.1);
        let rules = CascadeRules::default();
        let mut state = CascadeState::new(3);
        let mut log: Vec<(usize, CascadeTrip)> = Vec::new();
        for s in 0..8 {
            let first = solve(&net).unwrap();
            let out = step(&mut net, first, &mut state, &rules, |n| solve(n));
            log.extend(out.trips.iter().map(|t| (s, *t)));
        }
        let summary: Vec<(usize, usize, usize, TripRule)> = log
            .iter()
            .map(|(s, t)| (*s, t.branch, t.round, t.rule))
            .collect();
        assert_eq!(
            summary,
            vec![
                (2, 0, 0, TripRule::SustainedOverflow { steps: 3 }),
                // Line 1 was counted once in step 2's second round, so its third step is 4.
                (4, 1, 0, TripRule::SustainedOverflow { steps: 3 }),
                (4, 2, 1, TripRule::HardOverflow),
            ],
            "{log:#?}"
        );
        assert!((log[0].1.loading_pct - 120.0).abs() < 2.0, "{log:?}");
        assert!((log[1].1.loading_pct - 140.0).abs() < 3.0, "{log:?}");
        assert!(log[2].1.loading_pct > 200.0);
        assert!(state.cooldown.iter().all(|&c| c > 0));
        assert!(!state.may_reconnect(2));
    }

    /// Above twice its rating a branch trips in the first round of the first step; the
    /// cooldown runs down one per step.
    #[test]
    fn a_hard_overflow_trips_at_once_and_cools_down() {
        let mut net = parallel(4.5);
        let rules = CascadeRules {
            cooldown_steps: 3,
            ..CascadeRules::default()
        };
        let mut state = CascadeState::new(3);
        let first = solve(&net).unwrap();
        let out = step(&mut net, first, &mut state, &rules, |n| solve(n));
        // 4.5 MW shares 4:2:1: line 0 at 2.57 MVA trips at once; then 3.0 and 1.5 over lines
        // 1 and 2: line 1 above 2x trips in round 1, and line 2 with all of it in round 2.
        let rounds: Vec<(usize, usize)> = out.trips.iter().map(|t| (t.branch, t.round)).collect();
        assert_eq!(rounds, vec![(0, 0), (1, 1), (2, 2)]);
        assert!(out.trips.iter().all(|t| t.rule == TripRule::HardOverflow));
        assert_eq!(state.cooldown, vec![3, 3, 3]);
        for _ in 0..3 {
            let first = solve(&net).unwrap();
            step(&mut net, first, &mut state, &rules, |n| solve(n));
        }
        assert!(state.may_reconnect(0));
    }

    /// Within its rating nothing trips and nothing is counted; a flow brought back below the
    /// rating resets the count.
    #[test]
    fn no_overload_no_trip_and_counts_reset() {
        let rules = CascadeRules::default();
        let mut net = parallel(1.0);
        let mut state = CascadeState::new(3);
        let first = solve(&net).unwrap();
        let out = step(&mut net, first, &mut state, &rules, |n| solve(n));
        assert!(out.trips.is_empty());
        assert_eq!(state.overflow_steps, vec![0, 0, 0]);

        let mut hot = parallel(2.1);
        let first = solve(&hot).unwrap();
        step(&mut hot, first, &mut state, &rules, |n| solve(n));
        assert_eq!(state.overflow_steps, vec![1, 0, 0]);
        let mut cool = parallel(1.0);
        let first = solve(&cool).unwrap();
        step(&mut cool, first, &mut state, &rules, |n| solve(n));
        assert_eq!(state.overflow_steps, vec![0, 0, 0]);
    }

    /// The fail-safe layer acts first: relief that brings the flow down after the first
    /// trip saves the rest.
    #[test]
    fn relief_after_a_trip_stops_the_cascade() {
        let rules = CascadeRules::default();
        let mut net = parallel(4.5);
        let mut state = CascadeState::new(3);
        let first = solve(&net).unwrap();
        let out = step(&mut net, first, &mut state, &rules, |n| {
            // Shed to what the two remaining lines carry.
            n.buses[1].pd_mw = 1.2;
            solve(n)
        });
        assert_eq!(out.trips.len(), 1, "{:?}", out.trips);
        assert_eq!(out.trips[0].branch, 0);
        assert!(out.collapsed.is_empty());
    }
}
