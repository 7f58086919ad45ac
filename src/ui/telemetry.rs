//! The telemetry window of the overlay: connection, counts, stale assets, the measured
//! values of the selected asset, and citizen reports. Drawn from a plain view struct.
//! Report text is shown as plain text (egui never interprets it).

use bevy::prelude::*;
use bevy_egui::{EguiContexts, EguiPrimaryContextPass, egui};

use super::Selection;
use crate::model::AssetTag;
use crate::telemetry::{CitizenReports, Measured, Offline, Telemetry, TelemetryStats};

/// What the telemetry window shows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TelemetryView {
    /// Broker, without the password.
    pub broker: String,
    /// Site name in topics.
    pub site: String,
    /// Connected now.
    pub connected: bool,
    /// Last connection error.
    pub last_error: Option<String>,
    /// Measurements applied.
    pub applied: u64,
    /// Fallbacks to the model.
    pub stale: u64,
    /// Rejections by reason.
    pub rejected: Vec<(String, u64)>,
    /// Assets whose measurements are stale now.
    pub stale_assets: Vec<String>,
    /// Assets offline (death received).
    pub offline_assets: Vec<String>,
    /// The selected asset's measurement.
    pub selected: Option<SelectedMeasurement>,
    /// Citizen reports, newest first: (kind, reporter, asset, text).
    pub reports: Vec<(String, String, String, String)>,
}

/// The selected asset's measurement: id, values as `(name, value)` rows, stale.
pub type SelectedMeasurement = (String, Vec<(String, String)>, bool);

/// Draws the telemetry window.
pub fn telemetry_window(ctx: &egui::Context, v: &TelemetryView) {
    egui::Window::new("Telemetry")
        .id(egui::Id::new("telemetry"))
        .anchor(egui::Align2::LEFT_BOTTOM, [6.0, -6.0])
        .default_width(300.0)
        .default_open(false)
        .show(ctx, |ui| {
            let (color, text) = if v.connected {
                (
                    egui::Color32::from_rgb(60, 160, 80),
                    format!("live: {} ({})", v.broker, v.site),
                )
            } else {
                (
                    egui::Color32::from_rgb(200, 120, 40),
                    format!("on the model: {} unreachable", v.broker),
                )
            };
            ui.colored_label(color, text);
            if let (false, Some(e)) = (v.connected, &v.last_error) {
                ui.small(e.as_str());
            }
            ui.label(format!("applied {}   stale {}", v.applied, v.stale));
            if !v.rejected.is_empty() {
                let parts: Vec<String> =
                    v.rejected.iter().map(|(k, n)| format!("{k} {n}")).collect();
                ui.label(format!("rejected: {}", parts.join(", ")));
            }
            if !v.stale_assets.is_empty() {
                ui.colored_label(
                    egui::Color32::from_rgb(200, 120, 40),
                    format!("stale (model): {}", v.stale_assets.join(", ")),
                );
            }
            if !v.offline_assets.is_empty() {
                ui.label(format!("offline: {}", v.offline_assets.join(", ")));
            }
            if let Some((id, rows, stale)) = &v.selected {
                ui.separator();
                ui.strong(format!(
                    "{id}: {}",
                    if *stale {
                        "stale, model in charge"
                    } else {
                        "measured"
                    }
                ));
                egui::Grid::new("measured").num_columns(2).show(ui, |ui| {
                    for (k, val) in rows {
                        ui.label(k);
                        ui.monospace(val);
                        ui.end_row();
                    }
                });
            }
            ui.separator();
            egui::CollapsingHeader::new(format!("citizen reports ({})", v.reports.len()))
                .default_open(true)
                .show(ui, |ui| {
                    egui::ScrollArea::vertical()
                        .max_height(160.0)
                        .show(ui, |ui| {
                            for (kind, reporter, asset, text) in &v.reports {
                                ui.label(format!("{kind} by {reporter} {asset}"));
                                ui.small(text.as_str());
                            }
                        });
                });
        });
}

fn gather(
    world_stats: &TelemetryStats,
    t: &Telemetry,
    reports: Option<&CitizenReports>,
) -> TelemetryView {
    TelemetryView {
        broker: t.broker.clone(),
        site: t.site.clone(),
        connected: world_stats.connected,
        last_error: world_stats.last_error.clone(),
        applied: world_stats.applied,
        stale: world_stats.stale,
        rejected: world_stats
            .rejected
            .iter()
            .map(|(k, n)| (k.to_string(), *n))
            .collect(),
        reports: reports
            .map(|r| {
                r.recent
                    .iter()
                    .rev()
                    .take(50)
                    .map(|r| {
                        (
                            r.kind.key().to_string(),
                            r.reporter.clone(),
                            r.asset
                                .clone()
                                .map(|a| format!("on {a}"))
                                .unwrap_or_default(),
                            r.text.clone(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default(),
        ..Default::default()
    }
}

#[allow(clippy::type_complexity)]
fn overlay(
    mut contexts: EguiContexts,
    telemetry: Option<Res<Telemetry>>,
    stats: Option<Res<TelemetryStats>>,
    reports: Option<Res<CitizenReports>>,
    selection: Res<Selection>,
    assets: Query<(Entity, &AssetTag, Option<&Measured>, Has<Offline>)>,
) -> Result {
    let (Some(t), Some(stats)) = (telemetry, stats) else {
        return Ok(());
    };
    let ctx = contexts.ctx_mut()?;
    let mut view = gather(&stats, &t, reports.as_deref());
    for (e, tag, m, offline) in &assets {
        if m.is_some_and(|m| m.stale) {
            view.stale_assets.push(tag.0.clone());
        }
        if offline {
            view.offline_assets.push(tag.0.clone());
        }
        if selection.0 == Some(e)
            && let Some(m) = m
        {
            {
                let rows = serde_json::to_value(m.values)
                    .ok()
                    .and_then(|v| v.as_object().cloned())
                    .map(|o| o.into_iter().map(|(k, v)| (k, v.to_string())).collect())
                    .unwrap_or_default();
                view.selected = Some((tag.0.clone(), rows, m.stale));
            }
        }
    }
    view.stale_assets.sort();
    view.offline_assets.sort();
    telemetry_window(ctx, &view);
    Ok(())
}

/// Registers the telemetry window (drawn only when the twin runs live).
pub fn plugin(app: &mut App) {
    app.add_systems(EguiPrimaryContextPass, overlay);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_draws_hostile_text_as_text() {
        let ctx = egui::Context::default();
        let view = TelemetryView {
            broker: "mqtt://127.0.0.1:1883".into(),
            site: "tiny".into(),
            connected: true,
            applied: 3,
            rejected: vec![("not_json".into(), 2)],
            stale_assets: vec!["pv1".into()],
            selected: Some(("pv1".into(), vec![("p_kw".into(), "3.5".into())], true)),
            reports: vec![(
                "damage".into(),
                "r1".into(),
                "".into(),
                "<script>alert(1)</script>\u{FFFD}".into(),
            )],
            ..Default::default()
        };
        ctx.begin_pass(egui::RawInput::default());
        telemetry_window(&ctx, &view);
        let mut out = ctx.end_pass();
        out.textures_delta.clear();
    }
}
