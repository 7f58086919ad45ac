//! Shelter places on thousands of random instances: families whole, shelters never
//! overfilled, priority families never kept out by others, no family left waiting that fits
//! in the places left (Pareto), the same placement as a plain quadratic reading of the rule,
//! and, with families of one, weighted max-min up to one person (envy-free up to one family).

use kos_commons::shelter::{Family, Placement, Shelter, place};
use proptest::prelude::*;

fn instance() -> impl Strategy<Value = (Vec<Family>, Vec<Shelter>, Vec<f64>)> {
    (1usize..6, 0usize..5).prop_flat_map(|(groups, shelters)| {
        (
            prop::collection::vec((1u32..8, 0u32..3, 0..groups, 0u32..4), 0..60),
            prop::collection::vec(0u32..40, shelters),
            prop::collection::vec(0.5f64..5.0, groups),
        )
            .prop_map(|(fams, places, weights)| {
                let families = fams
                    .into_iter()
                    .enumerate()
                    .map(|(i, (people, p, group, _))| Family {
                        id: format!("f{i}"),
                        people,
                        // One family in four with priority.
                        priority: u32::from(p == 0 && i % 4 == 0),
                        group,
                    })
                    .collect();
                let shelters = places
                    .into_iter()
                    .enumerate()
                    .map(|(s, places)| Shelter {
                        id: format!("s{s}"),
                        places,
                    })
                    .collect();
                (families, shelters, weights)
            })
    })
}

/// The rule read plainly: priority families first, then, as long as some waiting family fits
/// somewhere, the fitting family of the neighbourhood with the lowest share (then the lowest
/// neighbourhood, then the first registered), into its tightest shelter.
fn plain(families: &[Family], shelters: &[Shelter], weights: &[f64]) -> Vec<Option<usize>> {
    let mut free: Vec<u32> = shelters.iter().map(|s| s.places).collect();
    let mut of = vec![None; families.len()];
    let tightest = |free: &[u32], need: u32| {
        (0..free.len())
            .filter(|&s| free[s] >= need)
            .min_by_key(|&s| (free[s] - need, s))
    };
    let mut first: Vec<usize> = (0..families.len())
        .filter(|&i| families[i].priority > 0)
        .collect();
    first.sort_by_key(|&i| std::cmp::Reverse(families[i].priority));
    for i in first {
        if let Some(s) = tightest(&free, families[i].people) {
            free[s] -= families[i].people;
            of[i] = Some(s);
        }
    }
    let mut placed = vec![0u32; weights.len()];
    loop {
        let next = (0..families.len())
            .filter(|&i| {
                of[i].is_none()
                    && families[i].priority == 0
                    && tightest(&free, families[i].people).is_some()
            })
            .min_by(|&i, &j| {
                let (gi, gj) = (families[i].group, families[j].group);
                let si = placed[gi] as f64 / weights[gi];
                let sj = placed[gj] as f64 / weights[gj];
                si.total_cmp(&sj).then(gi.cmp(&gj)).then(i.cmp(&j))
            });
        let Some(i) = next else { break };
        let s = tightest(&free, families[i].people).unwrap();
        free[s] -= families[i].people;
        of[i] = Some(s);
        placed[families[i].group] += families[i].people;
    }
    of
}

fn check(families: &[Family], shelters: &[Shelter], p: &Placement) -> Result<(), TestCaseError> {
    // Never overfilled, and the free places add up.
    let mut taken = vec![0u32; shelters.len()];
    for (f, s) in families.iter().zip(&p.shelter_of) {
        if let Some(s) = s {
            taken[*s] += f.people;
        }
    }
    for (s, sh) in shelters.iter().enumerate() {
        prop_assert!(taken[s] <= sh.places);
        prop_assert_eq!(p.free[s], sh.places - taken[s]);
    }
    // Pareto: no waiting family fits in the places left.
    let most = p.free.iter().copied().max().unwrap_or(0);
    for (f, s) in families.iter().zip(&p.shelter_of) {
        if s.is_none() {
            prop_assert!(f.people > most, "{} waits but fits", f.id);
        }
    }
    // A waiting priority family did not fit even in what the priority families left.
    let mut left: Vec<u32> = shelters.iter().map(|s| s.places).collect();
    for (f, s) in families.iter().zip(&p.shelter_of) {
        if let (Some(s), true) = (s, f.priority > 0) {
            left[*s] -= f.people;
        }
    }
    let most = left.iter().copied().max().unwrap_or(0);
    for (f, s) in families.iter().zip(&p.shelter_of) {
        if s.is_none() && f.priority > 0 {
            prop_assert!(f.people > most, "priority family {} kept out", f.id);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn placements_are_whole_fair_and_as_the_rule_reads((families, shelters, weights) in instance()) {
        let p = place(&families, &shelters, &weights);
        check(&families, &shelters, &p)?;
        prop_assert_eq!(&p.shelter_of, &plain(&families, &shelters, &weights));
    }

    #[test]
    fn single_people_share_by_weight_to_within_one((mut families, shelters, weights) in instance()) {
        for f in &mut families {
            f.people = 1;
            f.priority = 0;
        }
        let p = place(&families, &shelters, &weights);
        check(&families, &shelters, &p)?;
        let groups = weights.len();
        let mut placed = vec![0u32; groups];
        let mut waits = vec![false; groups];
        for (f, s) in families.iter().zip(&p.shelter_of) {
            match s {
                Some(_) => placed[f.group] += 1,
                None => waits[f.group] = true,
            }
        }
        // Nobody envies another neighbourhood beyond its last person: a neighbourhood with
        // someone waiting has at least the share another had before its last placement.
        for a in 0..groups {
            for b in 0..groups {
                if placed[a] > 0 && waits[b] {
                    prop_assert!(
                        (placed[a] - 1) as f64 / weights[a] <= placed[b] as f64 / weights[b] + 1e-12,
                        "{a}: {} of weight {}, {b}: {} of weight {}",
                        placed[a], weights[a], placed[b], weights[b]
                    );
                }
            }
        }
    }
}
