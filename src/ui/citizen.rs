//! The citizens' view (the browser build): how each neighbourhood is supplied, the current
//! outages, the generation mix, the supply of a chosen pod, and a form to report a problem.
//! It has no operator controls: it never pauses the clock, plugs modules in or switches.
//! Like [`super::panels`], the panels are drawn from plain view structs, so they can be tested
//! on a bare `egui::Context`; the overlay system only gathers those structs from the world.

use std::collections::BTreeMap;

use bevy::prelude::*;
use bevy_egui::{EguiContexts, EguiPrimaryContextPass, egui};

use crate::model::*;
use crate::sim::SimClock;
use crate::sim::monitor::{EnergyMonitor, MixHistory, chart_points};

pub use super::citizen_ledger::LedgerCheck;
pub use super::citizen_report::*;

/// Supply of one neighbourhood.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NeighbourhoodRow {
    /// Neighbourhood name.
    pub name: String,
    /// Buses with supply.
    pub buses_energised: usize,
    /// Buses in all.
    pub buses_total: usize,
    /// Demand served, kW.
    pub served_kw: f64,
    /// Demand shed or not supplied, kW.
    pub shed_kw: f64,
}

impl NeighbourhoodRow {
    /// Everything supplied: every bus energised and nothing shed.
    pub fn all_well(&self) -> bool {
        self.buses_energised == self.buses_total && self.shed_kw < 0.05
    }
}

/// One current outage.
#[derive(Debug, Clone, PartialEq)]
pub struct Outage {
    /// Asset id.
    pub id: String,
    /// Neighbourhood.
    pub neighbourhood: String,
    /// What is wrong, for people.
    pub what: String,
}

/// What a consumer (load or pod) receives now.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ConsumerState {
    /// Connected to an energised island.
    pub served: bool,
    /// Power served, kW.
    pub served_kw: f64,
    /// Power shed, kW.
    pub shed_kw: f64,
}

impl From<&Demand> for ConsumerState {
    fn from(d: &Demand) -> Self {
        Self {
            served: d.served,
            served_kw: d.served_kw(),
            shed_kw: d.shed_kw(),
        }
    }
}

/// The state of one asset, as the citizens' view gathers it.
#[derive(Debug, Clone, PartialEq)]
pub struct AssetState {
    /// Asset id.
    pub id: String,
    /// Kind.
    pub kind: AssetKind,
    /// Neighbourhood ("" when none).
    pub neighbourhood: String,
    /// Buses: energised.
    pub energised: Option<bool>,
    /// Loads and pods: what they receive.
    pub consumer: Option<ConsumerState>,
}

/// Neighbourhood rows (sorted by name) and outages (de-energised buses, consumers without
/// supply or with demand shed) from the assets' states.
pub fn summarise(assets: &[AssetState]) -> (Vec<NeighbourhoodRow>, Vec<Outage>) {
    let mut hoods: BTreeMap<&str, NeighbourhoodRow> = BTreeMap::new();
    let mut outages = Vec::new();
    for a in assets {
        let name = if a.neighbourhood.is_empty() {
            "(none)"
        } else {
            a.neighbourhood.as_str()
        };
        let row = hoods.entry(name).or_insert_with(|| NeighbourhoodRow {
            name: name.to_string(),
            ..Default::default()
        });
        let mut outage = |what: String| {
            outages.push(Outage {
                id: a.id.clone(),
                neighbourhood: name.to_string(),
                what,
            })
        };
        if let Some(energised) = a.energised {
            row.buses_total += 1;
            if energised {
                row.buses_energised += 1;
            } else {
                outage("no supply at this bus".into());
            }
        }
        if let Some(c) = a.consumer {
            row.served_kw += c.served_kw;
            row.shed_kw += c.shed_kw;
            if !c.served {
                outage(format!("{} without supply", a.kind.label()));
            } else if c.shed_kw > 0.05 {
                outage(format!("{} shed {:.1} kW", a.kind.label(), c.shed_kw));
            }
        }
    }
    outages.sort_by(|a, b| (&a.neighbourhood, &a.id).cmp(&(&b.neighbourhood, &b.id)));
    (hoods.into_values().collect(), outages)
}

/// The generation mix now: (source, kW) of the sources producing, largest first.
pub fn current_mix(mix: &MixHistory) -> Vec<(&'static str, f64)> {
    let mut out: Vec<(&'static str, f64)> = mix
        .series
        .iter()
        .filter(|(n, _)| !matches!(*n, "load" | "storage"))
        .filter_map(|(n, s)| s.iter().last().map(|(_, v)| (*n, v)))
        .filter(|(_, v)| *v > 0.01)
        .collect();
    out.sort_by(|a, b| b.1.total_cmp(&a.1));
    out
}

/// Renewable share of a mix, fraction (0 when nothing is produced).
pub fn renewable_share(mix: &[(&'static str, f64)]) -> f64 {
    let total: f64 = mix.iter().map(|m| m.1).sum();
    let renewable: f64 = mix
        .iter()
        .filter(|m| matches!(m.0, "solar" | "wind" | "bio" | "other"))
        .map(|m| m.1)
        .sum();
    if total > 0.0 { renewable / total } else { 0.0 }
}

/// The supply of the chosen home or pod.
#[derive(Debug, Clone, PartialEq)]
pub struct PodSupply {
    /// Load or pod id.
    pub id: String,
    /// What it receives.
    pub state: ConsumerState,
    /// Its share of the commons while short: power limit (kW), water (l/h), mesh (Mbit/s).
    pub share: Share,
    /// Households it serves (a pod: 0).
    pub households: u32,
    /// Eco-tokens of its households together.
    pub tokens: f64,
    /// Renewable share of its energy so far, fraction.
    pub renewable: f64,
    /// Largest suppliers: (asset id, kWh).
    pub suppliers: Vec<(String, f64)>,
}

impl PodSupply {
    /// From the consumer's demand and energy monitor (no share, no tokens).
    pub fn of(id: &str, demand: &Demand, monitor: Option<&EnergyMonitor>) -> Self {
        let mut suppliers: Vec<(String, f64)> = monitor.map_or_else(Vec::new, |m| {
            m.suppliers()
                .map(|(id, kwh)| (id.to_string(), kwh))
                .collect()
        });
        suppliers.sort_by(|a, b| b.1.total_cmp(&a.1));
        suppliers.truncate(5);
        Self {
            id: id.to_string(),
            state: demand.into(),
            share: Share::default(),
            households: 0,
            tokens: 0.0,
            renewable: monitor.map_or(0.0, |m| m.renewable_fraction()),
            suppliers,
        }
    }
}

/// Everything the citizens' view shows, gathered from the world.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CitizenView {
    /// Site name.
    pub site: String,
    /// Simulated local time.
    pub now: String,
    /// Neighbourhoods.
    pub neighbourhoods: Vec<NeighbourhoodRow>,
    /// Current outages.
    pub outages: Vec<Outage>,
    /// Generation now, (source, kW).
    pub mix: Vec<(&'static str, f64)>,
    /// Power by source over time, for the chart.
    pub mix_series: Vec<(&'static str, Vec<[f64; 2]>)>,
    /// Homes (loads with households) and pod ids, sorted.
    pub pods: Vec<String>,
    /// The chosen home's or pod's supply.
    pub pod: Option<PodSupply>,
    /// Asset ids a report can name, sorted.
    pub locations: Vec<String>,
}

/// View state of the citizens' overlay.
#[derive(Resource, Debug, Clone, Default)]
pub struct CitizenPanels {
    /// The chosen home or pod.
    pub pod: Option<String>,
    /// The page's check of the published ledger.
    pub ledger: LedgerCheck,
    /// The report form.
    pub form: ReportForm,
    /// Reports filed, oldest first.
    pub reports: Vec<CitizenReport>,
}

/// Colour of a fraction of supply: green when all is well, amber, red when little is.
fn supply_colour(fraction: f64) -> egui::Color32 {
    if fraction >= 0.999 {
        egui::Color32::from_rgb(60, 160, 80)
    } else if fraction >= 0.5 {
        egui::Color32::from_rgb(220, 150, 30)
    } else {
        egui::Color32::from_rgb(200, 60, 40)
    }
}

/// Colour of a generation source in the mix bar.
pub fn source_colour(name: &str) -> egui::Color32 {
    match name {
        "solar" => egui::Color32::from_rgb(240, 190, 40),
        "wind" => egui::Color32::from_rgb(90, 170, 220),
        "chp" => egui::Color32::from_rgb(200, 110, 60),
        "bio" => egui::Color32::from_rgb(110, 170, 70),
        "grid" => egui::Color32::from_rgb(140, 140, 150),
        _ => egui::Color32::from_rgb(120, 120, 200),
    }
}

fn mix_bar(ui: &mut egui::Ui, mix: &[(&'static str, f64)]) {
    let total: f64 = mix.iter().map(|m| m.1).sum();
    let (rect, _) = ui.allocate_exact_size(
        egui::vec2(ui.available_width().max(200.0), 18.0),
        egui::Sense::hover(),
    );
    let painter = ui.painter();
    painter.rect_filled(rect, 2.0, egui::Color32::from_gray(60));
    if total > 0.0 {
        let mut x = rect.left();
        for (name, kw) in mix {
            let w = (kw / total) as f32 * rect.width();
            let r = egui::Rect::from_min_max(
                egui::pos2(x, rect.top()),
                egui::pos2(x + w, rect.bottom()),
            );
            painter.rect_filled(r, 0.0, source_colour(name));
            x += w;
        }
    }
    ui.horizontal_wrapped(|ui| {
        for (name, kw) in mix {
            ui.colored_label(source_colour(name), format!("{name} {kw:.0} kW"));
        }
        if mix.is_empty() {
            ui.label("no generation");
        }
    });
}

/// Draws the citizens' overlay; returns the report filed this frame, if any.
pub fn citizen_overlay(
    ctx: &egui::Context,
    v: &CitizenView,
    state: &mut CitizenPanels,
) -> Option<CitizenReport> {
    super::panels::top_strip(ctx, "citizen_top", &v.site, &v.now, |ui| {
        if v.outages.is_empty() {
            ui.colored_label(supply_colour(1.0), "everyone is supplied");
        } else {
            ui.colored_label(supply_colour(0.0), format!("{} outages", v.outages.len()));
        }
    });

    egui::Window::new("Your community")
        .id(egui::Id::new("citizen_status"))
        .anchor(egui::Align2::RIGHT_TOP, [-6.0, 40.0])
        .default_width(330.0)
        .resizable(false)
        .show(ctx, |ui| {
            ui.heading("Neighbourhoods");
            egui::Grid::new("hoods")
                .num_columns(3)
                .striped(true)
                .show(ui, |ui| {
                    for h in &v.neighbourhoods {
                        let demand = h.served_kw + h.shed_kw;
                        let fraction = if demand > 0.0 {
                            h.served_kw / demand
                        } else {
                            1.0
                        };
                        // A painted dot: the default fonts have no circle glyph.
                        let colour = supply_colour(if h.all_well() {
                            1.0
                        } else {
                            fraction.min(0.99)
                        });
                        let (rect, _) =
                            ui.allocate_exact_size(egui::vec2(12.0, 12.0), egui::Sense::hover());
                        ui.painter().circle_filled(rect.center(), 5.0, colour);
                        ui.label(&h.name);
                        ui.monospace(format!(
                            "{}/{} buses, {:.0} kW served, {:.0} kW shed",
                            h.buses_energised, h.buses_total, h.served_kw, h.shed_kw
                        ));
                        ui.end_row();
                    }
                });
            ui.separator();
            ui.heading("Generation now");
            mix_bar(ui, &v.mix);
            ui.label(format!(
                "renewable {:.0} %",
                renewable_share(&v.mix) * 100.0
            ));
            ui.separator();
            egui::CollapsingHeader::new(format!("Outages ({})", v.outages.len()))
                .id_salt("outages")
                .default_open(true)
                .show(ui, |ui| {
                    if v.outages.is_empty() {
                        ui.label("none");
                    }
                    egui::ScrollArea::vertical()
                        .max_height(120.0)
                        .show(ui, |ui| {
                            for o in &v.outages {
                                ui.label(format!("{} ({}): {}", o.id, o.neighbourhood, o.what));
                            }
                        });
                });
            ui.separator();
            ui.heading("Your home or pod");
            egui::ComboBox::from_id_salt("pod")
                .selected_text(state.pod.as_deref().unwrap_or("choose a home or pod"))
                .show_ui(ui, |ui| {
                    egui::ScrollArea::vertical()
                        .max_height(240.0)
                        .show(ui, |ui| {
                            for p in &v.pods {
                                ui.selectable_value(&mut state.pod, Some(p.clone()), p.as_str());
                            }
                        });
                });
            if let Some(p) = &v.pod {
                let s = p.state;
                let text = if !s.served {
                    "no supply".to_string()
                } else if s.shed_kw > 0.05 {
                    format!("{:.1} kW served, {:.1} kW shed", s.served_kw, s.shed_kw)
                } else {
                    format!("supplied, {:.1} kW", s.served_kw)
                };
                let demand = s.served_kw + s.shed_kw;
                let fraction = if !s.served {
                    0.0
                } else if demand > 0.0 {
                    s.served_kw / demand
                } else {
                    1.0
                };
                ui.colored_label(supply_colour(fraction), text);
                share_lines(ui, p);
                ui.label(format!("renewable {:.0} %", p.renewable * 100.0));
                for (id, kwh) in &p.suppliers {
                    ui.label(format!("from {id}: {kwh:.1} kWh"));
                }
                if state.ledger.available {
                    if ui
                        .button("Check my entries in the published ledger")
                        .clicked()
                    {
                        state.ledger.request = Some(p.id.clone());
                    }
                    if let Some((colour, text)) = state.ledger.verdict(&p.id) {
                        ui.colored_label(colour, text);
                    }
                }
            }
        });

    egui::Window::new("Generation over time")
        .id(egui::Id::new("citizen_mix"))
        .anchor(egui::Align2::LEFT_BOTTOM, [6.0, -6.0])
        .default_width(420.0)
        .default_open(false)
        .show(ctx, |ui| {
            egui_plot::Plot::new("citizen_mix_plot")
                .height(160.0)
                .legend(egui_plot::Legend::default())
                .x_axis_label("hours")
                .y_axis_label("kW")
                .allow_scroll(false)
                .show(ui, |plot| {
                    for (name, points) in &v.mix_series {
                        if points.len() > 1 {
                            plot.line(egui_plot::Line::new(
                                *name,
                                egui_plot::PlotPoints::from(points.clone()),
                            ));
                        }
                    }
                });
        });

    let filed = report_window(ctx, &v.now, &v.locations, &mut state.form, &state.reports);
    if let Some(r) = &filed {
        state.reports.push(r.clone());
    }
    filed
}

/// The commons' share and the tokens of a home or pod.
fn share_lines(ui: &mut egui::Ui, p: &PodSupply) {
    let per = |x: f64| {
        if p.households > 1 {
            format!(" ({:.2} per household)", x / p.households as f64)
        } else {
            String::new()
        }
    };
    let s = p.share;
    if s.power_kw.is_none() && s.water_l_per_h.is_none() && s.mesh_mbps.is_none() {
        ui.label("the commons are not short: no limits");
    }
    if let Some(kw) = s.power_kw {
        ui.label(format!("power share: {kw:.2} kW{}", per(kw)));
    }
    if let Some(l) = s.water_l_per_h {
        ui.label(format!("water ration: {l:.0} l/h{}", per(l)));
    }
    if let Some(m) = s.mesh_mbps {
        ui.label(format!("network share: {m:.1} Mbit/s{}", per(m)));
    }
    if p.households > 0 {
        ui.label(format!("eco-tokens: {:.3}{}", p.tokens, per(p.tokens)));
    }
}

#[allow(clippy::type_complexity, clippy::too_many_arguments)]
fn overlay(
    mut contexts: EguiContexts,
    clock: Option<Res<SimClock>>,
    site: Option<Res<SiteInfo>>,
    assets: Query<(
        &AssetTag,
        &AssetKind,
        Option<&Neighbourhood>,
        Option<&BusVoltage>,
        Option<&Demand>,
    )>,
    monitors: Query<&EnergyMonitor>,
    pods: Query<
        (
            Entity,
            &AssetTag,
            &Demand,
            Option<&Share>,
            Option<&Spec<kos_scene::LoadSpec>>,
        ),
        Or<(
            With<Spec<kos_scene::PodSpec>>,
            With<Spec<kos_scene::LoadSpec>>,
        )>,
    >,
    book: Option<Res<crate::commons::TokenBook>>,
    mix: Option<Res<MixHistory>>,
    mut state: ResMut<CitizenPanels>,
    mut filed: MessageWriter<CitizenReport>,
) -> Result {
    let ctx = contexts.ctx_mut()?;
    let (Some(clock), Some(site)) = (clock, site) else {
        return Ok(());
    };
    let states: Vec<AssetState> = assets
        .iter()
        .filter(|(_, k, ..)| matches!(k, AssetKind::Bus | AssetKind::Load | AssetKind::Pod))
        .map(|(id, kind, hood, v, d)| AssetState {
            id: id.0.clone(),
            kind: *kind,
            neighbourhood: hood.map(|h| h.0.clone()).unwrap_or_default(),
            energised: v.map(|v| v.energised),
            consumer: d.map(ConsumerState::from),
        })
        .collect();
    let (neighbourhoods, outages) = summarise(&states);
    // Homes are the loads with households; pods all.
    let mut pod_ids: Vec<String> = pods
        .iter()
        .filter(|(.., load)| load.is_none_or(|l| l.households > 0))
        .map(|(_, id, ..)| id.0.clone())
        .collect();
    pod_ids.sort();
    let pod = state.pod.as_ref().and_then(|want| {
        pods.iter()
            .find(|(_, id, ..)| &id.0 == want)
            .map(|(e, id, d, share, load)| PodSupply {
                share: share.copied().unwrap_or_default(),
                households: load.map_or(0, |l| l.households),
                tokens: book.as_ref().map_or(0.0, |b| b.of_load(&id.0)),
                ..PodSupply::of(&id.0, d, monitors.get(e).ok())
            })
    });
    let mut locations: Vec<String> = assets.iter().map(|(id, ..)| id.0.clone()).collect();
    locations.sort();
    let view = CitizenView {
        site: site.name.clone(),
        now: clock.now_text(),
        neighbourhoods,
        outages,
        mix: mix.as_deref().map(current_mix).unwrap_or_default(),
        mix_series: mix
            .as_deref()
            .map(|m| {
                m.series
                    .iter()
                    .filter(|(n, _)| *n != "load")
                    .map(|(n, s)| (*n, chart_points(s)))
                    .collect()
            })
            .unwrap_or_default(),
        pods: pod_ids,
        pod,
        locations,
    };
    if let Some(report) = citizen_overlay(ctx, &view, &mut state) {
        info!(
            "citizen report #{}: {:?} at {:?}",
            report.seq, report.kind, report.asset
        );
        filed.write(report);
    }
    Ok(())
}

/// Registers the citizens' overlay and its [`CitizenReport`] messages.
pub fn plugin(app: &mut App) {
    app.init_resource::<CitizenPanels>()
        .init_resource::<super::Selection>()
        .add_message::<CitizenReport>()
        .add_systems(EguiPrimaryContextPass, overlay);
}

#[cfg(test)]
#[path = "citizen_tests.rs"]
mod tests;
