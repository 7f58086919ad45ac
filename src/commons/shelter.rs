//! Shelter places while a mode sends households to the shelters (a storm): the share of each
//! load's households its rule names, chosen by the seed, each a family of the load's
//! household size (whole people, the size on average), those with medical equipment first.
//! Places are indivisible, families are placed whole, and the neighbourhoods share the places
//! by their weights (their loads' commons weights, households by default) as they share the
//! other resources (kos-commons' `shelter::place`).

use bevy::prelude::*;
use kos_commons::shelter::{Family, Shelter, place};
use kos_scene::{LoadSpec, ModeRule, PodKind, PodSpec};
use serde::Serialize;

use super::{CommonsSettings, CommonsState, Member, unit_hash};
use crate::model::*;
use crate::protection::Protection;
use crate::sim::SimClock;

/// One shelter's places.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShelterUse {
    /// Pod id.
    pub id: String,
    /// Places.
    pub places: u32,
    /// Places taken.
    pub taken: u32,
}

/// One neighbourhood's families in the shelters.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NeighbourhoodPlaces {
    /// Its name (empty: loads on buses of no neighbourhood).
    pub name: String,
    /// Its weight in the fair share.
    pub weight: f64,
    /// People asking.
    pub people: u32,
    /// People placed.
    pub placed_people: u32,
    /// People placed beyond the medical families, per unit of weight (the fair share).
    pub share: f64,
}

/// Who sleeps where.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShelterOutcome {
    /// Share of households the modes on send to the shelters.
    pub households_share: f64,
    /// Families asking, and their people.
    pub families: usize,
    pub people: u32,
    /// Families placed (whole), and their people.
    pub placed_families: usize,
    pub placed_people: u32,
    /// Families waiting for a place, and their people.
    pub waiting_families: usize,
    pub waiting_people: u32,
    /// Families with medical equipment still waiting.
    pub medical_waiting: usize,
    /// Each shelter.
    pub shelters: Vec<ShelterUse>,
    /// Each neighbourhood's people asking and placed.
    pub neighbourhoods: Vec<NeighbourhoodPlaces>,
    /// Family id and shelter id of every placed family.
    #[serde(skip)]
    pub placement: Vec<(String, Option<String>)>,
}

impl ShelterOutcome {
    /// The same without each family's place.
    pub fn summary(&self) -> Self {
        Self {
            households_share: self.households_share,
            families: self.families,
            people: self.people,
            placed_families: self.placed_families,
            placed_people: self.placed_people,
            waiting_families: self.waiting_families,
            waiting_people: self.waiting_people,
            medical_waiting: self.medical_waiting,
            shelters: self.shelters.clone(),
            neighbourhoods: self.neighbourhoods.clone(),
            placement: Vec::new(),
        }
    }
}

/// The families of the loads that seek shelter when `share` of households do; each load is
/// given with its neighbourhood's index.
pub fn families(
    loads: &[(&LoadSpec, usize)],
    share: f64,
    default_size: f64,
    seed: u64,
) -> Vec<Family> {
    let mut out = Vec::new();
    for &(l, group) in loads {
        let size = l.commons.household_size.unwrap_or(default_size);
        for h in 0..l.households {
            if unit_hash(seed, &l.id, u64::from(h)) >= share {
                continue;
            }
            let whole = size.floor();
            let extra = unit_hash(seed, &l.id, 1_000_000 + u64::from(h)) < size - whole;
            out.push(Family {
                id: format!("{}/{h}", l.id),
                people: ((whole as u32) + u32::from(extra)).max(1),
                priority: u32::from(h < l.commons.medical),
                group,
            });
        }
    }
    out
}

#[allow(clippy::type_complexity, clippy::too_many_arguments)]
pub(super) fn allocate_shelter(
    clock: Res<SimClock>,
    settings: Res<CommonsSettings>,
    modes: Option<Res<SceneModes>>,
    protection: Option<Res<Protection>>,
    loads: Query<(&Spec<LoadSpec>, &Neighbourhood)>,
    pods: Query<&Spec<PodSpec>>,
    mut state: ResMut<CommonsState>,
    mut last: Local<Option<(f64, Vec<(String, u32)>)>>,
) {
    let on = protection.map(|p| p.modes_on.clone()).unwrap_or_default();
    let share = modes
        .iter()
        .flat_map(|m| m.0.iter())
        .filter(|m| on.contains(&m.id))
        .flat_map(|m| m.rules.iter())
        .filter_map(|r| match r {
            ModeRule::Shelter { households } => Some(*households),
            _ => None,
        })
        .fold(0.0f64, f64::max);
    if share <= 0.0 {
        state.shelter = None;
        *last = None;
        return;
    }
    let mut shelters: Vec<Shelter> = pods
        .iter()
        .filter(|p| p.kind == PodKind::Shelter)
        .map(|p| Shelter {
            id: p.id.clone(),
            places: p.places.unwrap_or(p.occupants),
        })
        .collect();
    shelters.sort_by(|a, b| a.id.cmp(&b.id));
    let key = (
        share,
        shelters.iter().map(|s| (s.id.clone(), s.places)).collect(),
    );
    if last.as_ref() == Some(&key) && state.shelter.is_some() {
        return;
    }
    // Neighbourhoods by name, each weighted by its loads' weights.
    let mut hoods: Vec<(String, f64)> = Vec::new();
    let mut list: Vec<(&LoadSpec, usize)> = Vec::new();
    let mut sorted: Vec<_> = loads.iter().collect();
    sorted.sort_by(|a, b| (&a.1.0, &a.0.id).cmp(&(&b.1.0, &b.0.id)));
    for (l, hood) in sorted {
        if hoods.last().is_none_or(|h| h.0 != hood.0) {
            hoods.push((hood.0.clone(), 0.0));
        }
        let g = hoods.len() - 1;
        if let Some(m) = Member::of(Some(&l.0), None, &settings) {
            hoods[g].1 += m.weight;
        }
        list.push((&l.0, g));
    }
    let weights: Vec<f64> = hoods.iter().map(|h| h.1).collect();
    let fam = families(&list, share, settings.household_size, clock.seed);
    let p = place(&fam, &shelters, &weights);
    let placed = |i: usize| p.shelter_of[i].is_some();
    let people = |f: &dyn Fn(usize) -> bool| -> u32 {
        (0..fam.len())
            .filter(|&i| f(i))
            .map(|i| fam[i].people)
            .sum()
    };
    state.shelter = Some(ShelterOutcome {
        households_share: share,
        families: fam.len(),
        people: people(&|_| true),
        placed_families: (0..fam.len()).filter(|&i| placed(i)).count(),
        placed_people: people(&placed),
        waiting_families: (0..fam.len()).filter(|&i| !placed(i)).count(),
        waiting_people: people(&|i| !placed(i)),
        medical_waiting: (0..fam.len())
            .filter(|&i| !placed(i) && fam[i].priority > 0)
            .count(),
        shelters: shelters
            .iter()
            .zip(&p.free)
            .map(|(s, free)| ShelterUse {
                id: s.id.clone(),
                places: s.places,
                taken: s.places - free,
            })
            .collect(),
        neighbourhoods: hoods
            .iter()
            .enumerate()
            .map(|(g, (name, weight))| NeighbourhoodPlaces {
                name: name.clone(),
                weight: *weight,
                people: people(&|i| fam[i].group == g),
                placed_people: people(&|i| fam[i].group == g && placed(i)),
                share: p.share[g],
            })
            .collect(),
        placement: fam
            .iter()
            .zip(&p.shelter_of)
            .map(|(f, s)| (f.id.clone(), s.map(|s| shelters[s].id.clone())))
            .collect(),
    });
    *last = Some(key);
}
