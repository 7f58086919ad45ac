//! Demand of loads and pods from their daily profiles (Environment set).

use bevy::prelude::*;
use kos_scene::network::{POD_POWER_FACTOR, demand_kw};
use kos_scene::{LoadSpec, PodSpec};

use super::{SimClock, SimSet};
use crate::model::{Demand, Spec};

fn follow_profiles(
    clock: Res<SimClock>,
    mut loads: Query<(&Spec<LoadSpec>, &mut Demand), Without<Spec<PodSpec>>>,
    mut pods: Query<(&Spec<PodSpec>, &mut Demand), Without<Spec<LoadSpec>>>,
) {
    let hour = clock.hour_of_day();
    for (spec, mut d) in &mut loads {
        let (p, q) = demand_kw(spec.peak_kw, spec.power_factor, &spec.profile, hour);
        d.p_kw = p;
        d.q_kvar = q;
    }
    for (spec, mut d) in &mut pods {
        let (p, q) = demand_kw(spec.power_kw, POD_POWER_FACTOR, &spec.kind.profile(), hour);
        d.p_kw = p;
        d.q_kvar = q;
    }
}

pub(super) fn plugin(app: &mut App) {
    app.add_systems(FixedUpdate, follow_profiles.in_set(SimSet::Environment));
}
