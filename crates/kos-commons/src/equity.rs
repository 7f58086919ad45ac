//! Hoarding and monopoly on the commons during a shortage: detected, raised as alarms with
//! their evidence, enforced by a cap on the offender's demand, and recorded.
//!
//! The rules ([`EquityRules`]) are set in the scene and changed only by governance. Nothing is
//! flagged outside a shortage: drawing more, or filling one's own storage, when there is plenty
//! takes nothing from anyone.
//!
//! **Hoarding** ([`Watch`], one per resource) takes two forms:
//!
//! - *drawing above the share*: a consumer draws more than its share (what the allocation, e.g.
//!   [`crate::allocate`], gave it) plus a tolerance for meter noise and small overshoots, in
//!   `periods` consecutive shortage periods. One period above the tolerance is not evidence
//!   (a kettle and an oven at once); the counter resets as soon as the consumer draws within
//!   the tolerance again. Periods of plenty pause the counter (they neither count nor reset
//!   it): a shortage declared in several spells is watched as one.
//! - *filling private storage* (a battery, a water tank) from the commons during a shortage
//!   beyond the stated need of the period plus a margin: a deliberate act, measured by the
//!   storage's own meter, so a single period is evidence.
//!
//! An alarm is raised once per *episode*: when a consumer is flagged it stays flagged, and
//! raises no further alarm, until it has drawn within its share (and charged within its need)
//! for `periods` shortage periods, which releases it; a later offence opens a new episode.
//! While flagged, its demand is capped at `penalty` × its share ([`Watch::caps`],
//! [`Watch::cap`]) so that the allocator holds it to its share. Periods of plenty do not count
//! towards release: there is nothing to cap then, and the cap must still hold at the start of
//! the next shortage.
//!
//! **Monopoly** ([`monopoly`], [`monopolies`], [`Watch::observe_supply`]): during a shortage,
//! one owner (its producers summed) holding more than `monopoly_share` of the local supply of a
//! resource. The evidence carries the Herfindahl-Hirschman index ([`hhi`]) of the supply
//! shares, the concentration measure of the US merger guidelines (U.S. DOJ and FTC, *Merger
//! Guidelines*, 2023, §2.1: above 1,800 a market is highly concentrated). A monopolist's
//! output is not capped (that would deepen the shortage); the alarm goes to governance, and
//! its supply is shared through the commons' allocation like everyone else's.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The Herfindahl-Hirschman index of supplies: each supplier's share in percent, squared, and
/// summed, on the scale 0 to 10,000 (10,000 for a single supplier, 10,000/n for n equal ones).
/// Negative and non-finite supplies count as none; no supply at all gives 0.
pub fn hhi(supplies: &[f64]) -> f64 {
    let total: f64 = supplies.iter().map(|&s| positive(s)).sum();
    if total <= 0.0 || !total.is_finite() {
        return 0.0;
    }
    supplies
        .iter()
        .map(|&s| {
            let p = 100.0 * positive(s) / total;
            p * p
        })
        .sum()
}

fn positive(x: f64) -> f64 {
    if x.is_finite() && x > 0.0 { x } else { 0.0 }
}

/// The rules of equity on one resource, set in the scene and changed only by governance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EquityRules {
    /// Fraction above its share a consumer may draw without it counting (meter noise, small
    /// overshoots): 0.10 counts a draw above 110 % of the share.
    pub tolerance: f64,
    /// Consecutive shortage periods above share (beyond the tolerance) before an alarm; also
    /// the periods within share that release a flagged consumer. At least 1.
    pub periods: u32,
    /// Fraction above the stated need that private storage may be charged from the commons in
    /// a shortage period: 0.10 flags a charge above 110 % of the need.
    pub storage_need_margin: f64,
    /// Share of the local supply (0 to 1) above which one owner is a monopolist in a shortage.
    pub monopoly_share: f64,
    /// What a flagged consumer's demand is capped to, as a fraction of its share (0 to 1):
    /// 1 holds it to its share, 0.8 to four fifths of it.
    pub penalty: f64,
}

impl Default for EquityRules {
    fn default() -> Self {
        EquityRules {
            tolerance: 0.10,
            periods: 3,
            storage_need_margin: 0.10,
            monopoly_share: 0.40,
            penalty: 1.0,
        }
    }
}

/// Rules that cannot be applied.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EquityError {
    /// A rule out of range, named by its field.
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: &'static str,
    },
}

impl EquityRules {
    /// Checks every rule; the first one out of range.
    pub fn validate(&self) -> Result<(), EquityError> {
        let bad = |field, message| Err(EquityError::Invalid { field, message });
        if !self.tolerance.is_finite() || self.tolerance < 0.0 {
            return bad("tolerance", "a finite, non-negative fraction");
        }
        if self.periods == 0 {
            return bad("periods", "at least one period");
        }
        if !self.storage_need_margin.is_finite() || self.storage_need_margin < 0.0 {
            return bad("storage_need_margin", "a finite, non-negative fraction");
        }
        if !(self.monopoly_share > 0.0 && self.monopoly_share < 1.0) {
            return bad("monopoly_share", "a fraction above 0 and below 1");
        }
        if !(0.0..=1.0).contains(&self.penalty) {
            return bad("penalty", "a fraction from 0 to 1");
        }
        Ok(())
    }

    /// Whether a draw is above the share beyond the tolerance.
    fn above_share(&self, d: &Draw) -> bool {
        d.drawn > d.share * (1.0 + self.tolerance)
    }

    /// Whether private storage was charged beyond the need plus the margin.
    fn storage_beyond_need(&self, d: &Draw) -> bool {
        d.storage_charged > d.storage_need * (1.0 + self.storage_need_margin)
    }
}

/// What one consumer drew of one resource in one period, from its meters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Draw {
    pub consumer: String,
    /// Its share of the period (what the allocation gave it), in the resource's unit.
    pub share: f64,
    /// What it drew, storage charging included.
    pub drawn: f64,
    /// What it put into private storage (batteries, water tanks) from the commons.
    #[serde(default)]
    pub storage_charged: f64,
    /// The need for storage it stated for the period (what a medical fridge's battery, a
    /// household's drinking water, need to last the shortage).
    #[serde(default)]
    pub storage_need: f64,
}

impl Draw {
    /// All four numbers finite and non-negative: a reading that can be evidence.
    fn readable(&self) -> bool {
        [
            self.share,
            self.drawn,
            self.storage_charged,
            self.storage_need,
        ]
        .iter()
        .all(|x| x.is_finite() && *x >= 0.0)
    }
}

/// What an alarm is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AlarmKind {
    Hoarding,
    Monopoly,
}

/// Why an alarm was raised: the readings behind it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Evidence {
    /// Drew above its share beyond the tolerance in `periods` consecutive shortage periods.
    AboveShare {
        periods: u32,
        /// The share in the period of the alarm.
        share: f64,
        /// What it drew in each of those periods, oldest first.
        drawn: Vec<f64>,
        /// Its share in each of those periods.
        shares: Vec<f64>,
        /// The periods.
        at: Vec<u64>,
    },
    /// Charged private storage from the commons in a shortage beyond its stated need.
    StorageFill {
        charged: f64,
        need: f64,
        /// The most it could have charged: the need plus the margin.
        allowed: f64,
    },
    /// Held more than the set share of the local supply in a shortage.
    Monopoly {
        /// Its share of the supply (0 to 1).
        share: f64,
        /// The Herfindahl-Hirschman index of all owners' shares (0 to 10,000).
        hhi: f64,
        /// Its supply and the total, in the resource's unit.
        supply: f64,
        total: f64,
    },
}

/// A detection, to be recorded (in the resource ledger and the run's report).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alarm {
    pub kind: AlarmKind,
    /// The consumer or owner.
    pub who: String,
    pub resource: String,
    pub period: u64,
    pub evidence: Evidence,
}

/// A flagged consumer: capped until it has drawn within its share for `periods` periods.
#[derive(Debug, Clone, PartialEq)]
struct Flag {
    /// Its share in the last shortage period seen.
    share: f64,
    /// Consecutive shortage periods within its share since it was flagged.
    good: u32,
}

/// What the watch remembers of a consumer.
#[derive(Debug, Clone, Default, PartialEq)]
struct Track {
    /// The current run of shortage periods above share: (period, share, drawn).
    run: Vec<(u64, f64, f64)>,
    flag: Option<Flag>,
}

/// Watches one resource for hoarding and monopoly across periods (see the module's
/// description for the rules).
#[derive(Debug, Clone, PartialEq)]
pub struct Watch {
    resource: String,
    rules: EquityRules,
    tracks: BTreeMap<String, Track>,
    /// Owners in an open monopoly episode.
    monopolists: BTreeSet<String>,
    alarms: Vec<Alarm>,
}

impl Watch {
    /// A watch over `resource` with validated rules.
    ///
    /// # Panics
    /// If the rules are out of range; [`Watch::try_new`] returns the error instead.
    pub fn new(resource: &str, rules: EquityRules) -> Self {
        match Self::try_new(resource, rules) {
            Ok(w) => w,
            Err(e) => panic!("equity rules for {resource}: {e}"),
        }
    }

    /// A watch over `resource`, or why its rules cannot be applied.
    pub fn try_new(resource: &str, rules: EquityRules) -> Result<Self, EquityError> {
        rules.validate()?;
        Ok(Watch {
            resource: resource.into(),
            rules,
            tracks: BTreeMap::new(),
            monopolists: BTreeSet::new(),
            alarms: Vec::new(),
        })
    }

    pub fn resource(&self) -> &str {
        &self.resource
    }

    pub fn rules(&self) -> &EquityRules {
        &self.rules
    }

    /// Observes one period's draws; the alarms it raises (also kept in [`Watch::alarms`]).
    ///
    /// Outside a shortage nothing is flagged and nothing changes. A draw whose numbers are not
    /// finite and non-negative is no evidence either way and is skipped; a consumer missing
    /// from a period keeps its counters.
    pub fn observe(&mut self, period: u64, shortage: bool, draws: &[Draw]) -> Vec<Alarm> {
        if !shortage {
            return Vec::new();
        }
        let rules = &self.rules;
        let mut raised = Vec::new();
        for d in draws.iter().filter(|d| d.readable()) {
            let track = self.tracks.entry(d.consumer.clone()).or_default();
            let above = rules.above_share(d);
            let storage = rules.storage_beyond_need(d);
            if above {
                track.run.push((period, d.share, d.drawn));
            } else {
                track.run.clear();
            }
            if let Some(flag) = &mut track.flag {
                // A run above share while flagged is no new episode.
                track.run.clear();
                flag.share = d.share;
                if above || storage {
                    flag.good = 0;
                } else {
                    flag.good += 1;
                    if flag.good >= rules.periods {
                        track.flag = None;
                    }
                }
                continue;
            }
            let evidence = if storage {
                Evidence::StorageFill {
                    charged: d.storage_charged,
                    need: d.storage_need,
                    allowed: d.storage_need * (1.0 + rules.storage_need_margin),
                }
            } else if track.run.len() >= rules.periods as usize {
                let run = &track.run[track.run.len() - rules.periods as usize..];
                Evidence::AboveShare {
                    periods: rules.periods,
                    share: d.share,
                    drawn: run.iter().map(|r| r.2).collect(),
                    shares: run.iter().map(|r| r.1).collect(),
                    at: run.iter().map(|r| r.0).collect(),
                }
            } else {
                continue;
            };
            track.run.clear();
            track.flag = Some(Flag {
                share: d.share,
                good: 0,
            });
            raised.push(Alarm {
                kind: AlarmKind::Hoarding,
                who: d.consumer.clone(),
                resource: self.resource.clone(),
                period,
                evidence,
            });
        }
        self.alarms.extend(raised.iter().cloned());
        raised
    }

    /// Observes one period's supply by owner; monopoly alarms, once per episode. An episode
    /// lasts while the owner holds more than the set share in consecutive shortage periods;
    /// it ends when its share falls to the set share or below, or when the shortage ends.
    pub fn observe_supply(
        &mut self,
        period: u64,
        shortage: bool,
        owners: &[(String, f64)],
    ) -> Vec<Alarm> {
        let found = monopolies(&self.resource, period, owners, shortage, &self.rules);
        let now: BTreeSet<String> = found.iter().map(|a| a.who.clone()).collect();
        let raised: Vec<Alarm> = found
            .into_iter()
            .filter(|a| !self.monopolists.contains(&a.who))
            .collect();
        self.monopolists = now;
        self.alarms.extend(raised.iter().cloned());
        raised
    }

    /// The consumers flagged now, each with the cap its demand is held to: `penalty` × its
    /// share in the last shortage period observed.
    pub fn caps(&self) -> impl Iterator<Item = (&str, f64)> {
        let penalty = self.rules.penalty;
        self.tracks
            .iter()
            .filter_map(move |(id, t)| t.flag.as_ref().map(|f| (id.as_str(), penalty * f.share)))
    }

    /// The demand the allocator should see for `consumer`: its demand, capped if it is
    /// flagged.
    pub fn cap(&self, consumer: &str, demand: f64) -> f64 {
        match self.tracks.get(consumer).and_then(|t| t.flag.as_ref()) {
            Some(f) => demand.min(self.rules.penalty * f.share),
            None => demand,
        }
    }

    /// Whether a consumer is flagged (in an open hoarding episode).
    pub fn is_flagged(&self, consumer: &str) -> bool {
        self.tracks.get(consumer).is_some_and(|t| t.flag.is_some())
    }

    /// Every alarm raised so far, in order.
    pub fn alarms(&self) -> &[Alarm] {
        &self.alarms
    }
}

/// Every owner holding more than the set share of the local supply during a shortage, largest
/// share first (at most one when the set share is a half or more). Supplies of the same owner
/// (several producers) are summed; negative and non-finite supplies count as none. Nothing
/// outside a shortage or without supply.
pub fn monopolies(
    resource: &str,
    period: u64,
    owners: &[(String, f64)],
    shortage: bool,
    rules: &EquityRules,
) -> Vec<Alarm> {
    if !shortage {
        return Vec::new();
    }
    let mut by_owner: BTreeMap<&str, f64> = BTreeMap::new();
    for (who, s) in owners {
        *by_owner.entry(who.as_str()).or_default() += positive(*s);
    }
    let supplies: Vec<f64> = by_owner.values().copied().collect();
    let total: f64 = supplies.iter().sum();
    if total <= 0.0 || !total.is_finite() {
        return Vec::new();
    }
    let index = hhi(&supplies);
    let mut found: Vec<Alarm> = by_owner
        .iter()
        .filter(|(_, s)| **s / total > rules.monopoly_share)
        .map(|(who, s)| Alarm {
            kind: AlarmKind::Monopoly,
            who: (*who).into(),
            resource: resource.into(),
            period,
            evidence: Evidence::Monopoly {
                share: s / total,
                hhi: index,
                supply: *s,
                total,
            },
        })
        .collect();
    let share = |a: &Alarm| match a.evidence {
        Evidence::Monopoly { share, .. } => share,
        _ => 0.0,
    };
    found.sort_by(|a, b| share(b).total_cmp(&share(a)));
    found
}

/// The owner holding the largest share of the local supply, if above the set share during a
/// shortage (see [`monopolies`]).
pub fn monopoly(
    resource: &str,
    period: u64,
    owners: &[(String, f64)],
    shortage: bool,
    rules: &EquityRules,
) -> Option<Alarm> {
    monopolies(resource, period, owners, shortage, rules)
        .into_iter()
        .next()
}
