//! Emergency modes in the world: switching a scene's mode on changes the specs its rules
//! name (line and transformer ratings, priorities of loads and pods, the batteries' least
//! state of charge) and keeps their normal values; switching it off puts them back and
//! applies the modes still on. The grid is rebuilt with the new ratings; the dispatch reads
//! priorities and reserves from the specs each tick. A saved scene carries the normal values.

use std::collections::BTreeMap;

use bevy::prelude::*;
use kos_scene::{
    LineSpec, LoadSpec, ModeRule, PodSpec, Priority, Scene, StorageSpec, TransformerSpec,
};

use super::Protection;
use crate::model::{AssetTag, SceneModes, Spec};
use crate::sim::grid::GridDirty;

/// A normal value a mode changed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Normal {
    /// A line's rating, A.
    LineRating(f64),
    /// A transformer's rating, kVA.
    TransformerRating(f64),
    /// A load's or pod's priority.
    Priority(Priority),
    /// A battery's least state of charge.
    SocMin(f64),
}

/// The values every rule of the modes `on` gives, by asset id, from the normal values.
fn apply_rules(world: &mut World, modes: &[kos_scene::ModeSpec], on: &[String]) -> usize {
    let mut changed = 0;
    for m in modes.iter().filter(|m| on.contains(&m.id)) {
        for r in &m.rules {
            match r {
                ModeRule::DerateLines { kind, factor } => {
                    let mut q = world.query::<&mut Spec<LineSpec>>();
                    for mut l in q.iter_mut(world) {
                        if kind.is_none_or(|k| k == l.kind) {
                            l.rating_a *= factor;
                            changed += 1;
                        }
                    }
                }
                ModeRule::DerateTransformers { factor } => {
                    let mut q = world.query::<&mut Spec<TransformerSpec>>();
                    for mut t in q.iter_mut(world) {
                        t.rating_kva *= factor;
                        changed += 1;
                    }
                }
                ModeRule::Priority { asset, priority } => {
                    let mut q = world.query::<(
                        &AssetTag,
                        Option<&mut Spec<LoadSpec>>,
                        Option<&mut Spec<PodSpec>>,
                    )>();
                    for (tag, load, pod) in q.iter_mut(world) {
                        if tag.0 != *asset {
                            continue;
                        }
                        if let Some(mut l) = load {
                            l.priority = *priority;
                        }
                        if let Some(mut p) = pod {
                            p.priority = *priority;
                        }
                        changed += 1;
                    }
                }
                // The commons' shelter allocation reads it.
                ModeRule::Shelter { .. } => {}
                ModeRule::BatteryReserve { soc_min } => {
                    let mut q = world.query::<&mut Spec<StorageSpec>>();
                    for mut b in q.iter_mut(world) {
                        b.soc_min = b.soc_min.max(*soc_min);
                        changed += 1;
                    }
                }
            }
        }
    }
    changed
}

/// Records the normal values of every spec a mode may change (once).
fn record_normals(world: &mut World, normals: &mut BTreeMap<String, Vec<Normal>>) {
    if !normals.is_empty() {
        return;
    }
    let mut q = world.query::<(
        &AssetTag,
        Option<&Spec<LineSpec>>,
        Option<&Spec<TransformerSpec>>,
        Option<&Spec<LoadSpec>>,
        Option<&Spec<PodSpec>>,
        Option<&Spec<StorageSpec>>,
    )>();
    for (tag, line, trafo, load, pod, battery) in q.iter(world) {
        let mut v = Vec::new();
        v.extend(line.map(|l| Normal::LineRating(l.rating_a)));
        v.extend(trafo.map(|t| Normal::TransformerRating(t.rating_kva)));
        v.extend(load.map(|l| Normal::Priority(l.priority)));
        v.extend(pod.map(|p| Normal::Priority(p.priority)));
        v.extend(battery.map(|b| Normal::SocMin(b.soc_min)));
        if !v.is_empty() {
            normals.insert(tag.0.clone(), v);
        }
    }
}

/// Puts every recorded normal value back into the world.
fn restore(world: &mut World, normals: &BTreeMap<String, Vec<Normal>>) {
    let mut q = world.query::<(
        &AssetTag,
        Option<&mut Spec<LineSpec>>,
        Option<&mut Spec<TransformerSpec>>,
        Option<&mut Spec<LoadSpec>>,
        Option<&mut Spec<PodSpec>>,
        Option<&mut Spec<StorageSpec>>,
    )>();
    for (tag, mut line, mut trafo, mut load, mut pod, mut battery) in q.iter_mut(world) {
        let Some(values) = normals.get(&tag.0) else {
            continue;
        };
        for &v in values {
            match v {
                Normal::LineRating(a) => {
                    if let Some(l) = line.as_mut().filter(|l| l.rating_a != a) {
                        l.rating_a = a;
                    }
                }
                Normal::TransformerRating(kva) => {
                    if let Some(t) = trafo.as_mut().filter(|t| t.rating_kva != kva) {
                        t.rating_kva = kva;
                    }
                }
                Normal::Priority(p) => {
                    if let Some(l) = load.as_mut().filter(|l| l.priority != p) {
                        l.priority = p;
                    }
                    if let Some(x) = pod.as_mut().filter(|x| x.priority != p) {
                        x.priority = p;
                    }
                }
                Normal::SocMin(f) => {
                    if let Some(b) = battery.as_mut().filter(|b| b.soc_min != f) {
                        b.soc_min = f;
                    }
                }
            }
        }
    }
}

/// Switches the mode `id` on or off at `t`.
pub(super) fn switch_mode(world: &mut World, state: &mut Protection, id: &str, on: bool, t: f64) {
    let defs = world
        .get_resource::<SceneModes>()
        .map(|m| m.0.clone())
        .unwrap_or_default();
    let Some(mode) = defs.iter().find(|m| m.id == id) else {
        warn!("mode `{id}`: no such mode in the scene");
        state.event(t, id, "rejected", "no such mode in the scene", 0);
        return;
    };
    if state.modes_on.iter().any(|m| m == id) == on {
        return;
    }
    record_normals(world, &mut state.normals);
    restore(world, &state.normals);
    if on {
        state.modes_on.push(id.to_string());
    } else {
        state.modes_on.retain(|m| m != id);
    }
    let changed = apply_rules(world, &defs, &state.modes_on);
    world.insert_resource(GridDirty(true));
    let cause = format!(
        "{:?} mode {}: {} rules; {changed} settings now differ from normal",
        mode.kind,
        if on { "on" } else { "off" },
        mode.rules.len()
    );
    state.event(t, id, if on { "mode_on" } else { "mode_off" }, &cause, 0);
}

impl Protection {
    /// `scene` (the world's, saved) with the normal values the modes changed.
    pub fn normal_scene(&self, scene: &mut Scene) {
        let get = |id: &str| self.normals.get(id).map(Vec::as_slice).unwrap_or(&[]);
        for l in &mut scene.lines {
            for v in get(&l.id) {
                if let Normal::LineRating(a) = *v {
                    l.rating_a = a;
                }
            }
        }
        for t in &mut scene.transformers {
            for v in get(&t.id) {
                if let Normal::TransformerRating(kva) = *v {
                    t.rating_kva = kva;
                }
            }
        }
        for l in &mut scene.loads {
            for v in get(&l.id) {
                if let Normal::Priority(p) = *v {
                    l.priority = p;
                }
            }
        }
        for x in &mut scene.pods {
            for v in get(&x.id) {
                if let Normal::Priority(p) = *v {
                    x.priority = p;
                }
            }
        }
        for b in &mut scene.storage {
            for v in get(&b.id) {
                if let Normal::SocMin(f) = *v {
                    b.soc_min = f;
                }
            }
        }
    }
}
