//! Shelter places: indivisible, families kept together, shared between neighbourhoods by the
//! same rule as the other resources. Families with priority (medical equipment, the frail)
//! are the critical minimum: placed first, highest priority first, then in the order they
//! registered. The rest is weighted max-min fairness over whole families (DRF with one
//! resource, places): the neighbourhood with the fewest people placed per unit of weight
//! (beyond its priority families) places its next family that fits, until no waiting family
//! fits anywhere. Each family goes into the shelter it fits most tightly, leaving larger gaps
//! for larger families; a family that fits nowhere waits, and smaller families behind it still
//! get the places left.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};

use serde::{Deserialize, Serialize};

/// A family (or a person alone) asking for places.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Family {
    pub id: String,
    /// People, placed together.
    pub people: u32,
    /// Higher first (medical equipment, the frail); 0: shared fairly.
    #[serde(default)]
    pub priority: u32,
    /// Its neighbourhood: an index into the weights given to [`place`].
    #[serde(default)]
    pub group: usize,
}

/// A shelter with its places.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shelter {
    pub id: String,
    pub places: u32,
}

/// Where each family sleeps: the shelter's index, or `None` when it fits nowhere.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Placement {
    pub shelter_of: Vec<Option<usize>>,
    /// Places left in each shelter.
    pub free: Vec<u32>,
    /// Each neighbourhood's people placed beyond its priority families, per unit of weight.
    pub share: Vec<f64>,
}

/// A neighbourhood waiting to place its next family, by its share (lowest first).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Turn {
    share: f64,
    group: usize,
}

impl Eq for Turn {}

impl Ord for Turn {
    fn cmp(&self, other: &Self) -> Ordering {
        // A max-heap: the lowest share, then the lowest group, is the greatest.
        other
            .share
            .total_cmp(&self.share)
            .then(other.group.cmp(&self.group))
    }
}

impl PartialOrd for Turn {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// The shelter `need` people fit most tightly, if any.
fn tightest(free: &[u32], need: u32) -> Option<usize> {
    (0..free.len())
        .filter(|&s| free[s] >= need)
        .min_by_key(|&s| (free[s] - need, s))
}

/// Places families whole (see the module's description). `weights[g]` is neighbourhood `g`'s
/// weight (positive and finite; a family whose group has none, or a weight that is not, counts
/// with weight 1).
pub fn place(families: &[Family], shelters: &[Shelter], weights: &[f64]) -> Placement {
    let mut free: Vec<u32> = shelters.iter().map(|s| s.places).collect();
    let mut shelter_of = vec![None; families.len()];
    let groups = families
        .iter()
        .map(|f| f.group + 1)
        .max()
        .unwrap_or(0)
        .max(weights.len());
    let weight = |g: usize| {
        weights
            .get(g)
            .copied()
            .filter(|w| w.is_finite() && *w > 0.0)
            .unwrap_or(1.0)
    };
    // The critical minimum: priority families first.
    let mut first: Vec<usize> = (0..families.len())
        .filter(|&i| families[i].priority > 0)
        .collect();
    first.sort_by_key(|&i| std::cmp::Reverse(families[i].priority));
    for i in first {
        if let Some(s) = tightest(&free, families[i].people) {
            free[s] -= families[i].people;
            shelter_of[i] = Some(s);
        }
    }
    // The rest, fairly: each neighbourhood's families in the order they registered.
    let mut queue: Vec<VecDeque<usize>> = vec![VecDeque::new(); groups];
    for (i, f) in families.iter().enumerate() {
        if f.priority == 0 && f.people > 0 {
            queue[f.group].push_back(i);
        }
    }
    let mut placed = vec![0u64; groups];
    let mut heap: BinaryHeap<Turn> = (0..groups)
        .filter(|&g| !queue[g].is_empty())
        .map(|g| Turn {
            share: 0.0,
            group: g,
        })
        .collect();
    while let Some(Turn { group: g, .. }) = heap.pop() {
        // Its next family that fits; those that fit nowhere now never will (places only
        // fill), so they wait for good.
        while let Some(i) = queue[g].pop_front() {
            if let Some(s) = tightest(&free, families[i].people) {
                free[s] -= families[i].people;
                shelter_of[i] = Some(s);
                placed[g] += u64::from(families[i].people);
                break;
            }
        }
        if !queue[g].is_empty() {
            heap.push(Turn {
                share: placed[g] as f64 / weight(g),
                group: g,
            });
        }
    }
    Placement {
        shelter_of,
        free,
        share: (0..groups).map(|g| placed[g] as f64 / weight(g)).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fam(id: &str, people: u32, priority: u32, group: usize) -> Family {
        Family {
            id: id.into(),
            people,
            priority,
            group,
        }
    }

    fn shelter(id: &str, places: u32) -> Shelter {
        Shelter {
            id: id.into(),
            places,
        }
    }

    #[test]
    fn families_stay_together_priority_first_and_tight_fits_leave_room() {
        let shelters = [shelter("hall", 6), shelter("school", 4)];
        let families = [
            fam("a", 4, 0, 0),
            fam("b", 5, 0, 0),
            fam("c", 2, 1, 0),
            fam("d", 3, 0, 0),
        ];
        let p = place(&families, &shelters, &[1.0]);
        // c (priority) first, into the school (4 - 2 leaves 2, tighter than the hall's 4);
        // then a (4) into the hall, b (5) fits nowhere now, d (3) fits nowhere either.
        assert_eq!(p.shelter_of, vec![Some(0), None, Some(1), None]);
        assert_eq!(p.free, vec![2, 2]);
        assert_eq!(p.share, vec![4.0]);
    }

    #[test]
    fn neighbourhoods_share_the_places_by_weight_not_by_who_registered_first() {
        // North registered all its families first; with 12 places and equal weights each
        // neighbourhood gets 6 people, not north 12.
        let mut families: Vec<Family> = (0..10).map(|i| fam(&format!("n{i}"), 2, 0, 0)).collect();
        families.extend((0..10).map(|i| fam(&format!("s{i}"), 2, 0, 1)));
        let p = place(&families, &[shelter("hall", 12)], &[5.0, 5.0]);
        assert_eq!(p.share, vec![6.0 / 5.0, 6.0 / 5.0]);
        // Weights 2:1 (twice the households): 8 and 4.
        let p = place(&families, &[shelter("hall", 12)], &[2.0, 1.0]);
        assert_eq!(p.share, vec![4.0, 4.0]);
        assert_eq!(p.free, vec![0]);
    }

    #[test]
    fn a_large_family_that_fits_nowhere_does_not_stop_its_neighbourhood() {
        let families = [
            fam("big", 7, 0, 0),
            fam("n1", 1, 0, 0),
            fam("s1", 3, 0, 1),
            fam("n2", 2, 0, 0),
        ];
        let p = place(&families, &[shelter("hall", 6)], &[1.0, 1.0]);
        // n1 (north 1), s1 (south 3), n2 (north 3): 6 places, big waits.
        assert_eq!(p.shelter_of, vec![None, Some(0), Some(0), Some(0)]);
        assert_eq!(p.free, vec![0]);
    }
}
