//! Eco-tokens: a household that uses less than its baseline during an announced conservation
//! event (a shortage forecast, an island night, a heat wave) earns tokens for the verified
//! saving, at a rate set in the scene. Tokens are not money: they cannot be transferred or
//! exchanged, and they buy only what the community put on its list ([`Redeemable`]), never a
//! critical resource (there is no such item to name).
//!
//! **Baselines.** What a household would have used in the event window had there been no
//! event cannot be metered; it is estimated, and the estimate is what a household could game.
//! The reference point is CAISO's *10-in-10* customer load baseline ([`caiso_10_of_10`]): the
//! mean of the same hours over the 10 most recent eligible non-event weekdays, times a day-of
//! adjustment from the hours before the event, capped at ±20 % (CAISO, *Business Practice
//! Manual for Metering*, customer load baseline; Bode and Ciccone, *California ISO Baseline
//! Accuracy Assessment*, 2017). It excludes event days and caps the adjustment, but it is
//! built from the household's own recent use, so raising one's use on ordinary days raises the
//! baseline: rational over-consumption is on record (arXiv:2011.10681), and
//! a cool event day after a hot spell, or the reverse, biases it.
//!
//! [`WeatherBaseline`] removes both. It is fitted once, on a reference period that ended
//! before the scheme was announced (non-event days only), as a degree-day regression of the
//! window's use on the day's mean temperature in the manner of CalTRACK's daily method
//! (CalTRACK Methods 2.0, §3: use = a + b·CDD + c·HDD, balance points chosen by fit, slopes
//! positive and significant, the best candidate by adjusted R²; weekdays and weekends apart),
//! and predicts the event window from the event day's temperature alone. Use after enrolment
//! never enters it, so inflating it cannot raise the baseline; the weather is in the model,
//! so the weather alone earns nothing. It applies no day-of adjustment: an upward adjustment
//! from the hours before the event rewards inflating those hours, and a downward-only one can
//! be escaped the same way (an inflater would keep a baseline its honest twin loses) while
//! penalising households that start saving as soon as the event is announced.
//!
//! **Minting.** Savings are counted in whole watt-hours (rounded down: a fraction of a Wh is
//! not verified) and the rate in milli-tokens per kWh, so tokens, in micro-tokens, are an
//! integer product: minted = saving × rate exactly, for every event and for every sum
//! ([`mint`], [`Tokens`]). The saving is metered where there is a meter and taken from the
//! model where there is none; the entry says which ([`Verification`]).

mod baseline;
mod wallet;

pub use baseline::{DegreeDayModel, DegreeDayTerm, WeatherBaseline, caiso_10_of_10};
pub use wallet::{Entry, Redeemable, Verification, Wallet};

use serde::{Deserialize, Serialize};
use std::fmt;

/// Hours `start..end` of a day (0 to 24, start before end). A window over midnight is two
/// events, one on each day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "(u8, u8)", into = "(u8, u8)")]
pub struct Window {
    start: u8,
    end: u8,
}

impl Window {
    pub fn new(start: u8, end: u8) -> Result<Self, TokenError> {
        if start < end && end <= 24 {
            Ok(Window { start, end })
        } else {
            Err(TokenError::Window { start, end })
        }
    }

    pub fn start(&self) -> u8 {
        self.start
    }

    pub fn end(&self) -> u8 {
        self.end
    }

    /// The hours, as indices into [`DayUse::hourly_kwh`].
    pub fn hours(&self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }

    /// A day's use over the window, in kWh.
    pub fn kwh(&self, day: &DayUse) -> f64 {
        day.hourly_kwh[self.hours()].iter().sum()
    }
}

impl TryFrom<(u8, u8)> for Window {
    type Error = TokenError;
    fn try_from((start, end): (u8, u8)) -> Result<Self, TokenError> {
        Window::new(start, end)
    }
}

impl From<Window> for (u8, u8) {
    fn from(w: Window) -> Self {
        (w.start, w.end)
    }
}

/// One household's metered (or modelled) use on one day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DayUse {
    /// Day number, counting up (any origin).
    pub day: u32,
    /// A working day (not a weekend or holiday).
    pub weekday: bool,
    /// The day's mean outdoor temperature, °C.
    pub mean_temp_c: f64,
    /// Use in each hour, kWh.
    pub hourly_kwh: [f64; 24],
    /// The conservation event's window, on an event day.
    #[serde(default)]
    pub event: Option<Window>,
}

impl DayUse {
    /// Temperature and every hour finite, use non-negative: a day a baseline can use.
    pub(crate) fn readable(&self) -> bool {
        self.mean_temp_c.is_finite() && self.hourly_kwh.iter().all(|h| h.is_finite() && *h >= 0.0)
    }
}

/// Eco-tokens, counted in micro-tokens (millionths) so that every sum is exact.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Tokens(pub u64);

impl Tokens {
    pub const ZERO: Tokens = Tokens(0);

    pub fn micro(self) -> u64 {
        self.0
    }

    /// In whole tokens, for display and plots (not exact).
    pub fn as_f64(self) -> f64 {
        self.0 as f64 / 1e6
    }

    /// A price set in whole tokens (a scene's number), to the nearest micro-token; `None`
    /// for a negative, non-finite or too large number.
    pub fn whole(tokens: f64) -> Option<Tokens> {
        let micro = (tokens * 1e6).round();
        let ok = micro.is_finite() && micro >= 0.0 && micro < u64::MAX as f64;
        ok.then_some(Tokens(micro as u64))
    }
}

impl fmt::Display for Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:06}", self.0 / 1_000_000, self.0 % 1_000_000)
    }
}

/// Tokens minted per kWh saved, set in the scene, held in milli-tokens per kWh (written in a
/// scene as a number of tokens per kWh, e.g. `1.5`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct Rate {
    milli_per_kwh: u32,
}

impl Rate {
    /// The most tokens per kWh a scene may set.
    pub const MAX_PER_KWH: f64 = 1000.0;

    /// A rate of `tokens_per_kwh` (0 to 1000), rounded to the nearest milli-token.
    pub fn per_kwh(tokens_per_kwh: f64) -> Result<Self, TokenError> {
        if (0.0..=Self::MAX_PER_KWH).contains(&tokens_per_kwh) {
            Ok(Rate {
                milli_per_kwh: (tokens_per_kwh * 1000.0).round() as u32,
            })
        } else {
            Err(TokenError::Rate(tokens_per_kwh))
        }
    }

    pub fn milli_tokens_per_kwh(self) -> u32 {
        self.milli_per_kwh
    }

    /// The tokens for a saving of `saving_wh`: Wh × milli-tokens per kWh = micro-tokens.
    pub fn tokens(self, saving_wh: u64) -> Tokens {
        Tokens(saving_wh * u64::from(self.milli_per_kwh))
    }
}

impl TryFrom<f64> for Rate {
    type Error = TokenError;
    fn try_from(x: f64) -> Result<Self, TokenError> {
        Rate::per_kwh(x)
    }
}

impl From<Rate> for f64 {
    fn from(r: Rate) -> f64 {
        f64::from(r.milli_per_kwh) / 1000.0
    }
}

/// What one household earns for one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Mint {
    /// The verified saving, whole Wh.
    pub saving_wh: u64,
    /// `rate.tokens(saving_wh)`.
    pub tokens: Tokens,
}

impl Mint {
    pub fn saving_kwh(&self) -> f64 {
        self.saving_wh as f64 / 1000.0
    }
}

/// The largest saving one mint counts, Wh (a million kWh: no household saves that; the bound
/// keeps the product in range).
pub const MAX_SAVING_WH: u64 = 1_000_000_000;

/// Tokens for one event: saving = max(0, baseline − used), in whole Wh rounded down, and
/// tokens = saving × rate exactly (see [`Rate::tokens`]). Use below zero (net export) counts
/// as zero: tokens reward using less, not producing. A saving that cannot be verified
/// (non-finite numbers) is zero.
pub fn mint(rate: Rate, baseline_kwh: f64, used_kwh: f64) -> Mint {
    let saving = baseline_kwh - used_kwh.max(0.0);
    let saving_wh = if baseline_kwh.is_finite() && used_kwh.is_finite() && saving > 0.0 {
        ((saving * 1000.0).floor() as u64).min(MAX_SAVING_WH)
    } else {
        0
    };
    Mint {
        saving_wh,
        tokens: rate.tokens(saving_wh),
    }
}

/// Something the token scheme cannot do.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TokenError {
    #[error("window {start}..{end}: hours from 0 to 24, the start before the end")]
    Window { start: u8, end: u8 },
    #[error("rate {0}: tokens per kWh from 0 to 1000")]
    Rate(f64),
    #[error("{days} usable reference days without an event; at least {needed} needed")]
    TooLittleData { days: usize, needed: usize },
    #[error("{0:?} is not on the community's list")]
    NotRedeemable(Redeemable),
    #[error("{household}: balance {balance}, asked {amount}")]
    Insufficient {
        household: String,
        balance: Tokens,
        amount: Tokens,
    },
    #[error("{household}: event {event} already minted")]
    AlreadyMinted { household: String, event: String },
    #[error("{household}: balance out of range")]
    Overflow { household: String },
}
