//! The community mesh's bandwidth: its capacity while the data centre (the mesh's core) runs,
//! what the nodes' own batteries keep when it is dark. Households ask their rate, pods theirs;
//! critical pods keep a fifth for emergency communications.

use bevy::prelude::*;
use kos_commons::{Consumer, Problem, allocate};
use kos_scene::{LoadSpec, PodKind, PodSpec};

use super::{CommonsSettings, CommonsState, Member, Outcome, Share, bind};
use crate::model::*;

#[allow(clippy::type_complexity)]
pub(super) fn allocate_mesh(
    settings: Res<CommonsSettings>,
    mut state: ResMut<CommonsState>,
    mut consumers: Query<(
        Entity,
        &AssetTag,
        &Demand,
        Option<&Spec<LoadSpec>>,
        Option<&Spec<PodSpec>>,
        Option<&mut Share>,
    )>,
    mut commands: Commands,
) {
    let s = &settings.0;
    let mut list: Vec<_> = consumers.iter().collect();
    list.sort_by(|a, b| a.1.cmp(b.1));
    let core_up = list.iter().any(|(_, _, d, _, pod, _)| {
        pod.is_some_and(|p| p.kind == PodKind::DataCentre) && d.served && d.fraction > 0.5
    });
    let capacity = if core_up {
        s.mesh_mbps
    } else {
        s.mesh_backup_mbps
    };
    let mut problem = Problem {
        resources: vec!["mesh_mbps".into()],
        capacity: vec![capacity],
        consumers: Vec::new(),
        groups: Vec::new(),
    };
    let mut entities = Vec::new();
    for (e, _, d, load, pod, _) in &list {
        if pod.is_some_and(|p| p.kind == PodKind::DataCentre) {
            continue;
        }
        let Some(m) = Member::of(load.map(|l| &l.0), pod.map(|p| &p.0), s) else {
            continue;
        };
        // Nothing to send without power.
        let want = if d.served { m.mesh_mbps.max(0.0) } else { 0.0 };
        if want <= 0.0 {
            continue;
        }
        let critical = m.pod.is_some() && m.minimum_priority > 0;
        problem.consumers.push(Consumer {
            id: m.id.clone(),
            demand: vec![want],
            weight: m.weight,
            minimum: if critical {
                vec![0.2 * want]
            } else {
                Vec::new()
            },
            priority: if critical { 2 } else { 0 },
        });
        entities.push(*e);
    }
    drop(list);
    if problem.validate().is_err() {
        return;
    }
    let a = allocate(&problem);
    let outcome = Outcome::of(&problem, &a);
    let mut limit = std::collections::BTreeMap::new();
    for (i, e) in entities.iter().enumerate() {
        if outcome.short && a.satisfied[i] < 1.0 - 1e-9 {
            limit.insert(*e, a.amounts[i][0]);
        }
    }
    for (e, _, _, _, _, share) in &mut consumers {
        let l = limit.get(&e).copied();
        bind(e, share, &mut commands, |s| &mut s.mesh_mbps, l);
    }
    state.mesh = Some(outcome);
}
