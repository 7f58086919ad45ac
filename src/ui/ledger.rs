//! The Ledger window of the overlay: the latest checkpoint, the entries of the selected asset,
//! and whether its latest entry is proven included in the published checkpoint (an inclusion
//! proof computed from the tiles on disk and checked against the signed root).

use bevy::prelude::*;
use bevy_egui::{EguiContexts, EguiPrimaryContextPass, egui};
use kos_ledger::verify;

use super::Selection;
use crate::ledger::Ledger;
use crate::model::AssetTag;

/// Entries of the selected asset shown.
const SHOWN: usize = 12;

/// What the Ledger window shows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LedgerView {
    pub dir: String,
    pub size: u64,
    pub root: String,
    pub vkey: String,
    pub error: Option<String>,
    /// The selected asset, its latest entries (index, time, kind, text), newest first, and
    /// the proof status of the newest.
    pub selected: Option<(String, Vec<(u64, String, String)>, Option<ProofStatus>)>,
}

/// The outcome of proving an entry's inclusion.
#[derive(Debug, Clone, PartialEq)]
pub struct ProofStatus {
    pub index: u64,
    pub tree_size: u64,
    /// `Ok(proof length)` or why it failed.
    pub outcome: Result<usize, String>,
}

/// The last proof computed, reused while the checkpoint and the entry are the same.
#[derive(Resource, Default)]
struct ProofCache(Option<ProofStatus>);

/// Proves entry `index` against the published checkpoint in `dir`.
pub fn prove(ledger: &Ledger, index: u64) -> ProofStatus {
    let outcome = kos_ledger::NoteVerifier::parse(ledger.vkey())
        .map_err(|e| e.to_string())
        .and_then(|v| {
            let log = ledger.place().reader().map_err(|e| e.to_string())?;
            verify::prove(&log, &v, index).map_err(|e| e.to_string())
        })
        .map(|p| p.proof.len());
    ProofStatus {
        index,
        tree_size: ledger.checkpoint().size,
        outcome,
    }
}

/// Gathers the view; `proof` is called for the newest entry of the selected asset.
pub fn gather(
    ledger: &Ledger,
    selected: Option<&str>,
    proof: impl FnOnce(u64) -> ProofStatus,
) -> LedgerView {
    let cp = ledger.checkpoint();
    let selected = selected.map(|id| {
        let rows: Vec<(u64, String, String)> = ledger
            .recent
            .iter()
            .rev()
            .filter(|(_, e)| e.body.assets().contains(&id))
            .take(SHOWN)
            .map(|(i, e)| (*i, kos_scene::time::format_datetime(e.t), e.body.describe()))
            .collect();
        let status = rows.first().map(|r| proof(r.0));
        (id.to_string(), rows, status)
    });
    LedgerView {
        dir: ledger.place().to_string(),
        size: cp.size,
        root: kos_ledger::base64(&cp.root),
        vkey: ledger.vkey().to_string(),
        error: ledger.error.clone(),
        selected,
    }
}

/// Draws the Ledger window.
pub fn ledger_window(ctx: &egui::Context, v: &LedgerView) {
    egui::Window::new("Ledger")
        .id(egui::Id::new("ledger"))
        .anchor(egui::Align2::RIGHT_BOTTOM, [-6.0, -6.0])
        .default_width(360.0)
        .default_open(false)
        .show(ctx, |ui| {
            ui.label(format!("{}: {} entries", v.dir, v.size));
            ui.monospace(format!("root {}", v.root));
            ui.small(format!("verifier key {}", v.vkey));
            if let Some(e) = &v.error {
                ui.colored_label(egui::Color32::from_rgb(200, 60, 60), e.as_str());
            }
            let Some((id, rows, status)) = &v.selected else {
                ui.label("Select an asset to see its entries.");
                return;
            };
            ui.separator();
            ui.strong(format!("{id}: {} recent entries", rows.len()));
            if let Some(s) = status {
                match &s.outcome {
                    Ok(n) => ui.colored_label(
                        egui::Color32::from_rgb(60, 160, 80),
                        format!("entry {} is in the signed checkpoint of size {} ({n}-hash proof checked)", s.index, s.tree_size),
                    ),
                    Err(e) => ui.colored_label(
                        egui::Color32::from_rgb(200, 60, 60),
                        format!("entry {}: no proof: {e}", s.index),
                    ),
                };
            }
            egui::ScrollArea::vertical().max_height(220.0).show(ui, |ui| {
                for (i, t, text) in rows {
                    ui.small(format!("#{i}  {t}"));
                    ui.label(text.as_str());
                }
            });
        });
}

fn window(
    mut contexts: EguiContexts,
    ledger: Option<Res<Ledger>>,
    selection: Res<Selection>,
    tags: Query<&AssetTag>,
    mut cache: ResMut<ProofCache>,
) -> Result {
    let Some(ledger) = ledger else {
        return Ok(());
    };
    let id = selection
        .0
        .and_then(|e| tags.get(e).ok())
        .map(|t| t.0.as_str());
    let size = ledger.checkpoint().size;
    let view = gather(&ledger, id, |index| match &cache.0 {
        Some(s) if s.index == index && s.tree_size == size => s.clone(),
        _ => {
            let s = prove(&ledger, index);
            cache.0 = Some(s.clone());
            s
        }
    });
    ledger_window(contexts.ctx_mut()?, &view);
    Ok(())
}

pub(super) fn plugin(app: &mut App) {
    app.init_resource::<ProofCache>()
        .add_systems(EguiPrimaryContextPass, window);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::{LedgerConfig, attach};
    use kos_ledger::NoteSigner;
    use kos_ledger::note::ED25519;

    #[test]
    fn the_window_shows_the_selected_assets_entries_proven_in_the_checkpoint() {
        let dir =
            std::env::temp_dir().join(format!("kos-twin-ledger-window-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let key = dir.join("log.key");
        let signer = NoteSigner::from_seed("window.example/ledger", ED25519, [4; 32]).unwrap();
        kos_ledger::keys::write_private(&key, &signer).unwrap();
        let scene = crate::scene::default_scene();
        let mut app = crate::app::headless_app(&scene);
        let config = LedgerConfig {
            place: crate::ledger::Place::Dir(dir.join("log")),
            key: Some(key),
        };
        attach(&mut app, &config, &scene).unwrap();
        crate::sim::run_ticks(&mut app, 130);
        let ledger = app.world().resource::<Ledger>();
        let view = gather(ledger, Some("clinic"), |i| prove(ledger, i));
        assert_eq!(view.size, ledger.checkpoint().size);
        let (id, rows, status) = view.selected.clone().unwrap();
        assert_eq!(id, "clinic");
        // Its birth, its commissioning (from the scene's DNA) and two hours of energy and
        // water, newest first.
        assert_eq!(rows.len(), 6, "{rows:?}");
        assert!(rows[0].2.starts_with("clinic drew"), "{rows:?}");
        assert!(rows[1].2.starts_with("clinic used"), "{rows:?}");
        assert!(rows[2].2.starts_with("clinic drew"), "{rows:?}");
        assert!(rows[3].2.starts_with("clinic used"), "{rows:?}");
        assert!(
            rows[4].2.contains("Commissioning: commissioned 2014-11-10"),
            "{rows:?}"
        );
        assert!(rows[5].2.ends_with("in service"), "{rows:?}");
        let status = status.unwrap();
        assert_eq!(status.index, rows[0].0);
        assert!(status.outcome.is_ok(), "{status:?}");
        // A hash of the proof's path changed on disk (entry 1's, the sibling of entry 0):
        // the proof fails.
        let tile = dir.join("log/tile/0/000");
        let mut b = std::fs::read(&tile).unwrap();
        b[32 + 5] ^= 1;
        std::fs::write(&tile, b).unwrap();
        let failed = prove(ledger, 0);
        assert!(failed.outcome.is_err());
        let ctx = bevy_egui::egui::Context::default();
        for _ in 0..2 {
            let mut out = ctx.run_ui(bevy_egui::egui::RawInput::default(), |ui| {
                ledger_window(ui.ctx(), &view)
            });
            out.textures_delta.clear();
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
