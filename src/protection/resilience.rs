//! Emergency resilience: the loss of the grid tie, after which the community runs as an
//! island on its grid-forming units (the dispatch sheds non-critical load to fit), and the
//! black start of a dead community from its grid-forming battery
//! (kos_protection::blackstart), step by step at the plan's times.

use std::collections::BTreeMap;

use bevy::prelude::*;
use kos_protection::blackstart::{self, BlackStartPlan, StepKind};
use kos_protection::scene::{CustomerGroup, customer_groups, set_positions, unsupplied_buses};
use kos_scene::{GeneratorKind, GeneratorSpec, Scene};
use serde_json::{Value, json};

use super::{Protection, apply_to_world, current_scene};
use crate::model::{AssetTag, Demand, Spec, asset_entity};
use crate::sim::grid::set_in_service;
use crate::sim::plan::DispatchPlan;

/// A black start under way or done.
#[derive(Debug, Clone, PartialEq)]
pub struct BlackStartRun {
    /// When it began, s from the start of the run.
    pub started_s: f64,
    /// Its plan.
    pub plan: BlackStartPlan,
    /// Steps done.
    pub done: usize,
}

impl BlackStartRun {
    /// The report's `black_start` object.
    pub fn report(&self, groups: &[CustomerGroup]) -> Value {
        let id = |k: usize| groups.get(k).map_or(String::new(), |g| g.id.clone());
        let steps: Vec<Value> = self
            .plan
            .steps
            .iter()
            .map(|s| {
                json!({
                    "time_s": self.started_s + s.t_s,
                    "kind": s.kind,
                    "close": s.close,
                    "picked_up": s.groups.iter().map(|&k| id(k)).collect::<Vec<_>>(),
                    "picked_kw": s.picked_kw,
                    "draw_kw": s.draw_kw,
                    "limit_kw": s.limit_kw,
                })
            })
            .collect();
        json!({
            "started_s": self.started_s,
            "source": self.plan.source.id,
            "steps": steps,
            "steps_done": self.done,
            "dark": self.plan.dark.iter().map(|(k, why)| json!({"id": id(*k), "reason": why})).collect::<Vec<_>>(),
            "end_s": self.plan.end_s.map(|e| self.started_s + e),
        })
    }
}

/// Grid-forming units in service of a scene (what can hold an island).
fn holders(scene: &Scene) -> Vec<String> {
    scene
        .storage
        .iter()
        .filter(|b| b.in_service && b.grid_forming)
        .map(|b| b.id.clone())
        .chain(
            scene
                .generators
                .iter()
                .filter(|g| {
                    g.in_service
                        && g.kind.grid_forming()
                        && !matches!(g.kind, GeneratorKind::GridTie { .. })
                })
                .map(|g| g.id.clone()),
        )
        .collect()
}

/// The grid tie `tie` is lost at `t`: the unit goes out of service (the grid is rebuilt and
/// balanced as islands from the next tick), and the island's balance is reported then.
pub(super) fn lose_tie(
    world: &mut World,
    state: &mut Protection,
    scene: &Scene,
    tie: &str,
    t: f64,
) {
    if let Some(e) = asset_entity(world, tie) {
        set_in_service(world, e, false);
    }
    let mut after = scene.clone();
    for g in after.generators.iter_mut().filter(|g| g.id == tie) {
        g.in_service = false;
    }
    set_positions(&mut after, &state.switched);
    let lost = state.settle(&customer_groups(scene), &unsupplied_buses(&after), t);
    state.event(
        t,
        tie,
        "tie_lost",
        "loss of the grid tie: the regional grid is gone",
        lost,
    );
    let held = holders(&after);
    let cause = if held.is_empty() {
        "no grid-forming unit in service: the community is dark".to_string()
    } else {
        format!(
            "the community runs as an island held by {}",
            held.join(", ")
        )
    };
    state.event(t, tie, "islanded", &cause, 0);
    state.island_watch = Some(tie.to_string());
}

/// In the tick after a tie loss: what the island serves and sheds, by priority.
pub(super) fn report_island(world: &mut World, state: &mut Protection, t: f64) {
    let Some(tie) = state.island_watch.take() else {
        return;
    };
    let Some(plan) = world.get_resource::<DispatchPlan>() else {
        return;
    };
    // Shedding classes: 0 deferrable, 1 essential, 2 critical.
    let (mut demand, mut shed) = (0.0, [0.0f64; 3]);
    for c in &plan.consumers {
        demand += c.demand_kw;
        if let Some(s) = shed.get_mut(c.shed_class) {
            *s += c.demand_kw * (1.0 - c.fraction);
        }
    }
    let cause = format!(
        "island balance: {:.0} of {demand:.0} kW served; shed: critical {:.1} kW, essential {:.1} kW, deferrable {:.1} kW",
        demand - shed.iter().sum::<f64>(),
        shed[2],
        shed[1],
        shed[0]
    );
    state.event(t, &tie, "island_balance", &cause, 0);
}

/// Everything goes dark at `t` (the grid tie lost, every breaker reached from the
/// black-start unit opened) and the black start's plan is made from the demand now.
pub(super) fn begin_black_start(world: &mut World, state: &mut Protection, t: f64) {
    let scene = current_scene(world, &state.switched);
    let groups = customer_groups(&scene);
    let now: BTreeMap<String, f64> = world
        .query::<(&AssetTag, &Demand)>()
        .iter(world)
        .map(|(a, d)| (a.0.clone(), d.p_kw))
        .collect();
    let demand: Vec<f64> = groups
        .iter()
        .map(|g| now.get(&g.id).copied().unwrap_or(g.kw).max(0.0))
        .collect();
    let plan = match blackstart::plan(&scene, &demand, &state.config.black_start) {
        Ok(p) => p,
        Err(e) => {
            warn!("black start: {e}");
            state.event(t, "black_start", "rejected", &e.to_string(), 0);
            return;
        }
    };
    let ties: Vec<(Entity, String)> = world
        .query::<(Entity, &AssetTag, &Spec<GeneratorSpec>)>()
        .iter(world)
        .filter(|(_, _, s)| s.in_service && matches!(s.kind, GeneratorKind::GridTie { .. }))
        .map(|(e, a, _)| (e, a.0.clone()))
        .collect();
    let mut dark = scene.clone();
    for (e, _) in &ties {
        set_in_service(world, *e, false);
    }
    for g in dark
        .generators
        .iter_mut()
        .filter(|g| matches!(g.kind, GeneratorKind::GridTie { .. }))
    {
        g.in_service = false;
    }
    for b in &plan.open_first {
        state.switched.insert(b.clone(), false);
    }
    set_positions(&mut dark, &state.switched);
    let lost = state.settle(&groups, &unsupplied_buses(&dark), t);
    state.event(
        t,
        &plan.source.id,
        "blackout",
        &format!(
            "everything dark: {} breakers open, the black start runs from {}",
            plan.open_first.len(),
            plan.source.id
        ),
        lost,
    );
    state.black_start = Some(BlackStartRun {
        started_s: t,
        plan,
        done: 0,
    });
    apply_to_world(world, &state.switched);
}

/// The black-start steps due before `end`.
pub(super) fn black_start_steps(world: &mut World, state: &mut Protection, end: f64) {
    let Some(mut run) = state.black_start.take() else {
        return;
    };
    let mut any = false;
    while let Some(step) = run.plan.steps.get(run.done).cloned() {
        let t = run.started_s + step.t_s;
        if t >= end {
            break;
        }
        run.done += 1;
        any = true;
        let scene = current_scene(world, &state.switched);
        let groups = customer_groups(&scene);
        let names: Vec<&str> = step.groups.iter().map(|&k| groups[k].id.as_str()).collect();
        let (action, what) = match &step.kind {
            StepKind::Crank { unit, joins_s } => (
                "black_start_crank",
                format!("crank {unit} (carries load from +{:.0} s)", joins_s),
            ),
            StepKind::Pickup { target } => (
                "black_start_pickup",
                format!("pick up {}", groups[*target].id),
            ),
            StepKind::Rest => (
                "black_start_rest",
                "the rest fits at once: no longer limited by the source".to_string(),
            ),
        };
        let mut refused = None;
        // A cranked unit is started once its path is live and synchronises itself to it;
        // any other closing must not join two live islands.
        let cranking = matches!(step.kind, StepKind::Crank { .. });
        for b in &step.close {
            let mut now = scene.clone();
            set_positions(&mut now, &state.switched);
            if !cranking && let Err(e) = kos_protection::scene::check_closing(&now, b) {
                refused = Some(e);
                break;
            }
            state.switched.insert(b.clone(), true);
        }
        if let Some(e) = refused {
            state.event(
                t,
                &run.plan.source.id,
                "rejected",
                &format!("black start: {e}"),
                0,
            );
            break;
        }
        let regained = state.switch(&scene, std::iter::empty(), true, t);
        state.event(
            t,
            step.close.last().unwrap_or(&run.plan.source.id),
            action,
            &format!(
                "black start: {what}; {:.0} kW back ({}), draw {:.0} of {:.0} kW with cold-load pickup",
                step.picked_kw + 0.0,
                if names.is_empty() { "no load".to_string() } else { names.join(", ") },
                step.draw_kw + 0.0,
                step.limit_kw
            ),
            regained,
        );
    }
    if any {
        apply_to_world(world, &state.switched);
        if run.done == run.plan.steps.len() {
            let scene = current_scene(world, &state.switched);
            let groups = customer_groups(&scene);
            let dark: Vec<String> = run
                .plan
                .dark
                .iter()
                .map(|(k, why)| format!("{} ({why:?})", groups[*k].id))
                .collect();
            let t = run.started_s + run.plan.steps.last().map_or(0.0, |s| s.t_s);
            let cause = if dark.is_empty() {
                "black start complete: every load is back".to_string()
            } else {
                format!("black start ends; dark: {}", dark.join(", "))
            };
            state.event(t, &run.plan.source.id, "black_start_end", &cause, 0);
        }
    }
    state.black_start = Some(run);
}
