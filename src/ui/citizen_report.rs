//! Citizens' reports: the form of the citizens' view (kind, place, text), its checks, and the
//! `CitizenReport` message the browser build publishes.

use bevy::prelude::*;
use bevy_egui::egui;
use serde::Serialize;

/// Kind of a citizen's report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ReportKind {
    /// No power (or water, or network).
    #[default]
    Outage,
    /// Something broken.
    Damage,
    /// Someone misusing the infrastructure.
    Misuse,
}

impl ReportKind {
    /// Every kind, in menu order.
    pub const ALL: [ReportKind; 3] = [ReportKind::Outage, ReportKind::Damage, ReportKind::Misuse];

    /// Name for people.
    pub fn label(self) -> &'static str {
        match self {
            ReportKind::Outage => "outage",
            ReportKind::Damage => "damage",
            ReportKind::Misuse => "misuse",
        }
    }
}

/// Longest report text, characters.
pub const REPORT_MAX_CHARS: usize = 500;

/// A citizen's report, checked.
#[derive(Message, Debug, Clone, PartialEq, Serialize)]
pub struct CitizenReport {
    /// Number of the report in this session, from 1.
    pub seq: u32,
    /// Kind.
    pub kind: ReportKind,
    /// The asset it concerns ("" for none).
    pub asset: String,
    /// What the citizen wrote (trimmed).
    pub text: String,
    /// Simulated local time it was filed at.
    pub at: String,
}

/// State of the report form (view state).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReportForm {
    /// Kind.
    pub kind: ReportKind,
    /// Asset id ("" for none).
    pub asset: String,
    /// Text being written.
    pub text: String,
    /// Why the last submission was refused.
    pub error: Option<String>,
}

/// Checks a report: text present, at most [`REPORT_MAX_CHARS`] characters, no control
/// characters but line breaks and tabs, and an asset the twin knows (or none). Returns the
/// trimmed text.
pub fn validate_report(text: &str, asset: &str, locations: &[String]) -> Result<String, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("please describe the problem".into());
    }
    let n = text.chars().count();
    if n > REPORT_MAX_CHARS {
        return Err(format!(
            "the text is too long ({n} characters, at most {REPORT_MAX_CHARS})"
        ));
    }
    if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err("the text contains control characters".into());
    }
    if !asset.is_empty() && !locations.iter().any(|l| l == asset) {
        return Err(format!("unknown location {asset:?}"));
    }
    Ok(text.to_string())
}

/// Draws the report form; returns the report filed this frame, if any (the caller keeps it
/// in `reports`).
pub fn report_window(
    ctx: &egui::Context,
    now: &str,
    locations: &[String],
    form: &mut ReportForm,
    reports: &[CitizenReport],
) -> Option<CitizenReport> {
    let mut filed = None;
    egui::Window::new("Report a problem")
        .id(egui::Id::new("citizen_report"))
        .anchor(egui::Align2::RIGHT_BOTTOM, [-6.0, -6.0])
        .default_open(false)
        .default_width(300.0)
        .show(ctx, |ui| {
            egui::ComboBox::from_label("kind")
                .selected_text(form.kind.label())
                .show_ui(ui, |ui| {
                    for k in ReportKind::ALL {
                        ui.selectable_value(&mut form.kind, k, k.label());
                    }
                });
            egui::ComboBox::from_label("where")
                .selected_text(if form.asset.is_empty() {
                    "(not sure)"
                } else {
                    form.asset.as_str()
                })
                .show_ui(ui, |ui| {
                    egui::ScrollArea::vertical()
                        .max_height(240.0)
                        .show(ui, |ui| {
                            ui.selectable_value(&mut form.asset, String::new(), "(not sure)");
                            for l in locations {
                                ui.selectable_value(&mut form.asset, l.clone(), l.as_str());
                            }
                        });
                });
            ui.add(
                egui::TextEdit::multiline(&mut form.text)
                    .hint_text("what happened?")
                    .char_limit(REPORT_MAX_CHARS)
                    .desired_rows(3),
            );
            if ui.button("Send report").clicked() {
                match validate_report(&form.text, &form.asset, locations) {
                    Ok(text) => {
                        let report = CitizenReport {
                            seq: reports.len() as u32 + 1,
                            kind: form.kind,
                            asset: form.asset.clone(),
                            text,
                            at: now.to_string(),
                        };
                        form.text.clear();
                        form.error = None;
                        filed = Some(report);
                    }
                    Err(e) => form.error = Some(e),
                }
            }
            if let Some(e) = &form.error {
                ui.colored_label(egui::Color32::from_rgb(200, 60, 40), e);
            }
            if !reports.is_empty() {
                ui.separator();
                ui.label(format!("{} reports sent", reports.len()));
                for r in reports.iter().rev().take(5) {
                    ui.label(format!(
                        "#{} {} {}: {}",
                        r.seq,
                        r.kind.label(),
                        r.asset,
                        r.text
                    ));
                }
            }
        });
    filed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_are_checked() {
        let locs = vec!["pod-1".to_string()];
        assert_eq!(
            validate_report("  no light  ", "pod-1", &locs),
            Ok("no light".into())
        );
        assert_eq!(
            validate_report("line down\nnear school", "", &locs),
            Ok("line down\nnear school".into())
        );
        assert!(validate_report("   ", "", &locs).is_err());
        assert!(validate_report(&"x".repeat(REPORT_MAX_CHARS + 1), "", &locs).is_err());
        assert!(validate_report(&"é".repeat(REPORT_MAX_CHARS), "", &locs).is_ok());
        assert!(validate_report("bad\u{1b}[2J", "", &locs).is_err());
        assert!(validate_report("ok", "nowhere", &locs).is_err());
    }
}
