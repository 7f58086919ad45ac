//! The commons' entries: every eco-token mint and spend and every equity cap as it happens;
//! at the end of each period, the water each load and pod drew and the lowest limit the
//! allocation set on each resource of each consumer it limited.

use std::collections::{BTreeSet, HashMap};

use bevy::prelude::*;
use kos_commons::Entry as WalletEntry;
use kos_ledger::entry::Body;

use crate::commons::{EquityState, TokenBook, WaterStores};
use crate::model::*;

/// The resources the allocation limits, as the share names them.
const RESOURCES: [&str; 3] = ["power_kw", "water_l_per_h", "mesh_mbps"];

/// What the ledger has seen of the commons.
#[derive(Debug, Default)]
pub(super) struct CommonsSeen {
    /// Wallet entries already recorded.
    tokens: usize,
    /// Equity caps in force, recorded when they were imposed: (resource, consumer).
    caps: BTreeSet<(String, String)>,
    /// Water drawn by each consumer at the start of the period, litres.
    water_start: HashMap<Entity, f64>,
    /// Per consumer and resource: its lowest limit this period and the ticks it was limited.
    limited: HashMap<(Entity, usize), (f64, u32)>,
    /// Ticks in the period.
    ticks: u32,
}

/// A consumer as the ledger reads it.
pub(super) type Consumer<'a> = (Entity, &'a AssetTag, &'a SceneOrder, Option<&'a Share>);

impl CommonsSeen {
    /// Token mints and spends since the last tick, and equity caps imposed since then.
    pub fn events(&mut self, book: Option<&TokenBook>, equity: Option<&EquityState>) -> Vec<Body> {
        let mut out = Vec::new();
        if let Some(book) = book {
            let entries = book.wallet.entries();
            for e in entries.iter().skip(self.tokens) {
                out.push(match e {
                    WalletEntry::Minted {
                        household,
                        event,
                        verification,
                        saving_wh,
                        tokens,
                        ..
                    } => Body::Token {
                        household: household.clone(),
                        change_micro: micro(tokens.micro()),
                        reason: format!(
                            "minted for {event} ({verification:?} saving of {saving_wh} Wh)"
                        ),
                    },
                    WalletEntry::Spent {
                        household,
                        item,
                        tokens,
                        ..
                    } => Body::Token {
                        household: household.clone(),
                        change_micro: -micro(tokens.micro()),
                        reason: format!("spent on {item:?}"),
                    },
                });
            }
            self.tokens = entries.len();
        }
        if let Some(equity) = equity {
            let now = equity.capped();
            let ids: BTreeSet<(String, String)> =
                now.iter().map(|(r, c, _)| (r.clone(), c.clone())).collect();
            for (resource, consumer, cap) in now {
                if !self.caps.contains(&(resource.clone(), consumer.clone())) {
                    out.push(Body::Allocation {
                        resource,
                        consumer,
                        cap_milli: super::thousandths(cap),
                        reason: "held to its share after hoarding".into(),
                    });
                }
            }
            self.caps = ids;
        }
        out
    }

    /// Notes this tick's limits.
    pub fn tally(&mut self, consumers: &[Consumer]) {
        self.ticks += 1;
        for &(e, _, _, share) in consumers {
            let Some(s) = share else { continue };
            for (k, limit) in [s.power_kw, s.water_l_per_h, s.mesh_mbps]
                .into_iter()
                .enumerate()
            {
                if let Some(limit) = limit {
                    let t = self.limited.entry((e, k)).or_insert((f64::INFINITY, 0));
                    t.0 = t.0.min(limit);
                    t.1 += 1;
                }
            }
        }
    }

    /// The period's water and limits, consumers in the scene's order (`consumers` sorted).
    pub fn period(
        &mut self,
        consumers: &[Consumer],
        water: Option<&WaterStores>,
        period_s: i64,
    ) -> Vec<Body> {
        let mut out = Vec::new();
        if let Some(w) = water {
            for &(e, tag, ..) in consumers {
                let Some(&drawn) = w.drawn_l.get(&e) else {
                    continue;
                };
                let start = self.water_start.insert(e, drawn).unwrap_or(0.0);
                let litres = (drawn - start).round();
                if litres.is_finite() && litres != 0.0 {
                    out.push(Body::Water {
                        consumer: tag.0.clone(),
                        period_s,
                        litres: litres as i64,
                    });
                }
            }
        }
        for (k, resource) in RESOURCES.iter().enumerate() {
            for &(e, tag, ..) in consumers {
                if let Some((lowest, ticks)) = self.limited.get(&(e, k)) {
                    out.push(Body::Allocation {
                        resource: resource.to_string(),
                        consumer: tag.0.clone(),
                        cap_milli: super::thousandths(*lowest),
                        reason: format!("shortage: limited in {ticks} of {} ticks", self.ticks),
                    });
                }
            }
        }
        self.limited.clear();
        self.ticks = 0;
        out
    }
}

/// Micro-tokens as a signed count.
fn micro(m: u64) -> i64 {
    i64::try_from(m).unwrap_or(i64::MAX)
}
