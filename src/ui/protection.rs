//! The Protection window of the overlay: the timeline of operations (faults, trips,
//! recloses, FLISR, cascades, islanding, black start) with their times, causes and the
//! customers they affected; the reliability indices so far; and the drill controls: a
//! fault on the selected asset, opening or closing it, a black start.

use bevy::prelude::*;
use bevy_egui::{EguiContexts, EguiPrimaryContextPass, egui};
use kos_protection::reliability::Indices;

use super::Selection;
use kos_scene::{GeneratorKind, GeneratorSpec};

use crate::model::{AssetKind, AssetTag, SceneModes, Spec};
use crate::protection::{Protection, ProtectionCommand, ProtectionEvent};
use crate::sim::SimClock;

/// Events the timeline shows, newest last.
const SHOWN: usize = 200;

/// What the Protection window shows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ProtectionView {
    /// Timeline rows: time as the clock shows it, asset, action, cause, customers.
    pub rows: Vec<(String, String, String, String, i64)>,
    /// Events in all.
    pub total: usize,
    /// The indices so far, when anything happened.
    pub indices: Option<Indices>,
    /// Customer groups out of supply now.
    pub out_now: usize,
    /// The selected asset and whether faults and switching apply to it: (id, can fault,
    /// can switch).
    pub selected: Option<(String, bool, bool)>,
    /// A black start is under way: steps done of all.
    pub black_start: Option<(usize, usize)>,
    /// The scene's emergency modes: id and whether it is on.
    pub modes: Vec<(String, bool)>,
}

/// The clock's text at `time_s` seconds from the run's start, milliseconds kept.
fn clock_text(start_s: i64, time_s: f64) -> String {
    let whole = time_s.floor();
    let ms = ((time_s - whole) * 1000.0).round() as i64;
    let text = kos_scene::time::format_datetime(start_s + whole as i64);
    let hms = text.split('T').nth(1).unwrap_or(&text).to_string();
    if ms == 0 {
        hms
    } else {
        format!("{hms}.{ms:03}")
    }
}

impl ProtectionView {
    /// Gathers the view from the protection state; `selected` is the selected asset's id,
    /// kind and whether it is a grid tie.
    pub fn gather(
        p: &Protection,
        clock_start_s: i64,
        selected: Option<(&str, AssetKind, bool)>,
        modes: &[kos_scene::ModeSpec],
    ) -> Self {
        let from = p.events.len().saturating_sub(SHOWN);
        let rows = p.events[from..]
            .iter()
            .map(|e: &ProtectionEvent| {
                (
                    clock_text(clock_start_s, e.time_s),
                    e.asset.clone(),
                    e.action.clone(),
                    e.cause.clone(),
                    e.customers,
                )
            })
            .collect();
        let selected = selected.map(|(id, kind, tie)| {
            let branch = matches!(
                kind,
                AssetKind::Line | AssetKind::Transformer | AssetKind::Switch
            );
            let fault = branch || kind == AssetKind::Bus || tie;
            (id.to_string(), fault, branch)
        });
        Self {
            rows,
            total: p.events.len(),
            indices: p.summary.as_ref().map(|s| s.0.clone()),
            out_now: p.summary.as_ref().map_or(0, |s| s.1),
            selected,
            black_start: p.black_start.as_ref().map(|b| (b.done, b.plan.steps.len())),
            modes: modes
                .iter()
                .map(|m| (m.id.clone(), p.modes_on.contains(&m.id)))
                .collect(),
        }
    }
}

/// Draws the Protection window; returns the commands its buttons gave.
pub fn protection_window(ctx: &egui::Context, v: &ProtectionView) -> Vec<ProtectionCommand> {
    let mut out = Vec::new();
    egui::Window::new("Protection")
        .id(egui::Id::new("protection"))
        .anchor(egui::Align2::CENTER_TOP, [20.0, 40.0])
        .default_width(600.0)
        .max_width(600.0)
        .default_open(v.total > 0)
        .show(ctx, |ui| {
            match &v.selected {
                Some((id, fault, branch)) => {
                    ui.horizontal_wrapped(|ui| {
                        ui.strong(id.as_str());
                        if *fault {
                            if ui.button("Permanent fault").clicked() {
                                out.push(ProtectionCommand::Fault {
                                    asset: id.clone(),
                                    permanent: true,
                                });
                            }
                            if *branch && ui.button("Temporary fault").clicked() {
                                out.push(ProtectionCommand::Fault {
                                    asset: id.clone(),
                                    permanent: false,
                                });
                            }
                        }
                        if *branch {
                            for (label, close) in [("Open", false), ("Close", true)] {
                                if ui.button(label).clicked() {
                                    out.push(ProtectionCommand::Switch {
                                        asset: id.clone(),
                                        close,
                                    });
                                }
                            }
                        }
                        if !*fault && !*branch {
                            ui.label("select a bus, a branch or the grid tie for a fault");
                        }
                    });
                }
                None => {
                    ui.label("Select a bus, a branch or the grid tie to fault or switch it.");
                }
            }
            ui.horizontal(|ui| {
                if ui.button("Black start").clicked() {
                    out.push(ProtectionCommand::BlackStart);
                }
                if let Some((done, all)) = v.black_start {
                    ui.label(format!("black start: {done} of {all} steps"));
                }
                for (id, on) in &v.modes {
                    let mut now = *on;
                    if ui.checkbox(&mut now, id.as_str()).changed() {
                        out.push(ProtectionCommand::Mode {
                            id: id.clone(),
                            on: now,
                        });
                    }
                }
            });
            ui.separator();
            if let Some(x) = &v.indices {
                ui.label(format!(
                    "SAIFI {:.3}   SAIDI {:.1} min   CAIDI {:.1} min   MAIFI {:.3}   ASAI {:.5}   out now: {}",
                    x.saifi, x.saidi_min, x.caidi_min, x.maifi, x.asai, v.out_now
                ));
            } else {
                ui.label("No interruptions so far.");
            }
            ui.separator();
            ui.small(format!("{} operations", v.total));
            egui::ScrollArea::vertical()
                .max_height(260.0)
                .stick_to_bottom(true)
                .show(ui, |ui| {
                    for (t, asset, action, cause, customers) in &v.rows {
                        ui.horizontal(|ui| {
                            ui.monospace(t.as_str());
                            ui.label(asset.as_str());
                            ui.strong(action.as_str());
                            match customers.signum() {
                                1 => {
                                    ui.colored_label(
                                        egui::Color32::from_rgb(220, 90, 80),
                                        format!("{customers} customers out"),
                                    );
                                }
                                -1 => {
                                    ui.colored_label(
                                        egui::Color32::from_rgb(90, 190, 110),
                                        format!("{} customers back", -customers),
                                    );
                                }
                                _ => {}
                            }
                        });
                        ui.add(egui::Label::new(egui::RichText::new(cause.as_str()).small()).wrap());
                    }
                });
        });
    out
}

fn window(
    mut contexts: EguiContexts,
    protection: Option<Res<Protection>>,
    clock: Option<Res<SimClock>>,
    selection: Res<Selection>,
    modes: Option<Res<SceneModes>>,
    assets: Query<(&AssetTag, &AssetKind, Option<&Spec<GeneratorSpec>>)>,
    mut commands: MessageWriter<ProtectionCommand>,
) -> Result {
    let (Some(p), Some(clock)) = (protection, clock) else {
        return Ok(());
    };
    let selected = selection
        .0
        .and_then(|e| assets.get(e).ok())
        .map(|(t, k, g)| {
            let tie = g.is_some_and(|g| matches!(g.kind, GeneratorKind::GridTie { .. }));
            (t.0.as_str(), *k, tie)
        });
    let modes = modes.map(|m| m.0.clone()).unwrap_or_default();
    let view = ProtectionView::gather(&p, clock.start_s, selected, &modes);
    for c in protection_window(contexts.ctx_mut()?, &view) {
        commands.write(c);
    }
    Ok(())
}

pub(super) fn plugin(app: &mut App) {
    app.add_systems(EguiPrimaryContextPass, window);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protection::{ProtectionConfig, Schedule, attach};

    /// A fault from the window's command reaches the tick: the timeline gains the fault and
    /// the trip, with their clock times, and the indices appear.
    #[test]
    fn a_fault_from_the_window_shows_on_the_timeline() {
        let scene = crate::scene::default_scene();
        let mut app = crate::app::headless_app(&scene);
        attach(&mut app, Schedule::default(), ProtectionConfig::default());
        crate::sim::run_ticks(&mut app, 2);
        app.world_mut()
            .write_message(ProtectionCommand::Fault {
                asset: "mv-03".into(),
                permanent: true,
            })
            .unwrap();
        crate::sim::run_ticks(&mut app, 3);
        let world = app.world();
        let p = world.resource::<Protection>();
        let start = world.resource::<SimClock>().start_s;
        let modes = world.resource::<SceneModes>().0.clone();
        let view = ProtectionView::gather(p, start, Some(("mv-03", AssetKind::Bus, false)), &modes);
        assert!(
            view.modes.iter().any(|(id, on)| id == "storm" && !on),
            "{:?}",
            view.modes
        );
        let actions: Vec<&str> = view.rows.iter().map(|r| r.2.as_str()).collect();
        assert!(actions.contains(&"fault"), "{actions:?}");
        let trip = view.rows.iter().find(|r| r.2 == "trip").expect("a trip");
        // The fault came at the start of the third tick (06:02) and the relay's
        // instantaneous stage cleared it in 50 ms.
        assert_eq!(trip.0, "06:02:00.050");
        assert_eq!(trip.1, "rly-west");
        assert!(view.indices.is_some());
        assert!(view.out_now > 0);
        assert_eq!(view.selected, Some(("mv-03".into(), true, false)));
        let ctx = egui::Context::default();
        for _ in 0..2 {
            let mut out = ctx.run_ui(egui::RawInput::default(), |ui| {
                protection_window(ui.ctx(), &view);
            });
            out.textures_delta.clear();
        }
    }
}
