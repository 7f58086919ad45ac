//! Conservation events and eco-tokens in the tick. An event is announced when the community
//! is short: an island without its grid tie through the night, a shortage in the allocation,
//! a heat wave. From the next tick the households that answer (the scene's share of each
//! load's households, chosen by the seed) save the scene's fraction of their demand while it
//! lasts. When it ends, each answering household is credited for its verified saving: the
//! model's use (the household is unmetered in the twin: its profile at the day's weather,
//! what it would have used) less what it asked, both within its share, so that rationing is
//! never paid for as a saving; tokens are the saving times the scene's rate, exactly
//! (kos-commons' wallet, whole Wh and micro-tokens).

use std::collections::BTreeMap;

use bevy::prelude::*;
use kos_commons::{Rate, Redeemable, Verification, Wallet, mint};
use kos_scene::{LoadSpec, ModeKind};
use serde::Serialize;

use super::{CommonsSettings, CommonsState, Share, unit_hash};
use crate::model::*;
use crate::protection::Protection;
use crate::sim::SimClock;

/// Why an event is called.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// An island without its tie at night.
    IslandNight,
    /// The allocation cut someone.
    Shortage,
    /// A heat wave mode is on.
    HeatWave,
}

impl EventKind {
    /// For people.
    pub fn label(self) -> &'static str {
        match self {
            Self::IslandNight => "island night",
            Self::Shortage => "shortage",
            Self::HeatWave => "heat wave",
        }
    }
}

/// A conservation event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    /// `event-<n>`.
    pub id: String,
    /// Why.
    pub kind: EventKind,
    /// Local time it was announced.
    pub from: String,
    /// Local time it ended (`None`: on now).
    pub to: Option<String>,
    /// Households that answered.
    pub households: u32,
    /// Their verified saving, kWh.
    pub saving_kwh: f64,
    /// Tokens minted for it.
    pub tokens: f64,
}

/// One load's tally during an event.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
struct Tally {
    /// What the model says it would have used, within its share, kWh.
    baseline_kwh: f64,
    /// What it asked, within its share, kWh.
    used_kwh: f64,
}

/// The event on now, the events so far, and what each load's answering households saved.
#[derive(Resource, Debug, Clone, Default, PartialEq, Serialize)]
pub struct EventState {
    /// The event on now.
    pub active: Option<Event>,
    /// Events that ended.
    pub past: Vec<Event>,
    /// The model's demand of each answering load before its saving this tick, kW.
    #[serde(skip)]
    model_kw: BTreeMap<Entity, f64>,
    #[serde(skip)]
    tally: BTreeMap<String, Tally>,
}

/// Every household's tokens and the record of every mint.
#[derive(Resource, Debug, Clone, PartialEq)]
pub struct TokenBook {
    /// Balances and entries.
    pub wallet: Wallet,
    /// Tokens minted this tick.
    pub minted_now: f64,
    /// Tokens spent this tick.
    pub spent_now: f64,
}

impl Default for TokenBook {
    fn default() -> Self {
        Self {
            // Tokens buy priority for deferrable slots and bookings of shared equipment:
            // never power, water, shelter or bandwidth.
            wallet: Wallet::new([
                Redeemable::DeferrableSlotPriority,
                Redeemable::SharedEquipmentBooking,
            ]),
            minted_now: 0.0,
            spent_now: 0.0,
        }
    }
}

impl TokenBook {
    /// Balances by household, in tokens.
    pub fn balances(&self) -> BTreeMap<String, f64> {
        self.wallet
            .balances()
            .map(|(h, t)| (h.to_string(), t.as_f64()))
            .collect()
    }

    /// A load's households' tokens together.
    pub fn of_load(&self, load: &str) -> f64 {
        let prefix = format!("{load}/");
        self.wallet
            .balances()
            .filter(|(h, _)| h.starts_with(&prefix))
            .map(|(_, t)| t.as_f64())
            .sum()
    }
}

/// Households of a load that answer events.
fn answering(seed: u64, load: &LoadSpec, share: f64) -> Vec<u32> {
    (0..load.households)
        .filter(|&h| unit_hash(seed, &load.id, 2_000_000 + u64::from(h)) < share)
        .collect()
}

/// While an event is on, the answering households save (Environment set, after the
/// profiles).
pub(super) fn respond_to_events(
    clock: Res<SimClock>,
    settings: Res<CommonsSettings>,
    mut events: ResMut<EventState>,
    mut loads: Query<(Entity, &Spec<LoadSpec>, &mut Demand)>,
) {
    events.model_kw.clear();
    if events.active.is_none() {
        return;
    }
    for (e, spec, mut d) in &mut loads {
        if spec.households == 0 {
            continue;
        }
        let n = answering(clock.seed, spec, settings.event_response).len() as f64;
        if n == 0.0 {
            continue;
        }
        events.model_kw.insert(e, d.p_kw);
        d.p_kw *= 1.0 - settings.event_saving * n / spec.households as f64;
        d.q_kvar *= 1.0 - settings.event_saving * n / spec.households as f64;
    }
}

#[allow(clippy::too_many_arguments)]
pub(super) fn settle(
    clock: Res<SimClock>,
    settings: Res<CommonsSettings>,
    protection: Option<Res<Protection>>,
    modes: Option<Res<SceneModes>>,
    mut state: ResMut<CommonsState>,
    mut events: ResMut<EventState>,
    mut book: ResMut<TokenBook>,
    loads: Query<(Entity, &Spec<LoadSpec>, &Demand, &Share)>,
) {
    let events = &mut *events;
    let dt_h = clock.tick_s as f64 / 3600.0;
    book.minted_now = 0.0;
    // Tally the event's tick.
    let model_kw = std::mem::take(&mut events.model_kw);
    if events.active.is_some() {
        for (e, spec, d, share) in &loads {
            let Some(&model) = model_kw.get(&e) else {
                continue;
            };
            let limit = share.power_kw.unwrap_or(f64::INFINITY);
            let t = events.tally.entry(spec.id.clone()).or_default();
            t.baseline_kwh += model.min(limit) * dt_h;
            t.used_kwh += d.p_kw.min(limit) * dt_h;
        }
    }
    events.model_kw = model_kw;

    // Is the community short now?
    let hour = clock.hour_of_day();
    let night = hour >= 18.0 || hour < settings.morning_hour;
    let heat = protection.is_some_and(|p| {
        modes.is_some_and(|m| {
            m.iter()
                .any(|x| x.kind == ModeKind::HeatWave && p.modes_on.contains(&x.id))
        })
    });
    let kind = if state.power.iter().any(|i| !i.tied) && night {
        Some(EventKind::IslandNight)
    } else if state.power.iter().any(|i| i.outcome.short)
        || state.water.as_ref().is_some_and(|w| w.outcome.short)
    {
        Some(EventKind::Shortage)
    } else if heat {
        Some(EventKind::HeatWave)
    } else {
        None
    };
    match (kind, events.active.is_some()) {
        (Some(kind), false) => {
            let n = events.past.len() + 1;
            events.active = Some(Event {
                id: format!("event-{n}"),
                kind,
                from: clock.now_text(),
                to: None,
                households: 0,
                saving_kwh: 0.0,
                tokens: 0.0,
            });
        }
        (None, true) => {
            // The event is over: credit the answering households.
            let mut ev = events.active.take().expect("an event is on");
            ev.to = Some(clock.now_text());
            let rate = Rate::per_kwh(settings.token_rate_per_kwh)
                .unwrap_or(Rate::per_kwh(0.0).expect("zero is a rate"));
            let mut specs: Vec<&LoadSpec> = loads.iter().map(|(_, s, ..)| &s.0).collect();
            specs.sort_by(|a, b| a.id.cmp(&b.id));
            let tally = std::mem::take(&mut events.tally);
            for spec in specs {
                let Some(t) = tally.get(&spec.id) else {
                    continue;
                };
                let who = answering(clock.seed, spec, settings.event_response);
                if who.is_empty() {
                    continue;
                }
                // The load's saving is its answering households'; each household's baseline
                // is the load's over its households.
                let per = spec.households as f64;
                let saving = (t.baseline_kwh - t.used_kwh).max(0.0) / who.len() as f64;
                for h in who {
                    let baseline = t.baseline_kwh / per;
                    let m = mint(rate, baseline, baseline - saving);
                    if m.saving_wh == 0 {
                        continue;
                    }
                    let household = format!("{}/{h}", spec.id);
                    if book
                        .wallet
                        .credit(&household, &ev.id, Verification::Modelled, m)
                        .is_ok()
                    {
                        ev.households += 1;
                        ev.saving_kwh += m.saving_kwh();
                        ev.tokens += m.tokens.as_f64();
                        book.minted_now += m.tokens.as_f64();
                    }
                }
            }
            state.event = Some(ev.clone());
            events.past.push(ev);
            state.tokens_minted = book.minted_now;
            state.tokens_spent = book.spent_now;
            return;
        }
        _ => {}
    }
    state.event = events.active.clone();
    state.tokens_minted = book.minted_now;
    state.tokens_spent = book.spent_now;
}
