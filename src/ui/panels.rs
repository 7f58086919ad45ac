//! The overlay's panels, drawn from plain data. Each is an egui window or area, so the pointer
//! over it belongs to egui and never reaches the 3D view.

use bevy::prelude::*;
use bevy_egui::egui;
use kos_scene::*;

use crate::model::*;
use crate::sim::ClockCommand;

/// What the top bar shows.
#[derive(Debug, Clone, PartialEq)]
pub struct ClockView {
    /// Site name.
    pub site: String,
    /// Simulated local time.
    pub now: String,
    /// Simulated seconds per real second.
    pub speed: f64,
    /// Clock stopped.
    pub paused: bool,
    /// Ticks done.
    pub ticks: u64,
    /// Alarms raised in all.
    pub alarms: u64,
    /// The latest alarm.
    pub last_alarm: Option<String>,
}

/// Speeds offered, simulated seconds per real second.
pub const SPEEDS: [(f64, &str); 5] = [
    (60.0, "1 min/s"),
    (600.0, "10 min/s"),
    (3600.0, "1 h/s"),
    (14_400.0, "4 h/s"),
    (86_400.0, "1 day/s"),
];

/// Draws the top bar; returns the clock commands clicked.
pub fn top_bar(ctx: &egui::Context, v: &ClockView) -> Vec<ClockCommand> {
    let mut out = Vec::new();
    top_strip(ctx, "top_bar", &v.site, &v.now, |ui| {
        if v.paused {
            if ui.button("Run").clicked() {
                out.push(ClockCommand::Resume);
            }
            if ui.button("Step").clicked() {
                out.push(ClockCommand::Step);
            }
        } else if ui.button("Pause").clicked() {
            out.push(ClockCommand::Pause);
        }
        ui.label("speed");
        let current = SPEEDS
            .iter()
            .find(|(s, _)| (*s - v.speed).abs() < 1e-9)
            .map(|(_, l)| *l)
            .unwrap_or("custom");
        egui::ComboBox::from_id_salt("speed")
            .selected_text(current)
            .show_ui(ui, |ui| {
                for (s, label) in SPEEDS {
                    if ui
                        .selectable_label((s - v.speed).abs() < 1e-9, label)
                        .clicked()
                    {
                        out.push(ClockCommand::Speed(s));
                    }
                }
            });
        ui.separator();
        ui.label(format!("tick {}", v.ticks));
        ui.separator();
        let alarm_text = match &v.last_alarm {
            Some(a) => format!("alarms {}: {}", v.alarms, a),
            None => "no alarms".to_string(),
        };
        let color = if v.alarms > 0 {
            egui::Color32::from_rgb(200, 60, 40)
        } else {
            ui.visuals().text_color()
        };
        ui.colored_label(color, alarm_text);
    });
    out
}

/// The strip across the top of the window, shared by the operators' and the citizens'
/// overlays: the site's name and local time, then what `rest` adds.
pub fn top_strip(
    ctx: &egui::Context,
    id: &str,
    site: &str,
    now: &str,
    rest: impl FnOnce(&mut egui::Ui),
) {
    egui::Area::new(egui::Id::new(id))
        .anchor(egui::Align2::LEFT_TOP, [0.0, 0.0])
        .show(ctx, |ui| {
            egui::Frame::window(ui.style())
                .corner_radius(0.0)
                .show(ui, |ui| {
                    ui.set_min_width(ctx.content_rect().width() - 16.0);
                    ui.horizontal(|ui| {
                        ui.strong(site);
                        ui.separator();
                        ui.monospace(now.replace('T', " "));
                        ui.separator();
                        rest(ui);
                    });
                });
        });
}

/// One asset in the outliner.
#[derive(Debug, Clone, PartialEq)]
pub struct OutlineRow {
    /// The asset's entity.
    pub entity: Entity,
    /// Its id.
    pub id: String,
    /// Its kind.
    pub kind: AssetKind,
    /// Its neighbourhood.
    pub neighbourhood: String,
}

/// Draws the outliner (rows sorted by kind, neighbourhood, id); returns the asset clicked.
pub fn outliner(
    ctx: &egui::Context,
    rows: &[OutlineRow],
    selected: Option<Entity>,
) -> Option<Entity> {
    let mut picked = None;
    egui::Window::new("Assets")
        .anchor(egui::Align2::LEFT_TOP, [6.0, 44.0])
        .default_width(230.0)
        .default_height(ctx.content_rect().height() - 60.0)
        .resizable(true)
        .collapsible(true)
        .show(ctx, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| {
                for kind in AssetKind::ALL {
                    let of_kind: Vec<&OutlineRow> =
                        rows.iter().filter(|r| r.kind == kind).collect();
                    if of_kind.is_empty() {
                        continue;
                    }
                    egui::CollapsingHeader::new(format!("{} ({})", plural(kind), of_kind.len()))
                        .id_salt(kind.label())
                        .default_open(matches!(
                            kind,
                            AssetKind::Generator | AssetKind::Storage | AssetKind::Pod
                        ))
                        .show(ui, |ui| {
                            let mut hoods: Vec<&str> =
                                of_kind.iter().map(|r| r.neighbourhood.as_str()).collect();
                            hoods.dedup();
                            for hood in hoods {
                                let label = if hood.is_empty() { "(none)" } else { hood };
                                egui::CollapsingHeader::new(label)
                                    .id_salt((kind.label(), hood))
                                    .default_open(true)
                                    .show(ui, |ui| {
                                        for r in of_kind.iter().filter(|r| r.neighbourhood == hood)
                                        {
                                            if ui
                                                .selectable_label(selected == Some(r.entity), &r.id)
                                                .clicked()
                                            {
                                                picked = Some(r.entity);
                                            }
                                        }
                                    });
                            }
                        });
                }
            });
        });
    picked
}

fn plural(kind: AssetKind) -> &'static str {
    match kind {
        AssetKind::Bus => "Buses",
        AssetKind::Line => "Lines and cables",
        AssetKind::Transformer => "Transformers",
        AssetKind::Switch => "Switches",
        AssetKind::Generator => "Generation",
        AssetKind::Storage => "Storage",
        AssetKind::Load => "Loads",
        AssetKind::Pod => "Pods",
        AssetKind::Depot => "Depots",
        AssetKind::Route => "Routes",
    }
}

/// The specs an asset may carry.
pub type SpecQuery = (
    Option<&'static Spec<BusSpec>>,
    Option<&'static Spec<LineSpec>>,
    Option<&'static Spec<TransformerSpec>>,
    Option<&'static Spec<SwitchSpec>>,
    Option<&'static Spec<GeneratorSpec>>,
    Option<&'static Spec<StorageSpec>>,
    Option<&'static Spec<LoadSpec>>,
    Option<&'static Spec<PodSpec>>,
    Option<&'static Spec<DepotSpec>>,
    Option<&'static Spec<RouteSpec>>,
);

/// What the inspector shows.
#[derive(Debug, Clone, PartialEq)]
pub struct InspectorView {
    /// Asset id.
    pub id: String,
    /// Kind.
    pub kind: AssetKind,
    /// Neighbourhood.
    pub neighbourhood: String,
    /// State now: (name, value) rows.
    pub state: Vec<(String, String)>,
    /// The asset's description from the scene, as RON.
    pub spec: String,
    /// Infrastructure DNA.
    pub dna: Dna,
}

fn spec_text<T: serde::Serialize>(spec: &T) -> String {
    let config = ron::ser::PrettyConfig::new()
        .struct_names(false)
        .indentor("  ".to_string());
    ron::ser::to_string_pretty(spec, config).unwrap_or_default()
}

impl InspectorView {
    /// Gathers the view of one asset from its components.
    #[allow(clippy::type_complexity)]
    pub fn gather(
        id: &AssetTag,
        kind: AssetKind,
        hood: Option<&Neighbourhood>,
        state: StateItem,
        spec: (
            Option<&Spec<BusSpec>>,
            Option<&Spec<LineSpec>>,
            Option<&Spec<TransformerSpec>>,
            Option<&Spec<SwitchSpec>>,
            Option<&Spec<GeneratorSpec>>,
            Option<&Spec<StorageSpec>>,
            Option<&Spec<LoadSpec>>,
            Option<&Spec<PodSpec>>,
            Option<&Spec<DepotSpec>>,
            Option<&Spec<RouteSpec>>,
        ),
    ) -> Self {
        let (bus, flow, switch, unit, soc, demand) = state;
        let mut rows = Vec::new();
        let mut row = |k: &str, v: String| rows.push((k.to_string(), v));
        if let Some(v) = bus {
            row(
                "voltage",
                if v.energised {
                    format!("{:.4} pu  {:.2} deg", v.vm_pu, v.va_deg)
                } else {
                    "de-energised".into()
                },
            );
            row(
                "island",
                v.island
                    .map(|i| i.to_string())
                    .unwrap_or_else(|| "none".into()),
            );
        }
        if let Some(s) = switch {
            row(
                "position",
                if s.closed {
                    "closed".into()
                } else {
                    "open".into()
                },
            );
        }
        if let Some(f) = flow {
            if f.energised {
                row(
                    "flow (from end)",
                    format!("{:.1} kW  {:.1} kvar", f.p_from_kw, f.q_from_kvar),
                );
                row("losses", format!("{:.2} kW", f.p_from_kw + f.p_to_kw));
                row("loading", format!("{:.1} %", f.loading_pct));
            } else {
                row("flow", "none (open or de-energised)".into());
            }
        }
        if let Some(u) = unit {
            row("output", format!("{:.1} kW  {:.1} kvar", u.p_kw, u.q_kvar));
            row("setpoint", format!("{:.1} kW", u.setpoint_kw));
            row(
                "connected",
                if u.energised {
                    "energised".into()
                } else {
                    "de-energised".into()
                },
            );
        }
        if let Some(s) = soc {
            row("state of charge", format!("{:.1} %", s.0 * 100.0));
        }
        if let Some(d) = demand {
            row("demand", format!("{:.1} kW  {:.1} kvar", d.p_kw, d.q_kvar));
            row(
                "supply",
                if !d.served {
                    "NOT SERVED (de-energised)".into()
                } else if d.fraction < 1.0 - 1e-9 {
                    format!("{:.1} kW served, {:.1} kW SHED", d.served_kw(), d.shed_kw())
                } else {
                    "served".into()
                },
            );
        }
        let (b, l, t, s, g, st, ld, p, dp, r) = spec;
        let (text, dna) = if let Some(x) = b {
            (spec_text(&x.0), x.dna.clone())
        } else if let Some(x) = l {
            (spec_text(&x.0), x.dna.clone())
        } else if let Some(x) = t {
            (spec_text(&x.0), x.dna.clone())
        } else if let Some(x) = s {
            (spec_text(&x.0), x.dna.clone())
        } else if let Some(x) = g {
            (spec_text(&x.0), x.dna.clone())
        } else if let Some(x) = st {
            (spec_text(&x.0), x.dna.clone())
        } else if let Some(x) = ld {
            (spec_text(&x.0), x.dna.clone())
        } else if let Some(x) = p {
            (spec_text(&x.0), x.dna.clone())
        } else if let Some(x) = dp {
            (spec_text(&x.0), x.dna.clone())
        } else if let Some(x) = r {
            (spec_text(&x.0), x.dna.clone())
        } else {
            (String::new(), Dna::default())
        };
        Self {
            id: id.0.clone(),
            kind,
            neighbourhood: hood.map(|h| h.0.clone()).unwrap_or_default(),
            state: rows,
            spec: text,
            dna,
        }
    }
}

/// Draws the inspector; returns true when it was closed.
pub fn inspector(
    ctx: &egui::Context,
    v: &InspectorView,
    energy: Option<&super::energy::EnergyView>,
) -> bool {
    let mut open = true;
    egui::Window::new(format!("{} {}", v.kind.label(), v.id))
        .id(egui::Id::new("inspector"))
        .anchor(egui::Align2::RIGHT_TOP, [-6.0, 44.0])
        .default_width(320.0)
        .open(&mut open)
        .show(ctx, |ui| {
            egui::Grid::new("state")
                .num_columns(2)
                .striped(true)
                .show(ui, |ui| {
                    ui.label("neighbourhood");
                    ui.label(if v.neighbourhood.is_empty() {
                        "-"
                    } else {
                        &v.neighbourhood
                    });
                    ui.end_row();
                    for (k, val) in &v.state {
                        ui.label(k);
                        ui.monospace(val);
                        ui.end_row();
                    }
                });
            if let Some(energy) = energy {
                ui.separator();
                ui.heading("Energy and wear");
                super::energy::energy_section(ui, energy);
            }
            ui.separator();
            ui.heading("Infrastructure DNA");
            egui::Grid::new("dna").num_columns(2).show(ui, |ui| {
                for (k, val) in [
                    ("purpose", &v.dna.purpose),
                    ("rated limits", &v.dna.rated_limits),
                    ("commissioned", &v.dna.commissioned),
                ] {
                    ui.label(k);
                    ui.label(if val.is_empty() { "-" } else { val.as_str() });
                    ui.end_row();
                }
            });
            if !v.dna.maintenance.is_empty() {
                ui.label("maintenance");
                for m in &v.dna.maintenance {
                    ui.label(format!("  {}  {}", m.date, m.note));
                }
            }
            egui::CollapsingHeader::new("description")
                .default_open(false)
                .show(ui, |ui| {
                    egui::ScrollArea::vertical()
                        .max_height(220.0)
                        .show(ui, |ui| {
                            ui.monospace(&v.spec);
                        });
                });
        });
    !open
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows() -> Vec<OutlineRow> {
        (0..5)
            .map(|i| OutlineRow {
                entity: Entity::from_raw_u32(i + 1).expect("valid index"),
                id: format!("pv-{i}"),
                kind: AssetKind::Generator,
                neighbourhood: if i < 3 {
                    "north".into()
                } else {
                    "south".into()
                },
            })
            .collect()
    }

    /// Runs one egui pass with the pointer at `pos`; returns whether egui claims the pointer.
    fn pass(ctx: &egui::Context, pos: egui::Pos2) -> bool {
        let events = vec![egui::Event::PointerMoved(pos)];
        // Time moves on by a frame, so animations (opening headers) finish.
        let time = ctx.input(|i| i.time) + 0.1;
        let input = egui::RawInput {
            time: Some(time),
            screen_rect: Some(egui::Rect::from_min_size(
                egui::Pos2::ZERO,
                egui::vec2(1280.0, 720.0),
            )),
            events,
            ..Default::default()
        };
        let mut output = ctx.run_ui(input, |_| {
            let view = ClockView {
                site: "s".into(),
                now: "2026-01-01T00:00:00".into(),
                speed: 600.0,
                paused: false,
                ticks: 0,
                alarms: 0,
                last_alarm: None,
            };
            top_bar(ctx, &view);
            outliner(ctx, &rows(), None);
        });
        // No renderer here to take the font texture.
        output.textures_delta.clear();
        ctx.is_pointer_over_egui()
    }

    #[test]
    fn the_pointer_over_a_panel_belongs_to_the_overlay() {
        let ctx = egui::Context::default();
        for _ in 0..3 {
            pass(&ctx, egui::pos2(640.0, 400.0));
        }
        // Over the 3D view: not egui's.
        assert!(!pass(&ctx, egui::pos2(640.0, 400.0)));
        // Over the outliner and the top bar: egui's, so the camera and picking ignore it.
        assert!(pass(&ctx, egui::pos2(100.0, 200.0)));
        assert!(pass(&ctx, egui::pos2(640.0, 10.0)));
    }
}
