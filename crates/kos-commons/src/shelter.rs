//! Shelter places: indivisible, and families kept together. Families are placed whole, by
//! priority (medical needs first), then in the order they registered, each into the shelter
//! it fits most tightly (leaving larger gaps for larger families); a family that fits nowhere
//! waits, and smaller families behind it still get the places left.

use serde::{Deserialize, Serialize};

/// A family (or a person alone) asking for places.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Family {
    pub id: String,
    /// People, placed together.
    pub people: u32,
    /// Higher first (medical equipment, the frail).
    #[serde(default)]
    pub priority: u32,
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
}

/// Places families whole (see the module's description).
pub fn place(families: &[Family], shelters: &[Shelter]) -> Placement {
    let mut free: Vec<u32> = shelters.iter().map(|s| s.places).collect();
    let mut order: Vec<usize> = (0..families.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(families[i].priority));
    let mut shelter_of = vec![None; families.len()];
    for i in order {
        let need = families[i].people;
        if need == 0 {
            continue;
        }
        let best = (0..free.len())
            .filter(|&s| free[s] >= need)
            .min_by_key(|&s| (free[s] - need, s));
        if let Some(s) = best {
            free[s] -= need;
            shelter_of[i] = Some(s);
        }
    }
    Placement { shelter_of, free }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fam(id: &str, people: u32, priority: u32) -> Family {
        Family {
            id: id.into(),
            people,
            priority,
        }
    }

    #[test]
    fn families_stay_together_priority_first_and_tight_fits_leave_room() {
        let shelters = [
            Shelter {
                id: "hall".into(),
                places: 6,
            },
            Shelter {
                id: "school".into(),
                places: 4,
            },
        ];
        let families = [
            fam("a", 4, 0),
            fam("b", 5, 0),
            fam("c", 2, 1),
            fam("d", 3, 0),
        ];
        let p = place(&families, &shelters);
        // c (priority) first, into the school (4 - 2 leaves 2, tighter than the hall's 4);
        // then a (4) into the hall, b (5) fits nowhere now, d (3) fits nowhere either.
        assert_eq!(p.shelter_of, vec![Some(0), None, Some(1), None]);
        assert_eq!(p.free, vec![2, 2]);
    }
}
