//! The citizens' view's side of the page's ledger check (the browser build): what the page
//! said of the published ledger, and the check a citizen asked for.

use bevy_egui::egui;

/// The page's check that a home's or pod's entries are in the published ledger (the browser
/// build, where the page checks with its own verifier; the desktop has its Ledger window).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LedgerCheck {
    /// The page has a published ledger to check against.
    pub available: bool,
    /// The asset checked last (or being checked).
    pub asset: String,
    /// `checking`, `ok` or `failed`.
    pub state: String,
    /// The page's verdict in words.
    pub text: String,
    /// A check the citizen asked for, for the page to run.
    pub request: Option<String>,
}

impl LedgerCheck {
    /// What to show for `asset`: the verdict's colour and text, if the page checked it.
    pub fn verdict(&self, asset: &str) -> Option<(egui::Color32, &str)> {
        if self.asset != asset || self.text.is_empty() {
            return None;
        }
        let colour = match self.state.as_str() {
            "ok" => egui::Color32::from_rgb(60, 160, 80),
            "failed" => egui::Color32::from_rgb(210, 70, 60),
            _ => egui::Color32::GRAY,
        };
        Some((colour, &self.text))
    }
}
