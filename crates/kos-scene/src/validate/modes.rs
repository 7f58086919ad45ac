//! Checks of the emergency modes.

use std::collections::BTreeSet;

use super::{Problem, bad};
use crate::format::*;

/// Modes: ids used once, factors and reserves in range, priorities of loads and pods that
/// exist.
pub(super) fn check_modes(s: &Scene, out: &mut Vec<Problem>) {
    let mut ids = BTreeSet::new();
    let consumers: BTreeSet<&str> = s
        .loads
        .iter()
        .map(|l| l.id.as_str())
        .chain(s.pods.iter().map(|p| p.id.as_str()))
        .collect();
    for m in &s.modes {
        if !ids.insert(m.id.as_str()) {
            out.push(bad(&m.id, "id", "another mode has this id"));
        }
        if m.rules.is_empty() {
            out.push(bad(&m.id, "rules", "a mode needs at least one rule"));
        }
        for r in &m.rules {
            match r {
                ModeRule::DerateLines { factor, .. } | ModeRule::DerateTransformers { factor } => {
                    if !(factor.is_finite() && (0.1..=1.5).contains(factor)) {
                        out.push(bad(
                            &m.id,
                            "factor",
                            format!("a rating factor must lie in 0.1..=1.5, not {factor}"),
                        ));
                    }
                }
                ModeRule::Priority { asset, .. } => {
                    if !consumers.contains(asset.as_str()) {
                        out.push(bad(
                            &m.id,
                            "asset",
                            format!("`{asset}` is not a load or pod"),
                        ));
                    }
                }
                // Checked with the commons.
                ModeRule::Shelter { .. } => {}
                ModeRule::BatteryReserve { soc_min } => {
                    if !(soc_min.is_finite() && (0.0..=1.0).contains(soc_min)) {
                        out.push(bad(
                            &m.id,
                            "soc_min",
                            format!("a state of charge must lie in 0..=1, not {soc_min}"),
                        ));
                    }
                }
            }
        }
    }
}
