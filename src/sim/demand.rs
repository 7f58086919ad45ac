//! Demand of loads and pods from their daily profiles (Environment set).

use bevy::prelude::*;
use kos_energy::variation::{LoadVariation, key_of};
use kos_scene::network::{POD_POWER_FACTOR, demand_kw};
use kos_scene::profiles::variability;
use kos_scene::{LoadSpec, PodSpec, Profile};

use super::{SimClock, SimSet};
use crate::model::{Demand, Spec};

/// The seeded variation of demand around the profiles.
#[derive(Resource, Debug, Clone)]
pub struct DemandVariation(pub LoadVariation);

pub(crate) fn follow_profiles(
    clock: Res<SimClock>,
    variation: Res<DemandVariation>,
    mut loads: Query<(&Spec<LoadSpec>, &mut Demand), Without<Spec<PodSpec>>>,
    mut pods: Query<(&Spec<PodSpec>, &mut Demand), Without<Spec<LoadSpec>>>,
) {
    let hour = clock.hour_of_day();
    let t_h = clock.elapsed_s as f64 / 3600.0;
    let wander =
        |id: &str, profile: &Profile| variation.0.factor(key_of(id), t_h, variability(profile));
    for (spec, mut d) in &mut loads {
        let (p, q) = demand_kw(spec.peak_kw, spec.power_factor, &spec.profile, hour);
        let f = wander(&spec.id, &spec.profile);
        d.p_kw = p * f;
        d.q_kvar = q * f;
    }
    for (spec, mut d) in &mut pods {
        let profile = spec.kind.profile();
        let (p, q) = demand_kw(spec.power_kw, POD_POWER_FACTOR, &profile, hour);
        let f = wander(&spec.id, &profile);
        d.p_kw = p * f;
        d.q_kvar = q * f;
    }
}

pub(super) fn plugin(app: &mut App) {
    app.add_systems(FixedUpdate, follow_profiles.in_set(SimSet::Environment));
}
