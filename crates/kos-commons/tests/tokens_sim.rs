//! Eco-tokens over two simulated years of hourly use (a reference year before enrolment, then
//! a year with conservation events) for 300 households with heating and cooling loads under a
//! seasonal temperature with weather spells. Each household is simulated once (its natural
//! use, with its own noise) and then played as twins that differ only in behaviour:
//!
//! - a non-saver (its natural use);
//! - a saver of 10 % of its event-window use;
//! - an honest saver of 10 to 20 %;
//! - inflaters: the honest saver who, after enrolment, also uses 10, 20 or 30 % more outside
//!   the event windows (the hours before an event included), saving the same in them.
//!
//! Each twin is settled against the weather-normalised baseline, CAISO's 10-in-10, and the
//! simulation's own truth: the expected use at the day's weather, which no real baseline
//! can know and which mints only what the household's noise gives a non-saver.

mod common;

use common::Rng;
use kos_commons::{
    DayUse, Rate, Redeemable, Tokens, Verification, Wallet, WeatherBaseline, Window,
    caiso_10_of_10, mint,
};

const HOUSEHOLDS: usize = 300;
const YEAR: u32 = 365;
const INFLATIONS: [f64; 3] = [0.10, 0.20, 0.30];

fn weekday(d: u32) -> bool {
    d % 7 < 5
}

/// The first day of each cold front of the enrolled summer (a Tuesday: its three days are
/// weekdays); a ten-day heat wave comes before each.
fn fronts() -> [u32; 2] {
    let tuesday = |from: u32| (from..).find(|d| d % 7 == 1).unwrap();
    [tuesday(YEAR + 200), tuesday(YEAR + 235)]
}

/// Daily mean temperature: a seasonal cycle (5 °C in January to 23 °C in July) and
/// persistent anomalies (AR(1), spells of several days, about ±2.7 °C); in the enrolled
/// summer, two ten-day heat waves (+6 °C) each broken by a three-day cold front (−6 °C).
fn temperatures(rng: &mut Rng) -> Vec<f64> {
    let mut anomaly = 0.0;
    let mut t: Vec<f64> = (0..2 * YEAR)
        .map(|d| {
            anomaly = 0.75 * anomaly + 1.8 * rng.normal();
            let season = (std::f64::consts::TAU * (f64::from(d % YEAR) - 20.0) / 365.0).cos();
            14.0 - 9.0 * season + anomaly
        })
        .collect();
    for f in fronts() {
        (f - 10..f).for_each(|d| t[d as usize] += 6.0);
        (f..f + 3).for_each(|d| t[d as usize] -= 6.0);
    }
    t
}

/// The hourly shapes of the base load, the cooling load and the heating load.
fn shapes(h: usize) -> (f64, f64, f64) {
    let base = match h {
        0..=6 => 0.5,
        7..=9 => 1.0,
        10..=16 => 0.7,
        17..=22 => 1.4,
        _ => 0.8,
    };
    let cooling = match h {
        12..=21 => 1.0,
        10 | 11 | 22 | 23 => 0.5,
        _ => 0.1,
    };
    let heating = match h {
        6..=9 | 17..=22 => 1.0,
        _ => 0.4,
    };
    (base, cooling, heating)
}

struct House {
    base: f64,
    weekend: f64,
    cool_slope: f64,
    cool_balance: f64,
    heat_slope: f64,
    heat_balance: f64,
    /// The honest twin's saving in event windows.
    saving: f64,
}

impl House {
    fn new(rng: &mut Rng) -> Self {
        House {
            base: rng.range(0.25, 0.6),
            weekend: rng.range(1.0, 1.2),
            cool_slope: rng.range(0.015, 0.05),
            cool_balance: rng.range(17.0, 21.0),
            heat_slope: rng.range(0.01, 0.04),
            heat_balance: rng.range(12.0, 16.0),
            saving: rng.range(0.10, 0.20),
        }
    }

    /// Expected use in an hour at a day's temperature.
    fn expected(&self, d: u32, h: usize, t: f64) -> f64 {
        let (b, c, hs) = shapes(h);
        let wk = if weekday(d) { 1.0 } else { self.weekend };
        self.base * b * wk
            + self.cool_slope * c * (t - self.cool_balance).max(0.0)
            + self.heat_slope * hs * (self.heat_balance - t).max(0.0)
    }
}

/// Event days of the enrolled year (weekdays): the 8 hottest, and the first two days of each
/// cold front (cool days after a hot spell).
fn events(temp: &[f64]) -> (Vec<u32>, Vec<u32>) {
    let cool: Vec<u32> = fronts().iter().flat_map(|&f| [f, f + 1]).collect();
    let mut hot: Vec<u32> = (YEAR + 50..2 * YEAR)
        .filter(|&d| weekday(d) && !cool.contains(&d))
        .collect();
    hot.sort_by(|a, b| temp[*b as usize].total_cmp(&temp[*a as usize]));
    hot.truncate(8);
    (hot, cool)
}

#[derive(Default)]
struct Totals {
    /// Micro-tokens per twin: non-saver, 10 % saver, honest, inflaters.
    non_saver: u64,
    saver10: u64,
    honest: u64,
    inflater: [u64; 3],
}

/// Baseline − truth, summed, and the truth, over event days (for the bias).
#[derive(Default)]
struct Bias {
    error: f64,
    truth: f64,
}

#[test]
fn inflating_never_pays_against_the_weather_baseline_and_weather_alone_mints_almost_nothing() {
    let mut rng = Rng::new(2024);
    let temp = temperatures(&mut rng);
    let (hot, cool) = events(&temp);
    let event_days: Vec<u32> = hot.iter().chain(&cool).copied().collect();
    let window = Window::new(16, 20).unwrap();
    let rate = Rate::per_kwh(1.0).unwrap();
    let (mut weather, mut caiso, mut truth) =
        (Totals::default(), Totals::default(), Totals::default());
    let mut bias_weather = [Bias::default(), Bias::default()];
    let mut bias_caiso = [Bias::default(), Bias::default()];
    let mut inflater_ahead = [0usize; 3];
    let mut wallet = Wallet::new([Redeemable::DeferrableSlotPriority]);
    let mut minted_wh: u64 = 0;

    for hh in 0..HOUSEHOLDS {
        let house = House::new(&mut rng);
        // The natural use, noise and all: a day factor (5 %) and hourly noise (10 %).
        let natural: Vec<DayUse> = (0..2 * YEAR)
            .map(|d| {
                let t = temp[d as usize];
                let day_factor = 1.0 + 0.05 * rng.normal();
                let mut hourly_kwh = [0.0; 24];
                for (h, x) in hourly_kwh.iter_mut().enumerate() {
                    *x = (house.expected(d, h, t) * day_factor * (1.0 + 0.10 * rng.normal()))
                        .max(0.0);
                }
                DayUse {
                    day: d,
                    weekday: weekday(d),
                    mean_temp_c: t,
                    hourly_kwh,
                    event: event_days.contains(&d).then_some(window),
                }
            })
            .collect();
        // A twin: saves `saving` in event windows, inflates other hours after enrolment.
        let twin = |saving: f64, inflation: f64| -> Vec<DayUse> {
            natural
                .iter()
                .map(|day| {
                    let mut day = day.clone();
                    for h in 0..24 {
                        if day.event.is_some() && window.hours().contains(&h) {
                            day.hourly_kwh[h] *= 1.0 - saving;
                        } else if day.day >= YEAR {
                            day.hourly_kwh[h] *= 1.0 + inflation;
                        }
                    }
                    day
                })
                .collect()
        };
        // The weather baseline: the reference year, before anyone knew of the scheme.
        let fitted = WeatherBaseline::fit(&natural[..YEAR as usize], window).unwrap();
        let twins = [
            natural.clone(),
            twin(0.10, 0.0),
            twin(house.saving, 0.0),
            twin(house.saving, INFLATIONS[0]),
            twin(house.saving, INFLATIONS[1]),
            twin(house.saving, INFLATIONS[2]),
        ];
        let mut earned = [[0u64; 6]; 3];
        for &e in &event_days {
            let cool_day = cool.contains(&e) as usize;
            let expected: f64 = window
                .hours()
                .map(|h| house.expected(e, h, temp[e as usize]))
                .sum();
            for (k, days) in twins.iter().enumerate() {
                let day = &days[e as usize];
                let used = window.kwh(day);
                let w = fitted.baseline(day).unwrap();
                let c = caiso_10_of_10(&days[..e as usize], day, window).unwrap();
                if k == 0 {
                    bias_weather[cool_day].error += w - expected;
                    bias_weather[cool_day].truth += expected;
                    bias_caiso[cool_day].error += c - expected;
                    bias_caiso[cool_day].truth += expected;
                }
                for (b, baseline) in [w, c, expected].into_iter().enumerate() {
                    let m = mint(rate, baseline, used);
                    // Whole Wh, rounded down, of the saving; tokens = saving × rate.
                    let saving = (baseline - used).max(0.0) * 1000.0;
                    assert!(m.saving_wh as f64 <= saving && saving < m.saving_wh as f64 + 1.0);
                    assert_eq!(m.tokens.micro(), m.saving_wh * 1000);
                    earned[b][k] += m.tokens.micro();
                    if b == 0 && k == 2 {
                        let event = format!("event-{e}");
                        wallet
                            .credit(&format!("h{hh}"), &event, Verification::Metered, m)
                            .unwrap();
                        minted_wh += m.saving_wh;
                    }
                }
            }
        }
        for (b, totals) in [&mut weather, &mut caiso, &mut truth]
            .into_iter()
            .enumerate()
        {
            let e = earned[b];
            totals.non_saver += e[0];
            totals.saver10 += e[1];
            totals.honest += e[2];
            for x in 0..3 {
                totals.inflater[x] += e[3 + x];
            }
        }
        for x in 0..3 {
            // Against the weather baseline, no inflater earns more than its honest twin.
            assert!(
                earned[0][3 + x] <= earned[0][2],
                "household {hh}, +{}",
                INFLATIONS[x]
            );
            // Against the 10-in-10, the inflater's baseline is its twin's times 1 + x (every
            // day in it, and the hours of the day-of adjustment, inflated alike), so it earns
            // at least 1 + x times as much (less a Wh of rounding per event).
            let floor = (1.0 + INFLATIONS[x]) * earned[1][2] as f64
                - 1000.0 * (1.0 + INFLATIONS[x]) * event_days.len() as f64;
            assert!(
                earned[1][3 + x] as f64 >= floor,
                "household {hh}, +{}",
                INFLATIONS[x]
            );
            inflater_ahead[x] += usize::from(earned[1][3 + x] > earned[1][2]);
        }
    }
    let tokens = |m: u64| Tokens(m).to_string();
    println!("events: hot {hot:?}, cool after hot {cool:?}");
    for (name, t) in [
        ("weather", &weather),
        ("10-in-10", &caiso),
        ("truth", &truth),
    ] {
        println!(
            "{name:>9}: non-saver {}, 10 % saver {}, honest {}, inflaters +10/20/30 % {} {} {}",
            tokens(t.non_saver),
            tokens(t.saver10),
            tokens(t.honest),
            tokens(t.inflater[0]),
            tokens(t.inflater[1]),
            tokens(t.inflater[2]),
        );
    }
    let rel = |b: &Bias| b.error / b.truth;
    println!(
        "baseline bias, hot / cool days: weather {:+.4} / {:+.4}, 10-in-10 {:+.4} / {:+.4}",
        rel(&bias_weather[0]),
        rel(&bias_weather[1]),
        rel(&bias_caiso[0]),
        rel(&bias_caiso[1]),
    );
    println!("10-in-10 inflaters ahead of their honest twin: {inflater_ahead:?} of {HOUSEHOLDS}");

    // Inflating pays against the 10-in-10: nearly every inflater earns more, and in total at
    // least 1 + x times the honest.
    for x in 0..3 {
        assert!(
            inflater_ahead[x] * 100 >= HOUSEHOLDS * 95,
            "{inflater_ahead:?}"
        );
        assert!(caiso.inflater[x] as f64 >= (1.0 + INFLATIONS[x]) * caiso.honest as f64 * 0.99);
        assert!(weather.inflater[x] <= weather.honest);
    }
    // The weather baseline is unbiased, hot days and cool: within 1 % of the truth (its
    // error is the estimation error of a year of noisy days).
    for b in &bias_weather {
        assert!(rel(b).abs() < 0.01, "{}", rel(b));
    }
    // The 10-in-10 is biased by the weather: on the hottest days its eligible days are cooler
    // and its adjustment stops at +20 %, so it falls short of the truth by more than 5 % and
    // under-credits savers. (On the cool days after the heat waves the capped adjustment
    // happens to bring it back near the truth here; `a_cool_day_after_a_hot_fortnight` in
    // tests/tokens.rs shows it over-minting when the swing exceeds the cap.)
    assert!(rel(&bias_caiso[0]) < -0.05, "{}", rel(&bias_caiso[0]));
    assert!((caiso.saver10 as f64) < 0.8 * truth.saver10 as f64);
    // A non-saver earns from its own noise whatever the baseline (the truth mints it too, as
    // each event is settled on its own and a saving is never negative); what the weather
    // baseline adds on top of that must be under 2 % of what 10 % savers earn.
    let excess = weather.non_saver as f64 - truth.non_saver as f64;
    assert!(excess < 0.02 * weather.saver10 as f64, "{excess}");
    // Minted equals saving × rate exactly, summed over every household and event.
    let balances: u64 = wallet.balances().map(|(_, t)| t.micro()).sum();
    assert_eq!(balances, weather.honest);
    assert_eq!(
        u128::from(balances),
        u128::from(minted_wh) * u128::from(rate.milli_tokens_per_kwh())
    );
    assert_eq!(wallet.entries().len(), HOUSEHOLDS * event_days.len());
}
