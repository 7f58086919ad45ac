//! Proposals: typed changes to the community's twin, read from RON or JSON with the place of
//! any error, and checked against the scene they would change. Each has a fingerprint: the
//! SHA-256 of its canonical JSON, which every support and ballot signs, so that a signature
//! cannot be moved to a changed proposal.

use kos_scene::{Priority, Scene};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::Error;

/// A new unit of generation or storage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum Module {
    /// A solar array.
    Solar {
        rated_kw: f64,
        #[serde(default = "default_tilt")]
        tilt_deg: f64,
        #[serde(default = "default_azimuth")]
        azimuth_deg: f64,
    },
    /// A wind turbine.
    Wind { rated_kw: f64 },
    /// A battery.
    Battery { energy_kwh: f64, power_kw: f64 },
}

fn default_tilt() -> f64 {
    30.0
}

fn default_azimuth() -> f64 {
    180.0
}

/// What a proposal changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum Change {
    /// A module or battery at a bus, under a new id.
    AddModule {
        id: String,
        bus: String,
        module: Module,
    },
    /// An asset taken out of the community's network.
    Remove { asset: String },
    /// A switch's normal position.
    Reconfigure { switch: String, normally_open: bool },
    /// A pod deployed at a bus.
    DeployPod {
        id: String,
        kind: kos_scene::PodKind,
        bus: String,
        occupants: u32,
        power_kw: f64,
        #[serde(default = "default_pod_priority")]
        priority: Priority,
    },
    /// A load's or pod's weight in the commons' fair share.
    Weight { consumer: String, weight: f64 },
    /// A load's or pod's critical minimum (a fraction of its demand).
    Minimum { consumer: String, minimum: f64 },
    /// A load's or pod's power cap (`None`: lifted).
    Cap {
        consumer: String,
        cap_kw: Option<f64>,
    },
    /// The eco-token rules.
    Tokens {
        #[serde(default)]
        rate_per_kwh: Option<f64>,
        #[serde(default)]
        slot_priority_tokens: Option<f64>,
    },
    /// A protection or fail-safe setting of an asset, within its Infrastructure DNA limits.
    Setting {
        asset: String,
        setting: String,
        value: f64,
    },
    /// An automatic action (a trip, shedding, a cap) held off for a while.
    Override {
        asset: String,
        action: String,
        minutes: u32,
    },
    /// Words only: nothing to simulate or enact.
    Text,
}

fn default_pod_priority() -> Priority {
    Priority::Essential
}

impl Change {
    /// Its kind, as the rules name it.
    pub fn kind(&self) -> &'static str {
        match self {
            Change::AddModule { .. } => "add_module",
            Change::Remove { .. } => "remove",
            Change::Reconfigure { .. } => "reconfigure",
            Change::DeployPod { .. } => "deploy_pod",
            Change::Weight { .. } => "weight",
            Change::Minimum { .. } => "minimum",
            Change::Cap { .. } => "cap",
            Change::Tokens { .. } => "tokens",
            Change::Setting { .. } => "setting",
            Change::Override { .. } => "override",
            Change::Text => "text",
        }
    }

    /// Whether the twin simulates it before the vote (everything but words).
    pub fn simulated(&self) -> bool {
        !matches!(self, Change::Text)
    }
}

/// A proposal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Proposal {
    /// Its id (letters, digits, `-`, `_`, `.`).
    pub id: String,
    /// The member who proposes it (a pseudonym of the roll).
    pub author: String,
    pub title: String,
    pub rationale: String,
    pub change: Change,
    /// When it takes effect once passed (local time `YYYY-MM-DDTHH:MM`; `None`: at once).
    #[serde(default)]
    pub effective: Option<String>,
}

/// Reads a proposal from RON (`.ron`) or JSON (anything else), with the line and column of a
/// syntax error.
pub fn parse(text: &str, file: &str) -> Result<Proposal, Error> {
    if file.ends_with(".ron") {
        ron::from_str(text).map_err(|e| Error::Syntax {
            file: file.into(),
            line: e.span.start.line,
            column: e.span.start.col,
            message: e.code.to_string(),
        })
    } else {
        serde_json::from_str(text).map_err(|e| Error::Syntax {
            file: file.into(),
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })
    }
}

impl Proposal {
    /// SHA-256 of its canonical JSON (fields in declaration order, no spaces).
    pub fn fingerprint(&self) -> [u8; 32] {
        let bytes = serde_json::to_vec(self).expect("a proposal serialises");
        Sha256::digest(&bytes).into()
    }

    /// The fingerprint in lower-case hex.
    pub fn fingerprint_hex(&self) -> String {
        self.fingerprint()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// Checks it against the scene it would change: every id it names exists (or, for a new
    /// asset, does not), every number is finite and in range. Every problem is listed.
    pub fn check(&self, scene: &Scene) -> Result<(), Error> {
        let need =
            |ok: bool, field: &str, message: String| (!ok).then(|| format!("{field}: {message}"));
        let range = |field: &str, x: f64, lo: f64, hi: f64| {
            need(
                x.is_finite() && x >= lo && x <= hi,
                field,
                format!("must lie in [{lo}, {hi}], got {x}"),
            )
        };
        let ids = scene.asset_dna();
        let exists = |id: &str| ids.iter().any(|(a, _)| *a == id);
        let new_id = |id: &str| {
            need(
                valid_id(id) && !exists(id),
                "change.id",
                format!("`{id}` is taken or not an id"),
            )
        };
        let bus = |id: &str| {
            need(
                scene.buses.iter().any(|b| b.id == id),
                "change.bus",
                format!("no bus `{id}`"),
            )
        };
        let asset = |id: &str| need(exists(id), "change.asset", format!("no asset `{id}`"));
        let consumer = |id: &str| {
            need(
                scene.loads.iter().any(|l| l.id == id) || scene.pods.iter().any(|p| p.id == id),
                "change.consumer",
                format!("no load or pod `{id}`"),
            )
        };
        let mut out: Vec<String> = Vec::new();
        out.extend(need(
            valid_id(&self.id),
            "id",
            format!("`{}` is not an id", self.id),
        ));
        for (field, text) in [
            ("author", &self.author),
            ("title", &self.title),
            ("rationale", &self.rationale),
        ] {
            out.extend(need(
                !text.trim().is_empty(),
                field,
                "must not be empty".into(),
            ));
        }
        if let Some(t) = &self.effective {
            out.extend(need(
                kos_scene::time::parse_local_datetime(t).is_ok(),
                "effective",
                format!("`{t}` is not a time YYYY-MM-DDTHH:MM"),
            ));
        }
        match &self.change {
            Change::AddModule { id, bus: b, module } => {
                out.extend(new_id(id));
                out.extend(bus(b));
                match module {
                    Module::Solar {
                        rated_kw,
                        tilt_deg,
                        azimuth_deg,
                    } => {
                        out.extend(range("change.module.rated_kw", *rated_kw, 0.1, 1e5));
                        out.extend(range("change.module.tilt_deg", *tilt_deg, 0.0, 90.0));
                        out.extend(range("change.module.azimuth_deg", *azimuth_deg, 0.0, 360.0));
                    }
                    Module::Wind { rated_kw } => {
                        out.extend(range("change.module.rated_kw", *rated_kw, 0.1, 1e5));
                    }
                    Module::Battery {
                        energy_kwh,
                        power_kw,
                    } => {
                        out.extend(range("change.module.energy_kwh", *energy_kwh, 0.1, 1e6));
                        out.extend(range("change.module.power_kw", *power_kw, 0.1, 1e5));
                    }
                }
            }
            Change::Remove { asset: a } => out.extend(asset(a)),
            Change::Reconfigure { switch, .. } => out.extend(need(
                scene.switches.iter().any(|s| &s.id == switch),
                "change.switch",
                format!("no switch `{switch}`"),
            )),
            Change::DeployPod {
                id,
                bus: b,
                occupants,
                power_kw,
                ..
            } => {
                out.extend(new_id(id));
                out.extend(bus(b));
                out.extend(range("change.occupants", f64::from(*occupants), 0.0, 1e5));
                out.extend(range("change.power_kw", *power_kw, 0.0, 1e5));
            }
            Change::Weight {
                consumer: c,
                weight,
            } => {
                out.extend(consumer(c));
                out.extend(need(
                    weight.is_finite() && *weight > 0.0,
                    "change.weight",
                    format!("must be a finite number above zero, got {weight}"),
                ));
            }
            Change::Minimum {
                consumer: c,
                minimum,
            } => {
                out.extend(consumer(c));
                out.extend(range("change.minimum", *minimum, 0.0, 1.0));
            }
            Change::Cap {
                consumer: c,
                cap_kw,
            } => {
                out.extend(consumer(c));
                if let Some(cap) = cap_kw {
                    out.extend(range("change.cap_kw", *cap, 0.0, 1e9));
                }
            }
            Change::Tokens {
                rate_per_kwh,
                slot_priority_tokens,
            } => {
                out.extend(need(
                    rate_per_kwh.is_some() || slot_priority_tokens.is_some(),
                    "change",
                    "changes no token rule".into(),
                ));
                if let Some(r) = rate_per_kwh {
                    out.extend(range("change.rate_per_kwh", *r, 0.0, 1000.0));
                }
                if let Some(p) = slot_priority_tokens {
                    out.extend(range("change.slot_priority_tokens", *p, 0.0, 1e9));
                }
            }
            Change::Setting {
                asset: a,
                setting,
                value,
            } => {
                out.extend(asset(a));
                out.extend(need(
                    !setting.trim().is_empty(),
                    "change.setting",
                    "must name a setting".into(),
                ));
                out.extend(range("change.value", *value, -1e9, 1e9));
            }
            Change::Override {
                asset: a,
                action,
                minutes,
            } => {
                out.extend(asset(a));
                out.extend(need(
                    !action.trim().is_empty(),
                    "change.action",
                    "must name the action".into(),
                ));
                out.extend(range(
                    "change.minutes",
                    f64::from(*minutes),
                    1.0,
                    7.0 * 24.0 * 60.0,
                ));
            }
            Change::Text => {}
        }
        if out.is_empty() {
            Ok(())
        } else {
            Err(Error::Invalid {
                proposal: self.id.clone(),
                problems: out,
            })
        }
    }
}

/// Letters, digits, `-`, `_` and `.`, 1 to 64 of them.
pub fn valid_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}
