//! The resource ledger in the twin: what each tick produced, appended to a transparency log
//! on disk (kos-ledger) in the `Ledger` stage of the tick.
//!
//! Per tick, in this order: the births of every asset of the scene (first tick), units put
//! in or out of service, alarms, battery wear milestones, eco-token mints and spends, equity
//! caps, and at the end of every period (an hour) the energy each consumer used with its
//! suppliers from flow tracing, the energy each unit gave, the water each consumer drew and
//! the limits the commons set. Within a kind, entries follow the scene's order, so a run with the
//! same scene, seed and inputs writes the same log, byte for byte.

pub mod cli;
mod commons;
pub mod place;

pub use place::Place;

use std::collections::HashMap;
use std::path::PathBuf;

use bevy::prelude::*;
use kos_ledger::entry::{Body, DnaEvent, Supply};
use kos_ledger::{Entry, LogWriter, NoteSigner};
use kos_scene::{GeneratorSpec, StorageSpec};
use place::BoxedStorage;
use serde_json::{Value, json};

use crate::commons::{EquityState, TokenBook, WaterStores};
use crate::model::*;
use crate::sim::alarms::{Alarm, Alarms, Severity};
use crate::sim::monitor::EnergyMonitor;
use crate::sim::wear::BatteryWear;
use crate::sim::{SimClock, SimSet};

/// Simulated seconds per energy period.
pub const PERIOD_S: i64 = 3600;
/// Entries kept in memory for the Ledger window.
pub const RECENT: usize = 5000;
/// The environment variable that may hold the log's private key (instead of a file).
pub const KEY_ENV: &str = "KOS_LEDGER_KEY";

/// Where the log goes and which key signs it.
#[derive(Debug, Clone)]
pub struct LedgerConfig {
    /// Where the log lies (a directory or an S3 prefix, in the tiles layout).
    pub place: Place,
    /// The private key file; created with owner-only permissions when missing. Left out:
    /// `$KOS_LEDGER_KEY`, else `<dir>.key` for a local log.
    pub key: Option<PathBuf>,
}

/// The log's origin (and its key's name) for a site: `<site slug>.kos-twin/ledger`.
pub fn origin_for(site_name: &str) -> String {
    format!("{}.kos-twin/ledger", kos_scene::site_slug(site_name))
}

/// The open log and what the next entries are measured from.
#[derive(Resource)]
pub struct Ledger {
    writer: LogWriter<BoxedStorage>,
    place: Place,
    vkey: String,
    started: bool,
    /// The scene's recorded asset history, appended on the first tick.
    history: Vec<Body>,
    alarms_seen: u64,
    in_service: HashMap<Entity, bool>,
    capacity_pct: HashMap<Entity, i64>,
    /// Simulated seconds since the start at the end of the last period.
    period_end: i64,
    /// Per consumer or unit: used and produced kWh, and per supplier kWh, at the last period.
    period_start: HashMap<Entity, (f64, f64, HashMap<String, f64>)>,
    /// What it has recorded of the commons.
    commons: commons::CommonsSeen,
    /// Enacted proposals recorded.
    enacted_seen: usize,
    /// The last entries appended, with their indices, oldest first (for the Ledger window).
    pub recent: std::collections::VecDeque<(u64, Entry)>,
    /// Entries appended since the start of the run.
    pub appended: u64,
    /// Why the ledger stopped, if it did: nothing is appended after an error.
    pub error: Option<String>,
}

impl Ledger {
    /// The verifier key of the log.
    pub fn vkey(&self) -> &str {
        &self.vkey
    }

    /// Where the log lies.
    pub fn place(&self) -> &Place {
        &self.place
    }

    /// The latest committed checkpoint.
    pub fn checkpoint(&self) -> &kos_ledger::Checkpoint {
        self.writer.checkpoint()
    }

    /// The report's `ledger` section.
    pub fn report(&self) -> Value {
        let cp = self.writer.checkpoint();
        json!({
            "dir": self.place.to_string(),
            "vkey": self.vkey,
            "appended": self.appended,
            "checkpoint": {
                "origin": cp.origin,
                "size": cp.size,
                "root": kos_ledger::base64(&cp.root),
                "text": String::from_utf8_lossy(self.writer.checkpoint_note()),
            },
            "error": self.error,
        })
    }
}

/// The signing key: the file given, `$KOS_LEDGER_KEY`, or `<dir>.key` (created when missing).
fn signing_key(config: &LedgerConfig, name: &str) -> anyhow::Result<NoteSigner> {
    use kos_ledger::keys::load_or_create;
    use kos_ledger::note::ED25519;
    if config.key.is_none()
        && let Ok(text) = std::env::var(KEY_ENV)
    {
        return NoteSigner::from_private_text(&text)
            .map_err(|e| anyhow::anyhow!("${KEY_ENV}: {e}"));
    }
    let path = config
        .key
        .clone()
        .or_else(|| config.place.beside("key"))
        .ok_or_else(|| {
            anyhow::anyhow!(
                "{}: a log in a bucket needs --ledger-key FILE or ${KEY_ENV}",
                config.place
            )
        })?;
    let (signer, created) = load_or_create(&path, name, ED25519)?;
    if created {
        eprintln!(
            "ledger: created the signing key {} (keep it private)",
            path.display()
        );
    }
    Ok(signer)
}

/// Opens (or creates) the log of the scene's site and adds the system that appends to it,
/// from the next tick on. The first tick records the scene's assets and their recorded
/// history (commissioning and maintenance from their Infrastructure DNA).
pub fn attach(
    app: &mut App,
    config: &LedgerConfig,
    scene: &kos_scene::Scene,
) -> anyhow::Result<()> {
    let signer = signing_key(config, &origin_for(&scene.site.name))?;
    let vkey = signer.verifier_key();
    let writer = LogWriter::open(config.place.storage()?, signer)
        .map_err(|e| anyhow::anyhow!("{}: {e}", config.place))?;
    if let Some(vkey_file) = config.place.beside("vkey") {
        std::fs::write(&vkey_file, format!("{vkey}\n"))
            .map_err(|e| anyhow::anyhow!("{}: {e}", vkey_file.display()))?;
    }
    eprintln!(
        "ledger: {} ({} entries), verifier key {vkey}",
        config.place,
        writer.size()
    );
    app.insert_resource(Ledger {
        writer,
        place: config.place.clone(),
        vkey,
        started: false,
        history: history(scene),
        alarms_seen: 0,
        in_service: HashMap::new(),
        capacity_pct: HashMap::new(),
        period_end: 0,
        period_start: HashMap::new(),
        commons: Default::default(),
        enacted_seen: 0,
        recent: Default::default(),
        appended: 0,
        error: None,
    });
    app.init_resource::<AlarmsToRaise>();
    app.add_systems(
        FixedUpdate,
        (record.in_set(SimSet::Ledger), raise.in_set(SimSet::Publish)),
    );
    Ok(())
}

/// Commissioning and maintenance records of the scene's assets, in the scene's order.
fn history(scene: &kos_scene::Scene) -> Vec<Body> {
    let mut out = Vec::new();
    for (id, dna) in scene.asset_dna() {
        if !dna.commissioned.is_empty() || !dna.purpose.is_empty() || !dna.rated_limits.is_empty() {
            let mut parts = Vec::new();
            if !dna.commissioned.is_empty() {
                parts.push(format!("commissioned {}", dna.commissioned));
            }
            if !dna.purpose.is_empty() {
                parts.push(dna.purpose.clone());
            }
            if !dna.rated_limits.is_empty() {
                parts.push(format!("rated {}", dna.rated_limits));
            }
            out.push(Body::Dna {
                asset: id.to_string(),
                event: DnaEvent::Commissioning,
                detail: parts.join("; "),
            });
        }
        for m in &dna.maintenance {
            out.push(Body::Dna {
                asset: id.to_string(),
                event: DnaEvent::Maintenance,
                detail: format!("{}: {}", m.date, m.note),
            });
        }
    }
    out
}

/// What the ledger reads of a unit.
type UnitData = (
    Entity,
    &'static AssetTag,
    &'static SceneOrder,
    Option<&'static Spec<GeneratorSpec>>,
    Option<&'static Spec<StorageSpec>>,
    Option<&'static BatteryWear>,
    Option<&'static EnergyMonitor>,
);
type UnitQuery<'w, 's> = Query<'w, 's, UnitData, With<UnitOutput>>;
type UnitItem<'a> = bevy::ecs::query::QueryItem<'a, 'a, UnitData>;

/// The commons' state and the enacted proposals the ledger reads.
#[derive(bevy::ecs::system::SystemParam)]
struct Commons<'w, 's> {
    enacted: Option<Res<'w, crate::governance::Enactments>>,
    book: Option<Res<'w, TokenBook>>,
    equity: Option<Res<'w, EquityState>>,
    water: Option<Res<'w, WaterStores>>,
    consumers: Query<
        'w,
        's,
        (
            Entity,
            &'static AssetTag,
            &'static SceneOrder,
            Option<&'static Share>,
        ),
        With<Demand>,
    >,
}

/// Appends what this tick produced, as one batch (see the module's description).
#[allow(clippy::too_many_arguments)]
fn record(
    clock: Res<SimClock>,
    alarms: Res<Alarms>,
    mut ledger: ResMut<Ledger>,
    new_assets: Query<(&AssetTag, &AssetKind, &SceneOrder), Added<AssetTag>>,
    units: UnitQuery,
    consumers: Query<(Entity, &AssetTag, &SceneOrder, &EnergyMonitor), With<Demand>>,
    the_commons: Commons,
    mut log_alarms: ResMut<AlarmsToRaise>,
) {
    if ledger.error.is_some() {
        return;
    }
    let ledger = &mut *ledger;
    // The end of this tick, local simulated time.
    let end = clock.elapsed_s + clock.tick_s;
    let t = clock.start_s + end;
    let mut units: Vec<UnitItem> = units.iter().collect();
    units.sort_by_key(|u| (*u.2, u.1.0.clone()));

    let mut bodies = births(&new_assets);
    if !ledger.started {
        ledger.started = true;
        ledger.period_end = clock.elapsed_s;
        bodies.append(&mut ledger.history);
    }
    bodies.extend(service_changes(ledger, &units));
    bodies.extend(new_alarms(ledger, &alarms));
    bodies.extend(wear_milestones(ledger, &units));
    if let Some(g) = &the_commons.enacted {
        for e in g.done.iter().skip(ledger.enacted_seen) {
            bodies.push(Body::Governance {
                proposal: e.proposal.clone(),
                decision: format!("enacted: {} (fingerprint {})", e.kind, e.fingerprint),
                assets: e.assets.clone(),
            });
        }
        ledger.enacted_seen = g.done.len();
    }
    bodies.extend(
        ledger
            .commons
            .events(the_commons.book.as_deref(), the_commons.equity.as_deref()),
    );
    let mut sharing: Vec<commons::Consumer> = the_commons.consumers.iter().collect();
    ledger.commons.tally(&sharing);
    if end % PERIOD_S == 0 {
        let period_s = end - ledger.period_end;
        ledger.period_end = end;
        let mut consumers: Vec<_> = consumers.iter().collect();
        consumers.sort_by_key(|c| (*c.2, c.1.0.clone()));
        bodies.extend(energy_used(ledger, &consumers, period_s));
        bodies.extend(energy_given(ledger, &units, period_s));
        sharing.sort_by_key(|c| (*c.2, c.1.0.clone()));
        bodies.extend(
            ledger
                .commons
                .period(&sharing, the_commons.water.as_deref(), period_s),
        );
    }
    if bodies.is_empty() {
        return;
    }
    let entries: Vec<Entry> = bodies.into_iter().map(|b| Entry::new(t, b)).collect();
    if let Err(message) = ledger.append(entries) {
        error!("{message}");
        log_alarms.0.push(Alarm {
            t: kos_scene::time::format_datetime(t),
            severity: Severity::Critical,
            asset: None,
            message,
        });
    }
}

impl Ledger {
    /// Appends a tick's entries; after a failure the ledger stops (and says why).
    fn append(&mut self, entries: Vec<Entry>) -> Result<(), String> {
        let bytes: Vec<Vec<u8>> = entries.iter().map(Entry::to_bytes).collect();
        let first = self.writer.size();
        if let Err(e) = self.writer.append(&bytes) {
            let message = format!("the ledger stopped: {e}");
            self.error = Some(message.clone());
            return Err(message);
        }
        self.appended += bytes.len() as u64;
        for (i, e) in entries.into_iter().enumerate() {
            if self.recent.len() == RECENT {
                self.recent.pop_front();
            }
            self.recent.push_back((first + i as u64, e));
        }
        Ok(())
    }
}

/// Assets new since the last tick: all of the scene's on the first, then modules plugged in
/// and assets announced by telemetry.
fn births(new_assets: &Query<(&AssetTag, &AssetKind, &SceneOrder), Added<AssetTag>>) -> Vec<Body> {
    let mut born: Vec<_> = new_assets.iter().collect();
    born.sort_by_key(|(tag, kind, order)| (**kind, **order, tag.0.clone()));
    born.into_iter()
        .map(|(tag, kind, _)| Body::Birth {
            asset: tag.0.clone(),
            asset_kind: kind.label().to_string(),
        })
        .collect()
}

/// Units put in or out of service since the last tick.
fn service_changes(ledger: &mut Ledger, units: &[UnitItem]) -> Vec<Body> {
    let mut out = Vec::new();
    for &(e, tag, _, g, s, _, _) in units {
        let now = g
            .map(|g| g.in_service)
            .or(s.map(|s| s.in_service))
            .unwrap_or(true);
        match ledger.in_service.insert(e, now) {
            Some(before) if before != now && now => out.push(Body::Birth {
                asset: tag.0.clone(),
                asset_kind: if s.is_some() { "storage" } else { "generator" }.into(),
            }),
            Some(before) if before != now => out.push(Body::Death {
                asset: tag.0.clone(),
                reason: "out of service".into(),
            }),
            _ => {}
        }
    }
    out
}

/// Alarms raised since the last tick (critical ones as faults).
fn new_alarms(ledger: &mut Ledger, alarms: &Alarms) -> Vec<Body> {
    let new = alarms
        .total
        .saturating_sub(ledger.alarms_seen)
        .min(alarms.recent.len() as u64) as usize;
    ledger.alarms_seen = alarms.total;
    alarms
        .recent
        .iter()
        .skip(alarms.recent.len() - new)
        .map(|a| Body::Dna {
            asset: a.asset.clone().unwrap_or_else(|| "site".into()),
            event: match a.severity {
                Severity::Critical => DnaEvent::Fault,
                Severity::Warning => DnaEvent::Alarm,
            },
            detail: a.message.clone(),
        })
        .collect()
}

/// Batteries whose capacity crossed a whole percent of nameplate.
fn wear_milestones(ledger: &mut Ledger, units: &[UnitItem]) -> Vec<Body> {
    let mut out = Vec::new();
    for &(e, tag, _, _, _, wear, _) in units {
        let Some(w) = wear else { continue };
        let pct = (w.capacity_factor * 100.0).floor() as i64;
        let before = *ledger.capacity_pct.entry(e).or_insert(pct);
        if pct < before {
            ledger.capacity_pct.insert(e, pct);
            out.push(Body::Dna {
                asset: tag.0.clone(),
                event: DnaEvent::WearMilestone,
                detail: format!("capacity below {} % of nameplate", pct + 1),
            });
        }
    }
    out
}

/// Energy each consumer used over the period, with its suppliers from flow tracing.
fn energy_used(
    ledger: &mut Ledger,
    consumers: &[(Entity, &AssetTag, &SceneOrder, &EnergyMonitor)],
    period_s: i64,
) -> Vec<Body> {
    let mut out = Vec::new();
    for &(e, tag, _, m) in consumers {
        let (used0, _, sup0) = ledger.period_start.remove(&e).unwrap_or_default();
        let mut suppliers = Vec::new();
        let mut now = HashMap::new();
        for (id, kwh) in m.suppliers() {
            let wh = thousandths(kwh - sup0.get(id).copied().unwrap_or(0.0));
            if wh != 0 {
                suppliers.push(Supply {
                    asset: id.to_string(),
                    wh,
                });
            }
            now.insert(id.to_string(), kwh);
        }
        let used = thousandths(m.used_kwh - used0);
        if used != 0 || !suppliers.is_empty() {
            out.push(Body::Energy {
                consumer: tag.0.clone(),
                period_s,
                wh: used,
                suppliers,
            });
        }
        ledger
            .period_start
            .insert(e, (m.used_kwh, m.produced_kwh, now));
    }
    out
}

/// Energy each unit gave over the period.
fn energy_given(ledger: &mut Ledger, units: &[UnitItem], period_s: i64) -> Vec<Body> {
    let mut out = Vec::new();
    for &(e, tag, _, _, _, _, m) in units {
        let Some(m) = m else { continue };
        let (_, produced0, _) = ledger.period_start.remove(&e).unwrap_or_default();
        let given = thousandths(m.produced_kwh - produced0);
        if given != 0 {
            out.push(Body::Production {
                asset: tag.0.clone(),
                period_s,
                wh: given,
            });
        }
        ledger
            .period_start
            .insert(e, (m.used_kwh, m.produced_kwh, HashMap::new()));
    }
    out
}

/// Alarms the ledger raises, applied after it (the ledger reads `Alarms` itself).
#[derive(Resource, Default)]
struct AlarmsToRaise(Vec<Alarm>);

fn raise(mut pending: ResMut<AlarmsToRaise>, mut alarms: ResMut<Alarms>) {
    for a in pending.0.drain(..) {
        alarms.raise(a);
    }
}

/// Thousandths of a quantity, whole: watt-hours of an energy in kWh, the entries' `_milli`
/// fields (0 for a number that is not finite).
fn thousandths(kwh: f64) -> i64 {
    if kwh.is_finite() {
        (kwh * 1000.0).round() as i64
    } else {
        0
    }
}
