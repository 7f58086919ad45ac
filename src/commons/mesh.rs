//! The community mesh's bandwidth: its capacity while the data centre (the mesh's core) runs,
//! what the nodes' own batteries keep when it is dark. Households ask their rate, pods theirs;
//! critical pods keep a fifth for emergency communications.

use bevy::prelude::*;
use kos_scene::{LoadSpec, PodKind, PodSpec};

use super::{Ask, CommonsSettings, CommonsState, Member, Share, bind_all, share_one};
use crate::model::*;
use crate::sim::plan::DispatchPlan;

#[allow(clippy::type_complexity)]
pub(super) fn allocate_mesh(
    settings: Res<CommonsSettings>,
    mut state: ResMut<CommonsState>,
    plan: Res<DispatchPlan>,
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
    // In asset-id order (the dispatch plan's): the same problem whatever the entities' order.
    let list: Vec<_> = plan
        .consumers
        .iter()
        .filter_map(|c| consumers.get(c.entity).ok())
        .collect();
    let core_up = list.iter().any(|(_, _, d, _, pod, _)| {
        pod.is_some_and(|p| p.kind == PodKind::DataCentre) && d.served && d.fraction > 0.5
    });
    let capacity = if core_up {
        s.mesh_mbps
    } else {
        s.mesh_backup_mbps
    };
    let mut asks = Vec::new();
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
        let (minimum, priority) = m.mesh_minimum(want);
        asks.push(Ask {
            entity: *e,
            id: m.id,
            want,
            minimum,
            weight: m.weight,
            priority,
        });
    }
    let Some((outcome, limit)) = share_one("mesh_mbps", capacity, &asks) else {
        return;
    };
    drop(asks);
    drop(list);
    bind_all(
        consumers.iter_mut().map(|(e, .., share)| (e, share)),
        &limit,
        &mut commands,
        |s| &mut s.mesh_mbps,
    );
    state.mesh = Some(outcome);
}
