//! What makes the map readable to a room of people: a legend of every colour and shape, the
//! names of the neighbourhoods and the major assets written on the map, and the name and key
//! number of whatever the mouse points at.

use std::collections::BTreeMap;

use bevy::prelude::*;
use bevy_egui::{EguiContexts, EguiPrimaryContextPass, egui};
use kos_scene::{BusSpec, GeneratorKind, GeneratorSpec, PodKind, PodSpec};

use crate::model::*;
use crate::view::{Hovered, VisualOf, palette};

/// The people's name of a pod's kind.
pub fn pod_name(kind: PodKind) -> &'static str {
    match kind {
        PodKind::Shelter => "Shelter",
        PodKind::DataCentre => "Data centre",
        PodKind::WaterUtility => "Water works",
        PodKind::Clinic => "Clinic",
        PodKind::FabricationHub => "Fabrication hub",
    }
}

/// The name written on the map for a major asset (pods, depots, wind, CHP and biogas units,
/// batteries, the regional grid's connection), or `None` for the many small ones.
pub fn map_label(
    id: &str,
    kind: AssetKind,
    generator: Option<&GeneratorSpec>,
    pod: Option<&PodSpec>,
) -> Option<String> {
    let name = match kind {
        AssetKind::Pod => pod_name(pod?.kind),
        AssetKind::Depot => "Depot",
        AssetKind::Storage => "Battery",
        AssetKind::Generator => match generator?.kind {
            GeneratorKind::Wind { .. } => "Wind turbine",
            GeneratorKind::Chp { .. } => "CHP",
            GeneratorKind::Bio { .. } => "Biogas",
            GeneratorKind::Solar { .. } | GeneratorKind::Module { .. } => return None,
            GeneratorKind::GridTie { .. } => "Regional grid",
        },
        _ => return None,
    };
    Some(format!("{name} · {id}"))
}

/// The key number of an asset in words: what a person asks first when pointing at it.
pub fn key_number(
    kind: AssetKind,
    (voltage, flow, switch, unit, soc, demand): StateItem,
) -> String {
    if let Some(s) = switch {
        return if s.closed { "closed" } else { "open" }.into();
    }
    if let Some(f) = flow {
        if !f.energised {
            return "de-energised".into();
        }
        let p = f.p_from_kw.abs().max(f.p_to_kw.abs());
        return format!("{} · {:.0} % of rating", power(p), f.loading_pct);
    }
    if let Some(v) = voltage {
        if !v.energised {
            return "de-energised".into();
        }
        return format!("{:.3} pu", v.vm_pu);
    }
    if let Some(u) = unit {
        let out = if u.energised { u.p_kw } else { 0.0 };
        let verb = if kind == AssetKind::Storage && out < 0.0 {
            "charging"
        } else {
            "giving"
        };
        let mut text = format!("{verb} {}", power(out.abs()));
        if let Some(s) = soc {
            text.push_str(&format!(" · {:.0} % full", s.0 * 100.0));
        }
        return text;
    }
    if let Some(d) = demand {
        if !d.served {
            return format!("no supply · needs {}", power(d.p_kw));
        }
        if d.fraction < 0.999 {
            return format!("{} of {} wanted", power(d.served_kw()), power(d.p_kw));
        }
        return format!("using {}", power(d.served_kw()));
    }
    kind.label().into()
}

/// Power in kW or MW, whichever reads better.
fn power(kw: f64) -> String {
    if kw.abs() >= 1000.0 {
        format!("{:.2} MW", kw / 1000.0)
    } else {
        format!("{kw:.0} kW")
    }
}

fn to_egui(c: Color) -> egui::Color32 {
    let [r, g, b, _] = c.to_srgba().to_u8_array();
    egui::Color32::from_rgb(r, g, b)
}

/// The legend, in the lower right corner: every colour of the map with what it means, a
/// column a group. It folds away to its title bar.
fn legend(ctx: &egui::Context) {
    egui::Window::new("Legend")
        // Above the plug-in form's button, clear of the outliner and the inspector.
        .anchor(egui::Align2::RIGHT_BOTTOM, [-10.0, -56.0])
        .resizable(false)
        .collapsible(true)
        .show(ctx, |ui| {
            ui.style_mut().override_text_style = Some(egui::TextStyle::Small);
            ui.spacing_mut().item_spacing.y = 1.0;
            ui.horizontal_top(|ui| {
                for (group, entries) in palette::legend() {
                    ui.vertical(|ui| {
                        ui.label(egui::RichText::new(group).strong());
                        for (color, meaning) in entries {
                            ui.horizontal(|ui| {
                                let (rect, _) = ui.allocate_exact_size(
                                    egui::vec2(10.0, 10.0),
                                    egui::Sense::hover(),
                                );
                                ui.painter().rect_filled(rect, 2.0, to_egui(color));
                                ui.label(meaning);
                            });
                        }
                    });
                }
            });
            ui.label("Arrows ride on the lines in the direction power flows, faster the more. Point at an asset for its number; click it for details.");
        });
}

/// A name on the map: white on a dark, rounded plate, centred above `at` (screen points).
fn plate(painter: &egui::Painter, at: egui::Pos2, text: &str, size: f32) {
    let galley = painter.layout_no_wrap(
        text.to_owned(),
        egui::FontId::proportional(size),
        egui::Color32::WHITE,
    );
    let rect = egui::Rect::from_center_size(
        at - egui::vec2(0.0, galley.size().y),
        galley.size() + egui::vec2(10.0, 4.0),
    );
    painter.rect_filled(rect, 4.0, egui::Color32::from_black_alpha(170));
    painter.galley(
        rect.min + egui::vec2(5.0, 2.0),
        galley,
        egui::Color32::WHITE,
    );
}

#[allow(clippy::type_complexity)]
fn annotate(
    mut contexts: EguiContexts,
    cameras: Query<(&Camera, &GlobalTransform)>,
    visuals: Query<(&VisualOf, &GlobalTransform)>,
    assets: Query<(
        &AssetTag,
        &AssetKind,
        Option<&Neighbourhood>,
        Option<&Spec<BusSpec>>,
        Option<&Spec<GeneratorSpec>>,
        Option<&Spec<PodSpec>>,
    )>,
    states: Query<StateQuery>,
    hovered: Res<Hovered>,
) -> Result {
    let ctx = contexts.ctx_mut()?;
    let Some((camera, eye)) = cameras.iter().find(|(c, _)| c.is_active) else {
        return Ok(());
    };
    // Where a point of the world shows on the screen, if it does.
    let visible = ctx.content_rect();
    let screen = |p: Vec3| {
        camera
            .world_to_viewport(eye, p)
            .ok()
            .map(|v| egui::pos2(v.x, v.y))
            .filter(|p| visible.contains(*p))
    };
    let painter = ctx.layer_painter(egui::LayerId::background());
    // Neighbourhoods: the middle of their low-voltage buses, in large letters.
    let mut hoods: BTreeMap<&str, (Vec3, f32)> = BTreeMap::new();
    for (visual, at) in &visuals {
        let Ok((id, kind, hood, bus, generator, pod)) = assets.get(visual.0) else {
            continue;
        };
        if *kind == AssetKind::Bus
            && let (Some(h), Some(b)) = (hood, bus)
            && b.0.nominal_kv < 1.0
        {
            let e = hoods.entry(h.0.as_str()).or_default();
            e.0 += at.translation();
            e.1 += 1.0;
        }
        if let Some(text) = map_label(&id.0, *kind, generator.map(|g| &g.0), pod.map(|p| &p.0))
            && let Some(p) = screen(at.translation() + Vec3::Y * 12.0)
        {
            plate(&painter, p, &text, 14.0);
        }
    }
    for (name, (sum, n)) in hoods {
        if let Some(p) = screen(sum / n + Vec3::Y * 40.0) {
            plate(&painter, p, name, 22.0);
        }
    }
    // The asset under the pointer: its name and key number beside the pointer.
    if let (Some(asset), Some(pointer)) = (hovered.0, ctx.pointer_hover_pos())
        && let (Ok((id, kind, ..)), Ok(state)) = (assets.get(asset), states.get(asset))
    {
        egui::Area::new(egui::Id::new("hovered asset"))
            .fixed_pos(pointer + egui::vec2(16.0, 16.0))
            .order(egui::Order::Tooltip)
            .interactable(false)
            .show(ctx, |ui| {
                egui::Frame::popup(ui.style()).show(ui, |ui| {
                    ui.label(egui::RichText::new(&id.0).strong());
                    ui.label(key_number(*kind, state));
                });
            });
    }
    legend(ctx);
    Ok(())
}

/// Registers the map's legend, names and hover card.
pub fn plugin(app: &mut App) {
    app.add_systems(EguiPrimaryContextPass, annotate);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_numbers_say_what_a_person_asks_first() {
        let flow = BranchFlow {
            p_from_kw: -1250.0,
            q_from_kvar: 0.0,
            p_to_kw: 1262.0,
            q_to_kvar: 0.0,
            loading_pct: 41.6,
            energised: true,
        };
        assert_eq!(
            key_number(AssetKind::Line, (None, Some(&flow), None, None, None, None)),
            "1.26 MW · 42 % of rating"
        );
        let battery = UnitOutput {
            p_kw: -80.0,
            energised: true,
            ..default()
        };
        assert_eq!(
            key_number(
                AssetKind::Storage,
                (
                    None,
                    None,
                    None,
                    Some(&battery),
                    Some(&StateOfCharge(0.55)),
                    None
                )
            ),
            "charging 80 kW · 55 % full"
        );
        let shed = Demand {
            p_kw: 40.0,
            q_kvar: 0.0,
            fraction: 0.5,
            served: true,
        };
        assert_eq!(
            key_number(AssetKind::Pod, (None, None, None, None, None, Some(&shed))),
            "20 kW of 40 kW wanted"
        );
        let open = SwitchState { closed: false };
        assert_eq!(
            key_number(
                AssetKind::Switch,
                (None, Some(&flow), Some(&open), None, None, None)
            ),
            "open"
        );
    }
}
