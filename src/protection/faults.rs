//! A fault and what follows: the sequence of operations of the devices in series, the
//! isolating device opening in the world, and FLISR after the configured delay.

use kos_protection::check::{FaultSpot, analyse_fault_at, feeding_tree, main_source};
use kos_protection::flisr;
use kos_protection::reliability::Interruption;
use kos_protection::scene::{customer_groups, set_positions, unsupplied_buses};
use kos_protection::sequence::Action;

use bevy::prelude::*;

use super::{Protection, ScheduledFault, apply_to_world, current_scene};

pub(super) fn handle_fault(world: &mut World, state: &mut Protection, f: &ScheduledFault, t0: f64) {
    let scene = current_scene(world, &state.switched);
    if scene
        .generators
        .iter()
        .any(|g| g.id == f.asset && matches!(g.kind, kos_scene::GeneratorKind::GridTie { .. }))
    {
        super::resilience::lose_tie(world, state, &scene, &f.asset, t0);
        return;
    }
    let kind = if f.permanent {
        "permanent"
    } else {
        "temporary"
    };
    let is_bus = scene.buses.iter().any(|b| b.id == f.asset);
    let branch_ends = scene
        .lines
        .iter()
        .map(|l| (&l.id, &l.from, &l.to))
        .chain(
            scene
                .transformers
                .iter()
                .map(|t| (&t.id, &t.hv_bus, &t.lv_bus)),
        )
        .chain(scene.switches.iter().map(|s| (&s.id, &s.from, &s.to)))
        .find(|(id, _, _)| **id == f.asset)
        .map(|(_, a, b)| (a.clone(), b.clone()));
    let spot = if let Some(at) = f.at {
        if !scene.lines.iter().any(|l| l.id == f.asset) {
            state.event(
                t0,
                &f.asset,
                "rejected",
                "a point along a branch is for lines only",
                0,
            );
            return;
        }
        FaultSpot::Line {
            id: f.asset.clone(),
            at,
        }
    } else if is_bus {
        FaultSpot::Bus(f.asset.clone())
    } else if let Some((a, b)) = branch_ends {
        // The end fed through the branch: the fault current passes the devices on it.
        let tree = main_source(&scene).map(|r| feeding_tree(&scene, r));
        FaultSpot::Bus(match tree.as_ref().and_then(|t| t.get(b.as_str())) {
            Some(&(via, _)) if via == f.asset => b,
            _ => match tree.as_ref().and_then(|t| t.get(a.as_str())) {
                Some(&(via, _)) if via == f.asset => a,
                _ => b,
            },
        })
    } else {
        warn!("fault on `{}`: no such bus or branch", f.asset);
        state.event(
            t0,
            &f.asset,
            "rejected",
            "no such bus, line, transformer or switch",
            0,
        );
        return;
    };
    let mut cause = format!("{kind} fault on {}", f.asset);
    if let Some(at) = f.at {
        cause.push_str(&format!(" at {:.0} % of its length", at * 100.0));
    }
    if f.r_ohm > 0.0 {
        cause.push_str(&format!(" through {} ohm", f.r_ohm));
    }
    let bus = match &spot {
        FaultSpot::Bus(b) => b.clone(),
        FaultSpot::Line { id, at } => format!("{id}@{at}"),
    };
    let analysis = match analyse_fault_at(&scene, &spot, f.r_ohm, 0.0, f.permanent) {
        Ok(Some(a)) => a,
        Ok(None) => {
            state.event(
                t0,
                &f.asset,
                "fault",
                &format!("{cause}: not fed, nothing operates"),
                0,
            );
            return;
        }
        Err(e) => {
            warn!("fault on `{}`: {e}", f.asset);
            state.event(t0, &f.asset, "rejected", &e.to_string(), 0);
            return;
        }
    };
    let groups = customer_groups(&scene);
    state.faulted.insert(f.asset.clone());
    state.event(
        t0,
        &f.asset,
        "fault",
        &format!("{cause}: I\"k {:.2} kA at {bus}", analysis.ikss_ka),
        0,
    );
    // Momentary interruptions: downstream of a device while it was open and reclosed.
    for &(d, from_ms, to_ms) in &analysis.sequence.momentary {
        let mut open = state.switched.clone();
        open.insert(analysis.device_branch[d].clone(), false);
        let mut trial = scene.clone();
        set_positions(&mut trial, &open);
        let dead = unsupplied_buses(&trial);
        let before = unsupplied_buses(&scene);
        for (k, g) in groups.iter().enumerate() {
            if dead.contains(&g.bus) && !before.contains(&g.bus) {
                state.interruptions.push(Interruption {
                    load: k,
                    start_s: t0 + from_ms / 1e3,
                    end_s: t0 + to_ms / 1e3,
                    power_kw: g.kw,
                    ongoing: false,
                });
            }
        }
    }
    let mut isolated_at = None;
    for op in &analysis.sequence.operations {
        let t = t0 + op.t_ms / 1e3;
        let asset = op
            .device
            .map_or(f.asset.as_str(), |d| analysis.path[d].name.as_str());
        // The action's name as the report writes it (snake case).
        let action = serde_json::to_value(op.action)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let mut customers = 0;
        if let Some(d) = op.device
            && op.device == analysis.sequence.isolated_by
            && matches!(op.action, Action::Lockout | Action::Open)
            && isolated_at.is_none()
        {
            let branch = analysis.device_branch[d].clone();
            state.switched.insert(branch.clone(), false);
            state.tripped.insert(branch);
            let mut after = scene.clone();
            set_positions(&mut after, &state.switched);
            customers = state.settle(&groups, &unsupplied_buses(&after), t);
            isolated_at = Some(t);
        }
        state.event(t, asset, &action, &cause, customers);
    }
    if !f.permanent {
        // Gone at the first reclose, or when its section went dead.
        state.faulted.remove(&f.asset);
    }
    if let Some(t) = isolated_at {
        apply_to_world(world, &state.switched);
        if f.permanent {
            state
                .pending
                .push((t + state.config.flisr_delay_s, f.asset.clone(), cause));
        }
    }
}

pub(super) fn run_flisr(
    world: &mut World,
    state: &mut Protection,
    at: f64,
    location: &str,
    cause: &str,
) {
    let scene = current_scene(world, &state.switched);
    // The network with this tick's demands, switched as protection left it.
    let Some(grid) = world.get_resource::<crate::sim::grid::Grid>() else {
        return;
    };
    let mut net = grid.model.network.clone();
    let assets: Vec<String> = grid
        .model
        .branch_assets
        .iter()
        .map(|(id, _)| id.clone())
        .collect();
    let bus_index = grid.model.bus_index.clone();
    let fresh = kos_scene::build_grid(&scene);
    for (k, br) in net.branches.iter_mut().enumerate() {
        if let Some(b) = fresh.network.branches.get(k) {
            br.in_service = b.in_service;
        }
    }
    let groups = customer_groups(&scene);
    let Some(plan) = flisr::plan_scene(&scene, &net, &assets, &bus_index, location) else {
        return;
    };
    let name = |k: usize| assets[k].clone();
    let section: Vec<&str> = plan
        .faulted
        .iter()
        .map(|&b| net.buses[b].name.as_str())
        .collect();
    state.event(
        at,
        location,
        "flisr_located",
        &format!(
            "FLISR: the faulted section holds {} buses ({}){}",
            section.len(),
            section
                .iter()
                .take(6)
                .copied()
                .collect::<Vec<_>>()
                .join(", "),
            if plan.open.is_empty() && plan.close.is_empty() {
                "; nothing to switch"
            } else {
                ""
            }
        ),
        0,
    );
    if state.config.advise_only {
        for &k in &plan.open {
            state.event(
                at,
                &name(k),
                "advise_open",
                &format!("FLISR: isolate the {cause}"),
                0,
            );
        }
        for &k in &plan.close {
            state.event(
                at,
                &name(k),
                "advise_close",
                &format!("FLISR: restore after the {cause}"),
                0,
            );
        }
        return;
    }
    for (i, &k) in plan.open.iter().enumerate() {
        state.switched.insert(name(k), false);
        // Customers the isolation leaves out are counted at its last opening.
        let lost = if i + 1 == plan.open.len() {
            let mut after = scene.clone();
            set_positions(&mut after, &state.switched);
            state.settle(&groups, &unsupplied_buses(&after), at)
        } else {
            0
        };
        state.event(
            at,
            &name(k),
            "flisr_open",
            &format!("FLISR: isolate the {cause}"),
            lost,
        );
    }
    // FLISR closes through its synchronism check: a section a grid-forming unit held
    // meanwhile is brought into phase before the breaker closes.
    for &k in &plan.close {
        state.switched.insert(name(k), true);
        state.tripped.remove(&name(k));
        let mut after = scene.clone();
        set_positions(&mut after, &state.switched);
        let regained = state.settle(&groups, &unsupplied_buses(&after), at);
        state.event(
            at,
            &name(k),
            "flisr_close",
            &format!("FLISR: restore after the {cause}"),
            regained,
        );
    }
    if !plan.unserved.is_empty() {
        state.event(
            at,
            location,
            "flisr_unserved",
            &format!("FLISR: {} buses stay without supply", plan.unserved.len()),
            0,
        );
    }
    apply_to_world(world, &state.switched);
}
