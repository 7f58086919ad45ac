//! Energy panels: the selected asset's monitor and wear with a chart of its power, the
//! community's generation mix over time, and the window that plugs a new module in while
//! the twin runs.

use bevy_egui::egui;
use egui_plot::{Legend, Line, Plot, PlotPoints};

use crate::model::AssetKind;
use crate::sim::modules::{ModuleKind, PlugInModule};
use crate::sim::monitor::{EnergyMonitor, chart_points};

/// What the inspector's energy section shows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EnergyView {
    /// (name, value) rows: energy, renewable fraction, CO2, efficiency, wear.
    pub rows: Vec<(String, String)>,
    /// Power over time: (hours since start, kW).
    pub power: Vec<[f64; 2]>,
    /// Largest suppliers: (asset id, kWh).
    pub suppliers: Vec<(String, f64)>,
}

impl EnergyView {
    /// Rows and chart of a monitor, with wear rows already formatted by the caller.
    pub fn of(kind: AssetKind, m: &EnergyMonitor, wear: Vec<(String, String)>) -> Self {
        let mut rows = Vec::new();
        let mut row = |k: &str, v: String| rows.push((k.to_string(), v));
        match kind {
            AssetKind::Load | AssetKind::Pod => {
                row("energy used", format!("{:.1} kWh", m.used_kwh));
                row("share of losses", format!("{:.2} kWh", m.loss_kwh));
            }
            AssetKind::Storage => {
                row("charged", format!("{:.1} kWh", m.used_kwh));
                row("discharged", format!("{:.1} kWh", m.produced_kwh));
            }
            AssetKind::Line | AssetKind::Transformer | AssetKind::Switch => {
                row("energy through", format!("{:.1} kWh", m.produced_kwh));
                row("losses", format!("{:.2} kWh", m.loss_kwh));
            }
            _ => {
                row("energy produced", format!("{:.1} kWh", m.produced_kwh));
                if m.curtailed_kwh > 0.0 {
                    row("curtailed", format!("{:.1} kWh", m.curtailed_kwh));
                }
            }
        }
        if m.traced_kwh > 0.0 {
            row(
                "renewable",
                format!("{:.1} %", m.renewable_fraction() * 100.0),
            );
            row("CO2 intensity", format!("{:.0} g/kWh", m.co2_intensity()));
        }
        row("efficiency", format!("{:.1} %", m.efficiency(kind) * 100.0));
        rows.extend(wear);
        let mut suppliers: Vec<(String, f64)> = m
            .suppliers()
            .map(|(id, kwh)| (id.to_string(), kwh))
            .collect();
        if m.other_suppliers_kwh > 0.0 {
            suppliers.push(("others".into(), m.other_suppliers_kwh));
        }
        Self {
            rows,
            power: chart_points(&m.power),
            suppliers,
        }
    }
}

/// Draws the energy section inside the inspector.
pub fn energy_section(ui: &mut egui::Ui, v: &EnergyView) {
    egui::Grid::new("energy")
        .num_columns(2)
        .striped(true)
        .show(ui, |ui| {
            for (k, val) in &v.rows {
                ui.label(k);
                ui.monospace(val);
                ui.end_row();
            }
        });
    if v.power.len() > 1 {
        Plot::new("asset_power")
            .height(120.0)
            .x_axis_label("hours")
            .y_axis_label("kW")
            .allow_scroll(false)
            .show(ui, |plot| {
                plot.line(Line::new("power", PlotPoints::from(v.power.clone())));
            });
    }
    if !v.suppliers.is_empty() {
        egui::CollapsingHeader::new("supplied by")
            .default_open(true)
            .show(ui, |ui| {
                for (id, kwh) in &v.suppliers {
                    ui.label(format!("{id}: {kwh:.2} kWh"));
                }
            });
    }
}

/// The community's power by source over time, for the mix chart: (name, points).
pub type MixSeries = Vec<(&'static str, Vec<[f64; 2]>)>;

/// Draws the generation-mix window.
pub fn mix_window(ctx: &egui::Context, series: &MixSeries) {
    egui::Window::new("Energy mix")
        .id(egui::Id::new("energy_mix"))
        .anchor(egui::Align2::LEFT_BOTTOM, [246.0, -6.0])
        .default_width(460.0)
        .default_open(true)
        .show(ctx, |ui| {
            Plot::new("mix")
                .height(170.0)
                .legend(Legend::default().position(egui_plot::Corner::LeftTop))
                .x_axis_label("hours")
                .y_axis_label("kW")
                .allow_scroll(false)
                .show(ui, |plot| {
                    for (name, points) in series {
                        // A source the community does not have stays out of the legend.
                        if points.len() > 1 && points.iter().any(|p| p[1].abs() > 1e-9) {
                            plot.line(Line::new(*name, PlotPoints::from(points.clone())));
                        }
                    }
                });
        });
}

/// State of the plug-in form (view state).
#[derive(Debug, Clone, PartialEq)]
pub struct PlugInForm {
    /// Kind of module.
    pub kind: ModuleKind,
    /// Bus id.
    pub bus: String,
    /// Rated power, kW.
    pub rated_kw: f64,
}

impl Default for PlugInForm {
    fn default() -> Self {
        Self {
            kind: ModuleKind::Solar,
            bus: String::new(),
            rated_kw: 10.0,
        }
    }
}

/// Draws the plug-in window; returns the request when the button was pressed.
pub fn plug_in_window(
    ctx: &egui::Context,
    form: &mut PlugInForm,
    buses: &[String],
) -> Option<PlugInModule> {
    let mut request = None;
    egui::Window::new("Plug in a module")
        .id(egui::Id::new("plug_in"))
        .anchor(egui::Align2::RIGHT_BOTTOM, [-6.0, -6.0])
        .default_open(false)
        .show(ctx, |ui| {
            egui::ComboBox::from_label("kind")
                .selected_text(form.kind.label())
                .show_ui(ui, |ui| {
                    for k in ModuleKind::ALL {
                        ui.selectable_value(&mut form.kind, k, k.label());
                    }
                });
            if form.bus.is_empty()
                && let Some(b) = buses.first()
            {
                form.bus = b.clone();
            }
            egui::ComboBox::from_label("bus")
                .selected_text(form.bus.as_str())
                .show_ui(ui, |ui| {
                    egui::ScrollArea::vertical()
                        .max_height(240.0)
                        .show(ui, |ui| {
                            for b in buses {
                                ui.selectable_value(&mut form.bus, b.clone(), b.as_str());
                            }
                        });
                });
            ui.add(
                egui::Slider::new(&mut form.rated_kw, 1.0..=1000.0)
                    .logarithmic(true)
                    .text("rated kW"),
            );
            if ui.button("Plug in").clicked() && !form.bus.is_empty() {
                request = Some(PlugInModule {
                    kind: form.kind,
                    bus: form.bus.clone(),
                    rated_kw: form.rated_kw,
                });
            }
        });
    request
}

#[cfg(test)]
mod tests {
    use super::*;

    fn monitor() -> EnergyMonitor {
        let mut m = EnergyMonitor {
            used_kwh: 10.0,
            loss_kwh: 0.5,
            traced_kwh: 10.0,
            renewable_kwh: 4.0,
            co2_g: 1800.0,
            ..Default::default()
        };
        for (id, kwh) in [("pv-1", 4.0), ("wt1", 6.0)] {
            m.supplied_by(id, kos_energy::variation::key_of(id), kwh);
        }
        m.sort_suppliers();
        for h in 0..30 {
            m.power.push(h as f64 / 60.0, 2.0);
        }
        m
    }

    #[test]
    fn a_consumer_shows_its_mix_intensity_efficiency_and_suppliers() {
        let v = EnergyView::of(AssetKind::Load, &monitor(), vec![]);
        let row = |k: &str| v.rows.iter().find(|r| r.0 == k).map(|r| r.1.clone());
        assert_eq!(row("energy used").as_deref(), Some("10.0 kWh"));
        assert_eq!(row("renewable").as_deref(), Some("40.0 %"));
        assert_eq!(row("CO2 intensity").as_deref(), Some("180 g/kWh"));
        // Served over served plus its share of the losses: 10 / 10.5.
        assert_eq!(row("efficiency").as_deref(), Some("95.2 %"));
        assert_eq!(v.suppliers[0].0, "wt1");
        // Thirty one-minute samples chart as three ten-minute means.
        assert_eq!(v.power.len(), 3);
        assert!(v.power.iter().all(|p| p[1] == 2.0));
    }

    #[test]
    fn the_panels_draw_on_a_bare_context() {
        let ctx = egui::Context::default();
        let v = EnergyView::of(AssetKind::Load, &monitor(), vec![("k".into(), "v".into())]);
        let series: MixSeries = vec![
            ("solar", vec![[0.0, 1.0], [1.0, 2.0]]),
            ("other", vec![[0.0, 0.0], [1.0, 0.0]]),
        ];
        let mut form = PlugInForm::default();
        for _ in 0..2 {
            let mut out = ctx.run_ui(egui::RawInput::default(), |ui| {
                egui::Window::new("t").show(ui.ctx(), |ui| energy_section(ui, &v));
                mix_window(ui.ctx(), &series);
                assert!(plug_in_window(ui.ctx(), &mut form, &["b1".into()]).is_none());
            });
            out.textures_delta.clear();
        }
        // Closed, the form asks for nothing and keeps its defaults.
        assert_eq!(form, PlugInForm::default());
    }
}
