//! Critical minimums first, then weighted Dominant Resource Fairness with demands and network
//! limits capping the shares.
//!
//! A consumer's *dominant share* is the largest fraction of any resource's capacity it holds
//! (Ghodsi et al., "Dominant Resource Fairness: Fair Allocation of Multiple Resource Types",
//! NSDI 2011). Weighted DRF equalises dominant share divided by weight, lexicographically:
//! the smallest as large as possible, then the next. With each consumer asking for a bundle
//! in fixed proportions (its demand vector, beyond its minimum), this is computed exactly by
//! progressive filling: all consumers' bundles grow together at the rate that keeps their
//! weighted dominant shares equal; a consumer stops when its demand is met, or when a
//! resource it needs (or a network limit over it) runs out. Events are processed in order,
//! so the result needs no iteration and no tolerance; the limits wait in a heap by the time
//! they run out, and each event costs only the consumers it stops and their limits:
//! O((n R + limits) log(n R + limits)).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::problem::Problem;

/// A time of the filling, ordered as `f64::total_cmp` orders it.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Time(f64);

impl Eq for Time {}

impl PartialOrd for Time {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Time {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}
use serde::Serialize;

/// A critical minimum that could not be served.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Shortfall {
    pub consumer: String,
    pub priority: u32,
    pub resource: String,
    /// Minimum asked, and how much of it was not served.
    pub minimum: f64,
    pub missing: f64,
}

/// Who gets what.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Allocation {
    /// Per consumer (problem order), per resource: the amount allocated, minimum included.
    pub amounts: Vec<Vec<f64>>,
    /// Per consumer: of its demand above its minimum, the fraction served (0 to 1).
    pub satisfied: Vec<f64>,
    /// Per consumer: its dominant share, the largest fraction of a resource's capacity it
    /// holds (minimum included).
    pub dominant_share: Vec<f64>,
    /// Per consumer: the weighted dominant share of its fair part (dominant share of what it
    /// got beyond its minimum, divided by its weight): equal for all that were cut.
    pub weighted_share: Vec<f64>,
    /// Minimums that did not fit, highest priority first.
    pub shortfalls: Vec<Shortfall>,
    /// Jain's fairness index of the weighted shares of consumers that asked for more than
    /// their minimum: 1 when equal (1 also when there are none).
    pub jain: f64,
    /// Jain's fairness index of `satisfied` over the same consumers: 1 when each got the same
    /// fraction of what it asked beyond its minimum (and when nobody is short).
    pub jain_served: f64,
}

/// Jain's fairness index (Σx)² / (n Σx²): 1 for equal values, 1/n when one holds all.
pub fn jain_index(x: &[f64]) -> f64 {
    let s: f64 = x.iter().sum();
    let s2: f64 = x.iter().map(|v| v * v).sum();
    if x.is_empty() || s2 == 0.0 {
        1.0
    } else {
        s * s / (x.len() as f64 * s2)
    }
}

/// A cap over a set of consumers on one resource: a resource's capacity (all consumers) or a
/// network limit (a group's members).
struct Cap {
    resource: usize,
    members: Option<Vec<usize>>,
    /// What is left.
    left: f64,
}

/// Each cap's draw during the filling: fixed by stopped consumers, rate per unit of the level
/// of the active ones, how many still grow, and the caps whose draw changed in this event.
struct Draws {
    fixed: Vec<f64>,
    rate: Vec<f64>,
    growing: Vec<usize>,
    is_dirty: Vec<bool>,
    dirty: Vec<usize>,
}

impl Draws {
    /// A consumer drawing `rate` per unit of the level through cap `ci` stops, holding
    /// `amount`.
    fn stop(&mut self, ci: usize, amount: f64, rate: f64) {
        self.fixed[ci] += amount;
        self.growing[ci] -= 1;
        self.rate[ci] = if self.growing[ci] == 0 {
            0.0
        } else {
            (self.rate[ci] - rate).max(0.0)
        };
        if !self.is_dirty[ci] {
            self.is_dirty[ci] = true;
            self.dirty.push(ci);
        }
    }
}

/// Allocates a validated problem (see [`Problem::validate`]).
pub fn allocate(p: &Problem) -> Allocation {
    let n = p.consumers.len();
    let r = p.resources.len();
    let index: std::collections::HashMap<&str, usize> = p
        .consumers
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id.as_str(), i))
        .collect();
    let mut caps: Vec<Cap> = (0..r)
        .map(|k| Cap {
            resource: k,
            members: None,
            left: p.capacity[k],
        })
        .collect();
    for g in &p.groups {
        let members: Vec<usize> = g
            .members
            .iter()
            .filter_map(|m| index.get(m.as_str()).copied())
            .collect();
        for (k, c) in g.cap.iter().enumerate() {
            if let Some(c) = c {
                caps.push(Cap {
                    resource: k,
                    members: Some(members.clone()),
                    left: *c,
                });
            }
        }
    }
    // Which caps each consumer draws through, per resource.
    let mut caps_of: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (ci, cap) in caps.iter().enumerate() {
        match &cap.members {
            None => (0..n).for_each(|i| caps_of[i].push(ci)),
            Some(m) => m.iter().for_each(|&i| caps_of[i].push(ci)),
        }
    }

    // 1. Critical minimums, by priority; within a priority, scaled together if they do not fit.
    let mut amounts = vec![vec![0.0; r]; n];
    let mut shortfalls = Vec::new();
    let mut order: Vec<usize> = (0..n)
        .filter(|&i| !p.consumers[i].minimum.is_empty())
        .collect();
    order.sort_by_key(|&i| std::cmp::Reverse(p.consumers[i].priority));
    for class in order.chunk_by(|&a, &b| p.consumers[a].priority == p.consumers[b].priority) {
        let mut need = vec![0.0; caps.len()];
        for &i in class {
            for &ci in &caps_of[i] {
                need[ci] += p.consumers[i].minimum[caps[ci].resource];
            }
        }
        let scale = caps
            .iter()
            .zip(&need)
            .filter(|(_, n)| **n > 0.0)
            .map(|(c, n)| (c.left.max(0.0) / n).min(1.0))
            .fold(1.0f64, f64::min);
        for &i in class {
            let c = &p.consumers[i];
            for k in 0..r {
                let got = c.minimum[k] * scale;
                amounts[i][k] = got;
                if got < c.minimum[k] {
                    shortfalls.push(Shortfall {
                        consumer: c.id.clone(),
                        priority: c.priority,
                        resource: p.resources[k].clone(),
                        minimum: c.minimum[k],
                        missing: c.minimum[k] - got,
                    });
                }
            }
            for &ci in &caps_of[i] {
                caps[ci].left -= amounts[i][caps[ci].resource];
            }
        }
    }

    // 2. The rest by weighted DRF over what each asks beyond its minimum.
    let extra: Vec<Vec<f64>> = (0..n)
        .map(|i| {
            (0..r)
                .map(|k| (p.consumers[i].demand[k] - amounts[i][k]).max(0.0))
                .collect()
        })
        .collect();
    // Dominant fraction of the whole extra bundle, relative to the full capacities.
    let sigma: Vec<f64> = extra
        .iter()
        .map(|e| {
            (0..r)
                .filter(|&k| e[k] > 0.0)
                .map(|k| {
                    if p.capacity[k] > 0.0 {
                        e[k] / p.capacity[k]
                    } else {
                        f64::INFINITY
                    }
                })
                .fold(0.0, f64::max)
        })
        .collect();
    let w: Vec<f64> = p.consumers.iter().map(|c| c.weight).collect();
    // f_i(t) = t w_i / sigma_i while active: the weighted dominant share of the fair part is t.
    let mut frac = vec![0.0f64; n];
    // Nothing more asked: done. A bundle that needs a resource of no capacity: nothing.
    let mut active: Vec<bool> = (0..n)
        .map(|i| sigma[i] > 0.0 && sigma[i].is_finite())
        .collect();
    for i in 0..n {
        if sigma[i] == 0.0 {
            frac[i] = 1.0;
        }
    }
    // Draw on each cap: fixed by stopped consumers, rate per unit t of the active ones; who
    // draws through it, and how many of them still grow. Kept up to date as consumers stop,
    // so that each event costs the consumers it stops, not all of them.
    let uses = |i: usize, ci: usize| extra[i][caps[ci].resource];
    let mut d = Draws {
        fixed: vec![0.0; caps.len()],
        rate: vec![0.0; caps.len()],
        growing: vec![0; caps.len()],
        is_dirty: vec![false; caps.len()],
        dirty: Vec::new(),
    };
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); caps.len()];
    for i in 0..n {
        for &ci in &caps_of[i] {
            let u = uses(i, ci);
            if u == 0.0 {
                continue;
            }
            members[ci].push(i);
            if active[i] {
                d.rate[ci] += w[i] * u / sigma[i];
                d.growing[ci] += 1;
            } else {
                d.fixed[ci] += frac[i] * u;
            }
        }
    }
    // When each cap runs out at the present rates, in a heap; an entry is stale once the
    // cap's draw changed since (its version moved on) or it ran out.
    let mut version = vec![0u32; caps.len()];
    let mut saturated = vec![false; caps.len()];
    let mut heap: BinaryHeap<Reverse<(Time, usize, u32)>> = BinaryHeap::new();
    let when = |ci: usize, d: &Draws| Time((caps[ci].left - d.fixed[ci]) / d.rate[ci]);
    for ci in 0..caps.len() {
        if d.rate[ci] > 0.0 {
            heap.push(Reverse((when(ci, &d), ci, 0)));
        }
    }
    // Consumers in the order their demand would be met.
    let mut finish: Vec<usize> = (0..n).filter(|&i| active[i]).collect();
    finish.sort_by(|&a, &b| {
        (sigma[a] / w[a])
            .total_cmp(&(sigma[b] / w[b]))
            .then(a.cmp(&b))
    });
    let mut next = 0;
    let mut t = 0.0f64;
    // Stops consumer `i` at fraction `f` of its bundle.
    let stop = |i: usize, f: f64, active: &mut [bool], frac: &mut [f64], d: &mut Draws| {
        active[i] = false;
        frac[i] = f;
        for &ci in &caps_of[i] {
            let u = uses(i, ci);
            if u > 0.0 {
                d.stop(ci, f * u, w[i] * u / sigma[i]);
            }
        }
    };
    loop {
        while next < finish.len() && !active[finish[next]] {
            next += 1;
        }
        let t_finish = finish.get(next).map(|&i| sigma[i] / w[i]);
        while let Some(Reverse((_, ci, v))) = heap.peek() {
            if saturated[*ci] || *v != version[*ci] {
                heap.pop();
            } else {
                break;
            }
        }
        let t_sat = heap.peek().map(|Reverse((tc, ci, _))| (tc.0.max(t), *ci));
        match (t_finish, t_sat) {
            (None, _) => break,
            (Some(tf), Some((ts, ci))) if ts < tf => {
                // A cap runs out: everyone still growing who needs it stops here.
                t = ts;
                heap.pop();
                saturated[ci] = true;
                for &i in &members[ci] {
                    if active[i] {
                        let f = (t * w[i] / sigma[i]).min(1.0);
                        stop(i, f, &mut active, &mut frac, &mut d);
                    }
                }
            }
            (Some(tf), _) => {
                // The next demand is met in full.
                t = tf;
                stop(finish[next], 1.0, &mut active, &mut frac, &mut d);
            }
        }
        // The caps whose draw changed: back in the heap at their new time.
        for ci in std::mem::take(&mut d.dirty) {
            d.is_dirty[ci] = false;
            version[ci] += 1;
            if d.rate[ci] > 0.0 && !saturated[ci] {
                heap.push(Reverse((when(ci, &d), ci, version[ci])));
            }
        }
    }
    // Consumers still growing when nothing more can happen cannot exist: every active one
    // either finishes or stops at a saturation. Apply the fractions.
    for i in 0..n {
        for k in 0..r {
            amounts[i][k] += frac[i] * extra[i][k];
        }
    }
    let dominant_share: Vec<f64> = amounts
        .iter()
        .map(|a| {
            (0..r)
                .filter(|&k| p.capacity[k] > 0.0)
                .map(|k| a[k] / p.capacity[k])
                .fold(0.0, f64::max)
        })
        .collect();
    let weighted_share: Vec<f64> = (0..n)
        .map(|i| {
            if sigma[i].is_finite() {
                frac[i] * sigma[i] / w[i]
            } else {
                0.0
            }
        })
        .collect();
    let cut: Vec<f64> = (0..n)
        .filter(|&i| sigma[i] > 0.0)
        .map(|i| weighted_share[i])
        .collect();
    let served: Vec<f64> = (0..n)
        .filter(|&i| sigma[i] > 0.0)
        .map(|i| frac[i])
        .collect();
    Allocation {
        jain_served: jain_index(&served),
        satisfied: frac,
        jain: jain_index(&cut),
        amounts,
        dominant_share,
        weighted_share,
        shortfalls,
    }
}
