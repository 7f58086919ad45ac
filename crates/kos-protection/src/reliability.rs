//! Reliability indices of IEEE 1366 (IEEE Guide for Electric Power Distribution Reliability
//! Indices) and the energy not supplied, from the interruptions that loads saw.
//!
//! An interruption is sustained when it lasts at least the threshold (5 minutes in IEEE
//! 1366, 3 minutes in EN 50160), momentary otherwise.
//! - SAIFI = Σ Nᵢ / N_T (sustained interruptions per customer served),
//! - SAIDI = Σ rᵢ Nᵢ / N_T (minutes),
//! - CAIDI = SAIDI / SAIFI (minutes),
//! - CAIFI = Σ Nᵢ / CN, CN the distinct customers with at least one sustained interruption,
//! - MAIFI = Σ IMᵢ Nₘᵢ / N_T (momentary interruptions per customer served),
//! - ASAI = (N_T T − Σ rᵢ Nᵢ) / (N_T T), T the period,
//! - ENS = Σ P rᵢ (kWh), by the priority of the load.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A load as the indices count it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Customers {
    /// Customers the load serves (households, or 1 for a pod).
    pub customers: u32,
    /// Priority (0 the most critical), for the energy not supplied.
    pub priority: u8,
}

/// A load without supply from `start_s` to `end_s` (seconds), drawing `power_kw` before.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interruption {
    /// Index of the load.
    pub load: usize,
    /// Start, s.
    pub start_s: f64,
    /// End (supply back), s.
    pub end_s: f64,
    /// Demand not served meanwhile, kW.
    pub power_kw: f64,
    /// Still without supply at the end of the period: sustained whatever its length so far.
    #[serde(default)]
    pub ongoing: bool,
}

impl Interruption {
    /// Duration, s.
    pub fn duration_s(&self) -> f64 {
        (self.end_s - self.start_s).max(0.0)
    }
}

/// The indices over a period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Indices {
    /// Customers served, N_T.
    pub customers_served: u64,
    /// Sustained interruptions per customer served.
    pub saifi: f64,
    /// Minutes of sustained interruption per customer served.
    pub saidi_min: f64,
    /// Minutes per sustained interruption (0 when there was none).
    pub caidi_min: f64,
    /// Sustained interruptions per customer interrupted (0 when there was none).
    pub caifi: f64,
    /// Momentary interruptions per customer served.
    pub maifi: f64,
    /// Share of customer hours with supply (sustained interruptions only).
    pub asai: f64,
    /// Energy not supplied, kWh, by priority (sustained and momentary).
    pub ens_kwh_by_priority: BTreeMap<u8, f64>,
    /// The threshold that separates momentary from sustained, s.
    pub sustained_threshold_s: f64,
}

/// IEEE 1366's threshold between momentary and sustained interruptions, s.
pub const IEEE_1366_SUSTAINED_S: f64 = 300.0;

/// EN 50160's threshold between short and long interruptions, s.
pub const EN_50160_SUSTAINED_S: f64 = 180.0;

/// The indices of `interruptions` among `loads` over a period of `period_s` seconds.
/// Interruptions of loads not in `loads` are ignored.
pub fn indices(
    loads: &[Customers],
    interruptions: &[Interruption],
    period_s: f64,
    sustained_threshold_s: f64,
) -> Indices {
    let served: u64 = loads.iter().map(|l| u64::from(l.customers)).sum();
    let mut sustained_customers = 0.0;
    let mut customer_minutes = 0.0;
    let mut momentary_customers = 0.0;
    let mut interrupted = vec![false; loads.len()];
    let mut ens = BTreeMap::new();
    for i in interruptions {
        let Some(load) = loads.get(i.load) else {
            continue;
        };
        let n = f64::from(load.customers);
        let d = i.duration_s();
        if d <= 0.0 && !i.ongoing {
            continue;
        }
        if d >= sustained_threshold_s || i.ongoing {
            sustained_customers += n;
            customer_minutes += n * d / 60.0;
            interrupted[i.load] = true;
        } else {
            momentary_customers += n;
        }
        *ens.entry(load.priority).or_insert(0.0) += i.power_kw.max(0.0) * d / 3600.0;
    }
    let cn: u64 = loads
        .iter()
        .zip(&interrupted)
        .filter(|(_, hit)| **hit)
        .map(|(l, _)| u64::from(l.customers))
        .sum();
    let nt = served as f64;
    let per_served = |x: f64| if served > 0 { x / nt } else { 0.0 };
    let saifi = per_served(sustained_customers);
    let saidi = per_served(customer_minutes);
    let customer_period_min = nt * period_s / 60.0;
    Indices {
        customers_served: served,
        saifi,
        saidi_min: saidi,
        caidi_min: if saifi > 0.0 { saidi / saifi } else { 0.0 },
        caifi: if cn > 0 {
            sustained_customers / cn as f64
        } else {
            0.0
        },
        maifi: per_served(momentary_customers),
        asai: if customer_period_min > 0.0 {
            (customer_period_min - customer_minutes) / customer_period_min
        } else {
            1.0
        },
        ens_kwh_by_priority: ens,
        sustained_threshold_s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12 * (1.0 + b.abs())
    }

    /// A hand count. Three loads: 100, 50 and 10 customers (N_T 160) over one day. Load 0 out
    /// for 30 minutes and again for 2 minutes (momentary); load 1 out for 90 minutes; load 2
    /// never.
    /// SAIFI = (100 + 50) / 160 = 0.9375; SAIDI = (100·30 + 50·90) / 160 = 46.875 min;
    /// CAIDI = 46.875 / 0.9375 = 50 min; CAIFI = 150 / 150 = 1; MAIFI = 100 / 160 = 0.625;
    /// ASAI = 1 − 7500 / (160·1440) = 0.967447916...; ENS: load 0 (40 kW, priority 2)
    /// 40·0.5 + 40·2/60 = 21.333 kWh, load 1 (20 kW, priority 0) 20·1.5 = 30 kWh.
    #[test]
    fn a_hand_count() {
        let loads = [
            Customers {
                customers: 100,
                priority: 2,
            },
            Customers {
                customers: 50,
                priority: 0,
            },
            Customers {
                customers: 10,
                priority: 1,
            },
        ];
        let out = |load, start_s, minutes: f64, power_kw| Interruption {
            load,
            start_s,
            end_s: start_s + minutes * 60.0,
            power_kw,
            ongoing: false,
        };
        let list = [
            out(0, 3600.0, 30.0, 40.0),
            out(0, 20_000.0, 2.0, 40.0),
            out(1, 7200.0, 90.0, 20.0),
        ];
        let x = indices(&loads, &list, 86_400.0, IEEE_1366_SUSTAINED_S);
        assert_eq!(x.customers_served, 160);
        assert!(close(x.saifi, 0.9375));
        assert!(close(x.saidi_min, 46.875));
        assert!(close(x.caidi_min, 50.0));
        assert!(close(x.caifi, 1.0));
        assert!(close(x.maifi, 0.625));
        assert!(close(x.asai, 1.0 - 7500.0 / (160.0 * 1440.0)));
        assert!(close(x.ens_kwh_by_priority[&2], 20.0 + 40.0 * 2.0 / 60.0));
        assert!(close(x.ens_kwh_by_priority[&0], 30.0));
        assert!(!x.ens_kwh_by_priority.contains_key(&1));
    }

    /// A 4-minute interruption is momentary under IEEE 1366 (5 min) and sustained under EN
    /// 50160 (3 min); CAIFI counts a customer interrupted twice once in CN.
    #[test]
    fn the_threshold_decides_and_caifi_counts_customers_once() {
        let loads = [Customers {
            customers: 10,
            priority: 0,
        }];
        let four = |start_s| Interruption {
            load: 0,
            start_s,
            end_s: start_s + 240.0,
            power_kw: 1.0,
            ongoing: false,
        };
        let list = [four(0.0), four(1000.0)];
        let ieee = indices(&loads, &list, 3600.0, IEEE_1366_SUSTAINED_S);
        assert_eq!((ieee.saifi, ieee.maifi), (0.0, 2.0));
        assert_eq!(ieee.caifi, 0.0);
        let en = indices(&loads, &list, 3600.0, EN_50160_SUSTAINED_S);
        assert_eq!((en.saifi, en.maifi), (2.0, 0.0));
        assert!(close(en.caifi, 2.0));
        assert!(close(en.caidi_min, 4.0));
    }

    #[test]
    fn no_interruption_means_full_availability() {
        let loads = [Customers {
            customers: 3,
            priority: 0,
        }];
        let x = indices(&loads, &[], 86_400.0, IEEE_1366_SUSTAINED_S);
        assert_eq!(
            (x.saifi, x.saidi_min, x.caidi_min, x.maifi),
            (0.0, 0.0, 0.0, 0.0)
        );
        assert_eq!(x.asai, 1.0);
        let empty = indices(&[], &[], 86_400.0, IEEE_1366_SUSTAINED_S);
        assert_eq!(empty.saifi, 0.0);
    }

    /// An interruption still open at the end of the period is sustained, however short so far.
    #[test]
    fn an_ongoing_interruption_is_sustained() {
        let loads = [Customers {
            customers: 4,
            priority: 1,
        }];
        let out = Interruption {
            load: 0,
            start_s: 3000.0,
            end_s: 3060.0,
            power_kw: 2.0,
            ongoing: true,
        };
        let x = indices(&loads, &[out], 3060.0, IEEE_1366_SUSTAINED_S);
        assert_eq!((x.saifi, x.maifi), (1.0, 0.0));
        assert!(close(x.saidi_min, 1.0));
    }
}
