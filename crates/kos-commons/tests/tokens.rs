//! Eco-tokens piece by piece: the 10-in-10 against a hand computation, the weather baseline
//! recovering the model that made its data, the 10-in-10 and the weather baseline on a cool
//! day after a hot fortnight (and the reverse), minting exactly, and what tokens may buy.

use kos_commons::tokens::DegreeDayModel;
use kos_commons::{
    DayUse, Entry, Rate, Redeemable, TokenError, Tokens, Verification, Wallet, WeatherBaseline,
    Window, caiso_10_of_10, mint,
};
use proptest::prelude::*;

fn flat(day: u32, weekday: bool, kwh: f64) -> DayUse {
    DayUse {
        day,
        weekday,
        mean_temp_c: 20.0,
        hourly_kwh: [kwh; 24],
        event: None,
    }
}

#[test]
fn the_10_in_10_takes_the_ten_latest_eligible_weekdays_and_a_capped_adjustment() {
    let w = Window::new(16, 20).unwrap();
    // Days 1 to 14 use d kWh every hour; day 12 is a weekend day, day 13 an event day.
    let mut history: Vec<DayUse> = (1..=14).map(|d| flat(d, d != 12, f64::from(d))).collect();
    history[12].event = Some(w);
    // Eligible, latest first: 14, 11, 10, ..., 3 (ten days; 1 and 2 are older).
    let mean = (14 + 11 + 10 + 9 + 8 + 7 + 6 + 5 + 4 + 3) as f64 / 10.0;
    let event = |day: u32, morning: f64| {
        let mut d = flat(day, true, 1000.0);
        // Hours 12 to 14 set the adjustment; hour 15 (just before the event) and the rest
        // do not count.
        d.hourly_kwh[12..15].fill(morning);
        d.event = Some(w);
        d
    };
    let close = |a: Option<f64>, b: f64| (a.unwrap() - b).abs() < 1e-9;
    assert!(close(
        caiso_10_of_10(&history, &event(20, mean * 1.1), w),
        4.0 * mean * 1.1
    ));
    // The adjustment is capped at ±20 %.
    assert!(close(
        caiso_10_of_10(&history, &event(20, mean * 3.0), w),
        4.0 * mean * 1.2
    ));
    assert!(close(
        caiso_10_of_10(&history, &event(20, 0.0), w),
        4.0 * mean * 0.8
    ));
    // 45 days back at most: from day 50, days 5 to 14 (eight eligible).
    let mean50 = (14 + 11 + 10 + 9 + 8 + 7 + 6 + 5) as f64 / 8.0;
    assert!(close(
        caiso_10_of_10(&history, &event(50, mean50), w),
        4.0 * mean50
    ));
    // From day 55, three eligible days: fewer than five, no baseline.
    assert_eq!(caiso_10_of_10(&history, &event(55, 1.0), w), None);
    // An event before 04:00 has no adjustment.
    let night = Window::new(1, 5).unwrap();
    assert!(close(
        caiso_10_of_10(&history, &event(20, 0.0), night),
        4.0 * mean
    ));
    // A weekend event: the four latest weekend days (here only day 12 and one more).
    history.push(flat(5, false, 100.0));
    let mut sunday = flat(20, false, 0.0);
    sunday.hourly_kwh[12..15].fill((12.0 + 100.0) / 2.0);
    assert!(close(
        caiso_10_of_10(&history, &sunday, w),
        4.0 * (12.0 + 100.0) / 2.0
    ));
}

/// Noise-free reference data: window use = 2 + 0.3 CDD(20 °C) + 0.2 HDD(14 °C) on weekdays,
/// 1.5 times that on weekends, over temperatures from −5 to 35 °C.
fn synthetic(days: u32) -> Vec<DayUse> {
    (0..days)
        .map(|d| {
            let t = -5.0 + 40.0 * f64::from((d * 37) % days) / f64::from(days);
            let weekday = d % 7 < 5;
            let window = (2.0 + 0.3 * (t - 20.0f64).max(0.0) + 0.2 * (14.0 - t).max(0.0))
                * if weekday { 1.0 } else { 1.5 };
            let mut hourly_kwh = [0.7; 24];
            hourly_kwh[16..20].fill(window / 4.0);
            DayUse {
                day: d,
                weekday,
                mean_temp_c: t,
                hourly_kwh,
                event: None,
            }
        })
        .collect()
}

#[test]
fn the_weather_baseline_recovers_the_model_that_made_its_data() {
    let w = Window::new(16, 20).unwrap();
    let b = WeatherBaseline::fit(&synthetic(365), w).unwrap();
    let m = b.model(true);
    let (c, h) = (m.cooling.unwrap(), m.heating.unwrap());
    assert_eq!((c.balance_c, h.balance_c), (20.0, 14.0));
    assert!(
        (c.slope - 0.3).abs() < 1e-9 && (h.slope - 0.2).abs() < 1e-9,
        "{m:?}"
    );
    assert!((m.intercept - 2.0).abs() < 1e-9);
    assert!((b.model(false).intercept - 3.0).abs() < 1e-9);
    for t in [-10.0, 0.0, 14.0, 17.0, 20.0, 25.0, 40.0] {
        let truth = 2.0 + 0.3 * (t - 20.0f64).max(0.0) + 0.2 * (14.0 - t).max(0.0);
        assert!((b.predict(true, t) - truth).abs() < 1e-8, "{t}");
        assert!((b.predict(false, t) - 1.5 * truth).abs() < 1e-8, "{t}");
    }
    assert_eq!(b.reference_days(), (0, 364));
}

#[test]
fn the_weather_baseline_ignores_event_days_and_everything_after_its_fit() {
    let w = Window::new(16, 20).unwrap();
    let reference = synthetic(365);
    let fitted = WeatherBaseline::fit(&reference, w).unwrap();
    // Event days in the reference, however much they used, do not enter the fit.
    let mut with_events = reference.clone();
    for d in with_events.iter_mut().step_by(17) {
        d.hourly_kwh = [50.0; 24];
        d.event = Some(w);
    }
    with_events.extend(reference.iter().take(5).map(|d| DayUse {
        event: Some(w),
        hourly_kwh: [99.0; 24],
        ..d.clone()
    }));
    let refit = WeatherBaseline::fit(&with_events, w).unwrap();
    for t in [-5.0, 10.0, 18.0, 30.0] {
        assert!((refit.predict(true, t) - fitted.predict(true, t)).abs() < 1e-6);
    }
    // The baseline of a day is the model at its temperature: its use, and the use of any
    // day since the fit, cannot move it.
    let mut day = synthetic(365)[100].clone();
    day.day = 900;
    day.event = Some(w);
    let before = fitted.baseline(&day).unwrap();
    day.hourly_kwh = [10.0; 24];
    assert_eq!(fitted.baseline(&day), Some(before));
    // Another window, or no temperature: no baseline.
    day.event = Some(Window::new(17, 21).unwrap());
    assert_eq!(fitted.baseline(&day), None);
    day.event = Some(w);
    day.mean_temp_c = f64::NAN;
    assert_eq!(fitted.baseline(&day), None);
}

#[test]
fn too_little_reference_data_falls_back_to_the_mean_or_to_nothing() {
    let w = Window::new(16, 20).unwrap();
    match WeatherBaseline::fit(&synthetic(365)[..9], w) {
        Err(TokenError::TooLittleData {
            days: 9,
            needed: 10,
        }) => {}
        other => panic!("{other:?}"),
    }
    let few = &synthetic(365)[..15];
    let b = WeatherBaseline::fit(few, w).unwrap();
    let mean = few.iter().map(|d| w.kwh(d)).sum::<f64>() / 15.0;
    let m = b.model(true);
    assert!(m.cooling.is_none() && m.heating.is_none());
    assert!((m.intercept - mean).abs() < 1e-12);
    // Flat use: the mean, whatever the temperature.
    let flat_points: Vec<(f64, f64)> = (0..100).map(|i| (f64::from(i) / 3.0, 4.0)).collect();
    let m = DegreeDayModel::fit(&flat_points);
    assert_eq!((m.cooling, m.heating, m.intercept), (None, None, 4.0));
}

/// A household without noise: 0.5 kWh an hour, and 0.05 kWh an hour per degree above 18 °C
/// from noon to 22:00 (cooling); its window use at a temperature.
fn cooled(day: u32, t: f64, event: Option<Window>) -> DayUse {
    let mut hourly_kwh = [0.5; 24];
    hourly_kwh[12..22]
        .iter_mut()
        .for_each(|h| *h += 0.05 * (t - 18.0).max(0.0));
    DayUse {
        day,
        weekday: true,
        mean_temp_c: t,
        hourly_kwh,
        event,
    }
}

#[test]
fn a_cool_day_after_a_hot_fortnight_and_a_hot_day_after_a_cool_one() {
    let w = Window::new(16, 20).unwrap();
    let rate = Rate::per_kwh(1.0).unwrap();
    // The reference year: a seasonal cycle from 8 to 30 °C.
    let reference: Vec<DayUse> = (0..365)
        .map(|d| {
            let t = 19.0 - 11.0 * (std::f64::consts::TAU * f64::from(d) / 365.0).cos();
            cooled(d, t, None)
        })
        .collect();
    let weather = WeatherBaseline::fit(&reference, w).unwrap();
    // A hot fortnight (30 °C), then a cool event day (16 °C) on which the household saves
    // nothing: its window uses 2 kWh, as on any cool day.
    let hot: Vec<DayUse> = (400..414).map(|d| cooled(d, 30.0, None)).collect();
    let cool = cooled(414, 16.0, Some(w));
    let used = w.kwh(&cool);
    assert!((used - 2.0).abs() < 1e-12);
    // The 10-in-10: 4 × 1.1 kWh from the hot days, adjusted down by at most 20 %: 3.52 kWh,
    // and 1.52 kWh minted for nothing. The weather baseline: 2 kWh, nothing minted.
    let caiso = caiso_10_of_10(&hot, &cool, w).unwrap();
    assert!((caiso - 3.52).abs() < 1e-9, "{caiso}");
    assert!((1519..=1520).contains(&mint(rate, caiso, used).saving_wh));
    assert_eq!(
        mint(rate, weather.baseline(&cool).unwrap(), used).saving_wh,
        0
    );
    // A cool fortnight (16 °C), then a hot event day (30 °C) on which it saves 20 %: 4.4 kWh
    // expected, 3.52 used. The 10-in-10 gives 2 kWh × 1.2 = 2.4 and nothing for the saving;
    // the weather baseline credits the 0.88 kWh saved.
    let cool_days: Vec<DayUse> = (400..414).map(|d| cooled(d, 16.0, None)).collect();
    let mut hot_event = cooled(414, 30.0, Some(w));
    w.hours().for_each(|h| hot_event.hourly_kwh[h] *= 0.8);
    let used = w.kwh(&hot_event);
    let caiso = caiso_10_of_10(&cool_days, &hot_event, w).unwrap();
    assert!((caiso - 2.4).abs() < 1e-9, "{caiso}");
    assert_eq!(mint(rate, caiso, used).saving_wh, 0);
    let saved = mint(rate, weather.baseline(&hot_event).unwrap(), used).saving_wh;
    assert!((879..=880).contains(&saved), "{saved}");
}

#[test]
fn minting_is_saving_times_rate_exactly() {
    let r = Rate::per_kwh(1.5).unwrap();
    assert_eq!(r.milli_tokens_per_kwh(), 1500);
    let m = mint(r, 10.0, 7.5);
    assert_eq!((m.saving_wh, m.tokens), (2500, Tokens(3_750_000)));
    assert_eq!(m.tokens.to_string(), "3.750000");
    assert_eq!(m.saving_kwh(), 2.5);
    // Using more than the baseline earns nothing (and costs nothing).
    assert_eq!(mint(r, 5.0, 6.0).tokens, Tokens::ZERO);
    // Fractions of a Wh are not verified.
    assert_eq!(mint(r, 1.0, 0.0004).saving_wh, 999);
    // Exporting is not saving: use below zero counts as zero.
    assert_eq!(mint(r, 2.0, -3.0).saving_wh, 2000);
    // What cannot be verified earns nothing.
    assert_eq!(mint(r, f64::NAN, 1.0).saving_wh, 0);
    assert_eq!(mint(r, f64::INFINITY, 1.0).saving_wh, 0);
    assert_eq!(mint(r, 3.0, f64::NAN).saving_wh, 0);
    // Rates from 0 to 1000 tokens per kWh; written as a number in a scene.
    for bad in [-0.1, 1000.5, f64::NAN] {
        assert!(
            matches!(Rate::per_kwh(bad), Err(TokenError::Rate(_))),
            "{bad}"
        );
    }
    let r: Rate = serde_json::from_str("0.25").unwrap();
    assert_eq!(r.milli_tokens_per_kwh(), 250);
    assert!(serde_json::from_str::<Rate>("-1").is_err());
}

proptest! {
    #[test]
    fn every_mint_and_every_sum_is_exact(
        events in prop::collection::vec((0.0f64..50.0, 0.0f64..50.0), 1..60),
        rate in 0.0f64..=1000.0,
    ) {
        let r = Rate::per_kwh(rate).unwrap();
        let mut wallet = Wallet::new([Redeemable::DeferrableSlotPriority]);
        let mut saved: u128 = 0;
        for (i, (baseline, used)) in events.iter().enumerate() {
            let m = mint(r, *baseline, *used);
            let truth = (baseline - used).max(0.0) * 1000.0;
            prop_assert!(m.saving_wh as f64 <= truth && truth < m.saving_wh as f64 + 1.0);
            prop_assert_eq!(u128::from(m.tokens.micro()), u128::from(m.saving_wh) * u128::from(r.milli_tokens_per_kwh()));
            // Using more never earns more.
            prop_assert!(mint(r, *baseline, used + 0.5).tokens <= m.tokens);
            wallet.credit("h", &format!("e{i}"), Verification::Modelled, m).unwrap();
            saved += u128::from(m.saving_wh);
        }
        prop_assert_eq!(u128::from(wallet.balance("h").micro()), saved * u128::from(r.milli_tokens_per_kwh()));
    }
}

#[test]
fn tokens_buy_only_what_the_community_listed() {
    let r = Rate::per_kwh(2.0).unwrap();
    let mut wallet = Wallet::new([Redeemable::DeferrableSlotPriority]);
    wallet
        .credit("a", "heat-1", Verification::Metered, mint(r, 5.0, 4.0))
        .unwrap();
    assert_eq!(wallet.balance("a"), Tokens(2_000_000));
    // Once per household and event.
    assert_eq!(
        wallet.credit("a", "heat-1", Verification::Metered, mint(r, 5.0, 3.0)),
        Err(TokenError::AlreadyMinted {
            household: "a".into(),
            event: "heat-1".into()
        })
    );
    // Not on the list; more than the balance; someone with none: refused, nothing changes.
    assert_eq!(
        wallet.spend("a", Redeemable::SharedEquipmentBooking, Tokens(1)),
        Err(TokenError::NotRedeemable(
            Redeemable::SharedEquipmentBooking
        ))
    );
    assert!(matches!(
        wallet.spend("a", Redeemable::DeferrableSlotPriority, Tokens(2_000_001)),
        Err(TokenError::Insufficient { .. })
    ));
    assert!(
        wallet
            .spend("b", Redeemable::DeferrableSlotPriority, Tokens(1))
            .is_err()
    );
    assert_eq!(wallet.balance("a"), Tokens(2_000_000));
    let e = wallet
        .spend("a", Redeemable::DeferrableSlotPriority, Tokens(1_500_000))
        .unwrap()
        .clone();
    assert_eq!(
        e,
        Entry::Spent {
            household: "a".into(),
            item: Redeemable::DeferrableSlotPriority,
            tokens: Tokens(1_500_000),
            balance: Tokens(500_000),
        }
    );
    assert_eq!(wallet.entries().len(), 2);
    match &wallet.entries()[0] {
        Entry::Minted {
            household,
            event,
            saving_wh,
            tokens,
            balance,
            ..
        } => {
            assert_eq!((household.as_str(), event.as_str()), ("a", "heat-1"));
            assert_eq!(
                (*saving_wh, *tokens, *balance),
                (1000, Tokens(2_000_000), Tokens(2_000_000))
            );
        }
        e => panic!("{e:?}"),
    }
    // Critical resources have no item: a scene listing one does not load.
    for critical in [
        "\"Water\"",
        "\"Power\"",
        "\"ShelterPlace\"",
        "\"Bandwidth\"",
    ] {
        assert!(
            serde_json::from_str::<Redeemable>(critical).is_err(),
            "{critical}"
        );
    }
    assert_eq!(
        serde_json::from_str::<Redeemable>("\"DeferrableSlotPriority\"").unwrap(),
        Redeemable::DeferrableSlotPriority
    );
    // The record goes into the ledger as JSON.
    let json = serde_json::to_string(wallet.entries()).unwrap();
    assert!(
        json.contains("\"Minted\"") && json.contains("\"Spent\""),
        "{json}"
    );
}

#[test]
fn windows_and_days_are_checked_where_they_are_read() {
    assert!(Window::new(5, 5).is_err() && Window::new(20, 25).is_err());
    assert_eq!(Window::new(0, 24).unwrap().hours(), 0..24);
    let day = r#"{"day": 3, "weekday": true, "mean_temp_c": 31.5,
        "hourly_kwh": [1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,2,2,2,2,1,1,1,1], "event": [16, 20]}"#;
    let d: DayUse = serde_json::from_str(day).unwrap();
    assert_eq!(d.event, Some(Window::new(16, 20).unwrap()));
    assert_eq!(Window::new(16, 20).unwrap().kwh(&d), 8.0);
    assert!(serde_json::from_str::<DayUse>(&day.replace("[16, 20]", "[20, 16]")).is_err());
}

/// A price written in whole tokens is held to the micro-token; what is not a price is refused.
#[test]
fn prices_in_whole_tokens_are_exact_micro_tokens() {
    use kos_commons::Tokens;
    assert_eq!(Tokens::whole(1.5), Some(Tokens(1_500_000)));
    assert_eq!(Tokens::whole(0.000_000_4), Some(Tokens(0)));
    assert_eq!(Tokens::whole(2.000_000_6), Some(Tokens(2_000_001)));
    for bad in [-0.5, f64::NAN, f64::INFINITY, 1e20] {
        assert_eq!(Tokens::whole(bad), None, "{bad}");
    }
}
