//! Weighted DRF against its published example and its four properties (Ghodsi et al., NSDI
//! 2011: sharing incentive, envy-freeness, Pareto efficiency, strategy-proofness), on
//! thousands of random problems of up to 30 consumers and 5 resources.

use kos_commons::{Consumer, Group, Problem, allocate};
use proptest::prelude::*;

const EPS: f64 = 1e-9;

fn consumer(id: &str, demand: Vec<f64>) -> Consumer {
    Consumer {
        id: id.into(),
        demand,
        weight: 1.0,
        minimum: vec![],
        priority: 0,
    }
}

fn problem(capacity: Vec<f64>, consumers: Vec<Consumer>) -> Problem {
    let resources = (0..capacity.len()).map(|k| format!("r{k}")).collect();
    Problem {
        resources,
        capacity,
        consumers,
        groups: vec![],
    }
}

#[test]
fn the_papers_example_gives_a_three_tasks_and_b_two() {
    // <9 CPU, 18 GB>; A's tasks need <1 CPU, 4 GB>, B's <3 CPU, 1 GB>; each could use 100.
    let p = problem(
        vec![9.0, 18.0],
        vec![
            consumer("A", vec![100.0, 400.0]),
            consumer("B", vec![300.0, 100.0]),
        ],
    );
    p.validate().unwrap();
    let a = allocate(&p);
    let close = |x: f64, y: f64| (x - y).abs() < 1e-9;
    assert!(
        close(a.amounts[0][0], 3.0) && close(a.amounts[0][1], 12.0),
        "{:?}",
        a.amounts
    );
    assert!(
        close(a.amounts[1][0], 6.0) && close(a.amounts[1][1], 2.0),
        "{:?}",
        a.amounts
    );
    assert!(close(a.dominant_share[0], 2.0 / 3.0) && close(a.dominant_share[1], 2.0 / 3.0));
    assert!(close(a.jain, 1.0));
}

#[test]
fn minimums_come_first_and_shortfalls_are_reported_by_priority() {
    // 10 kW. The clinic needs 4 (priority 2), the pumps 4 (priority 1), two homes ask 6 each.
    let mut clinic = consumer("clinic", vec![5.0]);
    clinic.minimum = vec![4.0];
    clinic.priority = 2;
    let mut pumps = consumer("pumps", vec![4.0]);
    pumps.minimum = vec![4.0];
    pumps.priority = 1;
    let p = problem(
        vec![10.0],
        vec![
            clinic.clone(),
            pumps.clone(),
            consumer("h1", vec![6.0]),
            consumer("h2", vec![6.0]),
        ],
    );
    let a = allocate(&p);
    assert!(a.shortfalls.is_empty());
    // 2 kW left, shared: clinic (1 more asked) and the homes equal in dominant share.
    let got: Vec<f64> = a.amounts.iter().map(|x| x[0]).collect();
    assert!((got.iter().sum::<f64>() - 10.0).abs() < EPS, "{got:?}");
    assert!(got[0] >= 4.0 && got[1] >= 4.0 - EPS);
    assert!(
        (got[2] - got[3]).abs() < EPS && (got[0] - 4.0 - got[2]).abs() < EPS,
        "{got:?}"
    );
    // 6 kW: the clinic's minimum in full, the pumps short by 2, the homes nothing.
    let p = problem(vec![6.0], vec![clinic, pumps, consumer("h1", vec![6.0])]);
    let a = allocate(&p);
    assert_eq!(a.shortfalls.len(), 1);
    assert_eq!(a.shortfalls[0].consumer, "pumps");
    assert!((a.shortfalls[0].missing - 2.0).abs() < EPS);
    assert!((a.amounts[0][0] - 4.0).abs() < EPS && a.amounts[2][0].abs() < EPS);
}

#[test]
fn a_feeders_rating_caps_its_households_together() {
    // 30 kW for four homes asking 10 each; homes 1 and 2 share a feeder rated 8 kW.
    let homes: Vec<Consumer> = (1..=4)
        .map(|i| consumer(&format!("h{i}"), vec![10.0]))
        .collect();
    let mut p = problem(vec![30.0], homes);
    p.groups.push(Group {
        id: "feeder-a".into(),
        members: vec!["h1".into(), "h2".into()],
        cap: vec![Some(8.0)],
    });
    p.validate().unwrap();
    let a = allocate(&p);
    let got: Vec<f64> = a.amounts.iter().map(|x| x[0]).collect();
    assert!(
        (got[0] - 4.0).abs() < EPS && (got[1] - 4.0).abs() < EPS,
        "{got:?}"
    );
    // The other two share the rest: 11 each would exceed their 10; they get 10.
    assert!(
        (got[2] - 10.0).abs() < EPS && (got[3] - 10.0).abs() < EPS,
        "{got:?}"
    );
}

/// What a consumer gets out of a bundle: the fraction of its demand it can serve.
fn utility(demand: &[f64], bundle: &[f64]) -> f64 {
    demand
        .iter()
        .zip(bundle)
        .filter(|(d, _)| **d > 0.0)
        .map(|(d, b)| b / d)
        .fold(1.0, f64::min)
}

fn random_problem() -> impl Strategy<Value = Problem> {
    (1usize..=5, 1usize..=30).prop_flat_map(|(r, n)| {
        (
            prop::collection::vec(1.0f64..100.0, r),
            prop::collection::vec(
                (
                    prop::collection::vec(prop_oneof![Just(0.0), 0.1f64..80.0], r),
                    0.2f64..5.0,
                ),
                n,
            ),
        )
            .prop_map(|(capacity, cs)| {
                let consumers = cs
                    .into_iter()
                    .enumerate()
                    .map(|(i, (demand, weight))| Consumer {
                        weight,
                        ..consumer(&format!("c{i}"), demand)
                    })
                    .collect();
                problem(capacity, consumers)
            })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn drf_has_its_four_properties(p in random_problem(), liar in any::<prop::sample::Index>(), lie in prop::collection::vec(0.2f64..3.0, 5)) {
        let a = allocate(&p);
        let n = p.consumers.len();
        let r = p.resources.len();
        let total_w: f64 = p.consumers.iter().map(|c| c.weight).sum();
        let used: Vec<f64> = (0..r).map(|k| a.amounts.iter().map(|x| x[k]).sum()).collect();
        for k in 0..r {
            prop_assert!(used[k] <= p.capacity[k] * (1.0 + 1e-9) + EPS, "resource {k} over capacity");
        }
        for i in 0..n {
            let c = &p.consumers[i];
            let u = utility(&c.demand, &a.amounts[i]);
            prop_assert!(a.amounts[i].iter().zip(&c.demand).all(|(x, d)| *x <= d + EPS), "over demand");
            // Sharing incentive: at least what its weighted slice of every resource gives.
            let slice: Vec<f64> = p.capacity.iter().map(|cap| cap * c.weight / total_w).collect();
            prop_assert!(u >= utility(&c.demand, &slice).min(1.0) - 1e-7, "sharing incentive of {i}: {u}");
            // Envy-freeness: no other's bundle, scaled to its weight, serves more of its demand.
            if u < 1.0 - 1e-9 {
                for j in 0..n {
                    let scaled: Vec<f64> = a.amounts[j].iter().map(|x| x * c.weight / p.consumers[j].weight).collect();
                    prop_assert!(utility(&c.demand, &scaled) <= u + 1e-7, "{i} envies {j}");
                }
                // Pareto efficiency: something it needs has run out.
                prop_assert!(
                    (0..r).any(|k| c.demand[k] > 0.0 && used[k] >= p.capacity[k] * (1.0 - 1e-9) - EPS),
                    "{i} could grow"
                );
            }
        }
        // Strategy-proofness: a consumer asking for another bundle is served no more of its
        // true demand.
        let i = liar.index(n);
        let mut q = p.clone();
        for (k, d) in q.consumers[i].demand.iter_mut().enumerate() {
            *d *= lie[k];
        }
        let b = allocate(&q);
        let honest = utility(&p.consumers[i].demand, &a.amounts[i]);
        let lying = utility(&p.consumers[i].demand, &b.amounts[i]);
        prop_assert!(lying <= honest + 1e-7, "{i} gains by lying: {honest} -> {lying}");
    }

    #[test]
    fn minimums_that_fit_are_always_met(p in random_problem(), fractions in prop::collection::vec(0.0f64..1.0, 30)) {
        let mut p = p;
        let r = p.resources.len();
        let n = p.consumers.len() as f64;
        for (i, c) in p.consumers.iter_mut().enumerate() {
            // Minimums that fit together: each at most capacity / n, and at most the demand.
            c.minimum = (0..r).map(|k| (fractions[i] * p.capacity[k] / n).min(c.demand[k])).collect();
            c.priority = (i % 3) as u32;
        }
        p.validate().unwrap();
        let a = allocate(&p);
        prop_assert!(a.shortfalls.is_empty());
        for (i, c) in p.consumers.iter().enumerate() {
            for k in 0..r {
                prop_assert!(a.amounts[i][k] >= c.minimum[k] - EPS);
            }
        }
    }
}
