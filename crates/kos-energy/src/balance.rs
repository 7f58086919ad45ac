//! The per-island balance of supply and demand for one tick.
//!
//! Order of merit, as the community runs its mesh: renewables first; in surplus, storage
//! charges, then the grid tie exports, and only then are renewables curtailed. When short:
//! storage discharges, dispatchable units rise within their ramp limits, the grid tie
//! imports, and last consumers are shed by class: deferrable, then essential, critical last.
//!
//! The plan balances the island's *expected* losses (the last tick's); the power flow's
//! reference unit takes up what is left, so the plan need not be exact.

/// Number of shedding classes; a consumer's `shed_class` is below this.
pub const SHED_CLASSES: usize = 3;

/// What a consumer wants this tick.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Consumer {
    /// Wanted active power, kW.
    pub demand_kw: f64,
    /// Shedding class: consumers of class 0 are shed first, of class `SHED_CLASSES - 1` last
    /// (0 deferrable, 1 essential, 2 critical).
    pub shed_class: usize,
}

/// A battery's limits this tick (AC side).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct StoreLimits {
    /// Largest discharge, kW.
    pub max_discharge_kw: f64,
    /// Largest charge, kW (a positive number).
    pub max_charge_kw: f64,
}

/// A dispatchable unit's reachable range this tick (ramp limits and minimum stable load
/// already applied).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct UnitRange {
    /// Lowest output it can take, kW.
    pub min_kw: f64,
    /// Highest output it can reach, kW.
    pub max_kw: f64,
}

/// A connection to the regional grid.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct TieLimits {
    /// Largest import, kW.
    pub import_kw: f64,
    /// Largest export, kW (a positive number).
    pub export_kw: f64,
}

/// Everything one island offers and asks for this tick.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct IslandOffer {
    /// Power the weather allows each renewable unit to produce, kW.
    pub renewable_kw: Vec<f64>,
    /// Batteries.
    pub stores: Vec<StoreLimits>,
    /// Dispatchable units.
    pub units: Vec<UnitRange>,
    /// Grid ties.
    pub ties: Vec<TieLimits>,
    /// Consumers.
    pub consumers: Vec<Consumer>,
    /// Network losses to cover, kW.
    pub losses_kw: f64,
    /// Net injection of units whose output is measured rather than planned, kW (negative
    /// for a measured battery charging).
    pub fixed_kw: f64,
}

/// The plan for one island: setpoints in the order of the offer.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct IslandPlan {
    /// Output of each renewable unit, kW (available minus curtailed).
    pub renewable_kw: Vec<f64>,
    /// Output of each battery, kW (positive discharging).
    pub store_kw: Vec<f64>,
    /// Output of each dispatchable unit, kW.
    pub unit_kw: Vec<f64>,
    /// Import through each tie, kW (negative: export).
    pub tie_kw: Vec<f64>,
    /// Fraction of each consumer's demand served, 0 to 1.
    pub served: Vec<f64>,
    /// Renewable power not taken, kW.
    pub curtailed_kw: f64,
    /// Demand not served, kW, by shedding class.
    pub shed_kw: [f64; SHED_CLASSES],
}

fn finite_pos(x: f64) -> f64 {
    if x.is_finite() { x.max(0.0) } else { 0.0 }
}

/// Shares `amount` over capacities in proportion to them; each share is at most its
/// capacity. Returns the shares and what could not be placed.
fn share(amount: f64, caps: &[f64]) -> (Vec<f64>, f64) {
    let total: f64 = caps.iter().sum();
    if total <= 0.0 || amount <= 0.0 {
        return (vec![0.0; caps.len()], amount.max(0.0));
    }
    let f = (amount / total).min(1.0);
    (
        caps.iter().map(|c| c * f).collect(),
        (amount - total).max(0.0),
    )
}

/// Balances one island.
pub fn balance(offer: &IslandOffer) -> IslandPlan {
    let avail: Vec<f64> = offer.renewable_kw.iter().map(|&p| finite_pos(p)).collect();
    let units: Vec<UnitRange> = offer
        .units
        .iter()
        .map(|u| {
            let lo = finite_pos(u.min_kw);
            UnitRange {
                min_kw: lo,
                max_kw: finite_pos(u.max_kw).max(lo),
            }
        })
        .collect();
    let demand: f64 = offer
        .consumers
        .iter()
        .map(|c| finite_pos(c.demand_kw))
        .sum();
    let fixed = if offer.fixed_kw.is_finite() {
        offer.fixed_kw
    } else {
        0.0
    };
    let need = demand + finite_pos(offer.losses_kw) - fixed;
    let floor: f64 = avail.iter().sum::<f64>() + units.iter().map(|u| u.min_kw).sum::<f64>();

    let mut plan = IslandPlan {
        renewable_kw: avail.clone(),
        store_kw: vec![0.0; offer.stores.len()],
        unit_kw: units.iter().map(|u| u.min_kw).collect(),
        tie_kw: vec![0.0; offer.ties.len()],
        served: vec![1.0; offer.consumers.len()],
        curtailed_kw: 0.0,
        shed_kw: [0.0; SHED_CLASSES],
    };

    if floor >= need {
        // Surplus: charge, export, then curtail.
        let surplus = floor - need;
        let caps: Vec<f64> = offer
            .stores
            .iter()
            .map(|s| finite_pos(s.max_charge_kw))
            .collect();
        let (charge, rest) = share(surplus, &caps);
        plan.store_kw = charge.iter().map(|c| -c).collect();
        let caps: Vec<f64> = offer.ties.iter().map(|t| finite_pos(t.export_kw)).collect();
        let (export, rest) = share(rest, &caps);
        plan.tie_kw = export.iter().map(|e| -e).collect();
        let (cut, _) = share(rest, &avail);
        for (p, c) in plan.renewable_kw.iter_mut().zip(&cut) {
            *p -= c;
        }
        plan.curtailed_kw = cut.iter().sum();
        return plan;
    }

    // Short: discharge, raise units, import, then shed.
    let deficit = need - floor;
    let caps: Vec<f64> = offer
        .stores
        .iter()
        .map(|s| finite_pos(s.max_discharge_kw))
        .collect();
    let (discharge, rest) = share(deficit, &caps);
    plan.store_kw = discharge;
    let caps: Vec<f64> = units.iter().map(|u| u.max_kw - u.min_kw).collect();
    let (raise, rest) = share(rest, &caps);
    for (p, r) in plan.unit_kw.iter_mut().zip(&raise) {
        *p += r;
    }
    let caps: Vec<f64> = offer.ties.iter().map(|t| finite_pos(t.import_kw)).collect();
    let (import, mut rest) = share(rest, &caps);
    plan.tie_kw = import;
    for class in 0..SHED_CLASSES {
        if rest <= 0.0 {
            break;
        }
        let in_class: f64 = offer
            .consumers
            .iter()
            .filter(|c| c.shed_class == class)
            .map(|c| finite_pos(c.demand_kw))
            .sum();
        if in_class <= 0.0 {
            continue;
        }
        let cut = rest.min(in_class);
        let kept = 1.0 - cut / in_class;
        for (c, s) in offer.consumers.iter().zip(plan.served.iter_mut()) {
            if c.shed_class == class {
                *s = kept;
            }
        }
        plan.shed_kw[class] = cut;
        rest -= cut;
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    fn consumers(kw: &[(f64, usize)]) -> Vec<Consumer> {
        kw.iter()
            .map(|&(demand_kw, shed_class)| Consumer {
                demand_kw,
                shed_class,
            })
            .collect()
    }

    /// Supply minus demand and losses of a plan.
    fn imbalance(offer: &IslandOffer, plan: &IslandPlan) -> f64 {
        let supply: f64 = offer.fixed_kw
            + plan.renewable_kw.iter().sum::<f64>()
            + plan.store_kw.iter().sum::<f64>()
            + plan.unit_kw.iter().sum::<f64>()
            + plan.tie_kw.iter().sum::<f64>();
        let served: f64 = offer
            .consumers
            .iter()
            .zip(&plan.served)
            .map(|(c, s)| c.demand_kw * s)
            .sum();
        supply - served - offer.losses_kw
    }

    #[test]
    fn surplus_charges_then_exports_then_curtails() {
        let offer = IslandOffer {
            renewable_kw: vec![300.0, 100.0],
            stores: vec![StoreLimits {
                max_discharge_kw: 50.0,
                max_charge_kw: 50.0,
            }],
            units: vec![UnitRange {
                min_kw: 0.0,
                max_kw: 100.0,
            }],
            ties: vec![TieLimits {
                import_kw: 100.0,
                export_kw: 80.0,
            }],
            consumers: consumers(&[(100.0, 2), (50.0, 0)]),
            losses_kw: 10.0,
            fixed_kw: 0.0,
        };
        let plan = balance(&offer);
        // 400 available, 160 needed: 50 into the battery, 80 exported, 110 curtailed.
        assert_eq!(plan.store_kw, vec![-50.0]);
        assert_eq!(plan.tie_kw, vec![-80.0]);
        assert!((plan.curtailed_kw - 110.0).abs() < 1e-9);
        // Curtailment in proportion to what each unit could give.
        assert!((plan.renewable_kw[0] - 300.0 * (290.0 / 400.0)).abs() < 1e-9);
        assert_eq!(plan.unit_kw, vec![0.0]);
        assert_eq!(plan.served, vec![1.0, 1.0]);
        assert!(imbalance(&offer, &plan).abs() < 1e-9);
    }

    #[test]
    fn shortage_sheds_deferrable_before_essential_and_spares_critical() {
        let offer = IslandOffer {
            renewable_kw: vec![20.0],
            stores: vec![StoreLimits {
                max_discharge_kw: 30.0,
                max_charge_kw: 30.0,
            }],
            units: vec![UnitRange {
                min_kw: 10.0,
                max_kw: 40.0,
            }],
            ties: vec![],
            consumers: consumers(&[(60.0, 2), (30.0, 1), (40.0, 0)]),
            losses_kw: 0.0,
            fixed_kw: 0.0,
        };
        // Supply at most 20 + 30 + 40 = 90 of 130: shed all 40 deferrable, no more.
        let plan = balance(&offer);
        assert_eq!(plan.store_kw, vec![30.0]);
        assert_eq!(plan.unit_kw, vec![40.0]);
        assert_eq!(plan.shed_kw, [40.0, 0.0, 0.0]);
        assert_eq!(plan.served, vec![1.0, 1.0, 0.0]);
        assert!(imbalance(&offer, &plan).abs() < 1e-9);

        // With 30 less supply, essential loses half and critical nothing.
        let mut short = offer.clone();
        short.renewable_kw = vec![0.0];
        short.units[0].max_kw = 30.0;
        let plan = balance(&short);
        assert_eq!(plan.shed_kw, [40.0, 30.0, 0.0]);
        assert_eq!(plan.served[0], 1.0);
        assert!(imbalance(&short, &plan).abs() < 1e-9);
    }

    #[test]
    fn storage_before_dispatchable_before_import() {
        let offer = IslandOffer {
            renewable_kw: vec![0.0],
            stores: vec![StoreLimits {
                max_discharge_kw: 25.0,
                max_charge_kw: 25.0,
            }],
            units: vec![UnitRange {
                min_kw: 0.0,
                max_kw: 50.0,
            }],
            ties: vec![TieLimits {
                import_kw: 1000.0,
                export_kw: 1000.0,
            }],
            consumers: consumers(&[(100.0, 1)]),
            losses_kw: 0.0,
            fixed_kw: 0.0,
        };
        let plan = balance(&offer);
        assert_eq!(plan.store_kw, vec![25.0]);
        assert_eq!(plan.unit_kw, vec![50.0]);
        assert_eq!(plan.tie_kw, vec![25.0]);
        assert_eq!(plan.shed_kw, [0.0; 3]);
    }

    #[test]
    fn measured_output_is_taken_as_given() {
        // 120 kW measured on a unit in a 100 kW island: the 20 kW surplus charges the battery.
        let offer = IslandOffer {
            renewable_kw: vec![],
            stores: vec![StoreLimits {
                max_discharge_kw: 50.0,
                max_charge_kw: 50.0,
            }],
            units: vec![],
            ties: vec![],
            consumers: consumers(&[(100.0, 1)]),
            losses_kw: 0.0,
            fixed_kw: 120.0,
        };
        let plan = balance(&offer);
        assert_eq!(plan.store_kw, vec![-20.0]);
        assert!(imbalance(&offer, &plan).abs() < 1e-9);
    }

    proptest::proptest! {
        /// Whatever the offer, the plan closes the balance when it can, never exceeds a limit,
        /// and sheds a class only when every cheaper option is spent.
        #[test]
        fn plans_balance_within_limits(
            ren in proptest::collection::vec(0.0f64..500.0, 0..4),
            stores in proptest::collection::vec((0.0f64..100.0, 0.0f64..100.0), 0..3),
            units in proptest::collection::vec((0.0f64..50.0, 0.0f64..200.0), 0..3),
            ties in proptest::collection::vec((0.0f64..300.0, 0.0f64..300.0), 0..2),
            cons in proptest::collection::vec((0.0f64..300.0, 0usize..3), 0..6),
            losses in 0.0f64..20.0,
        ) {
            let offer = IslandOffer {
                renewable_kw: ren.clone(),
                stores: stores.iter().map(|&(d, c)| StoreLimits { max_discharge_kw: d, max_charge_kw: c }).collect(),
                units: units.iter().map(|&(lo, span)| UnitRange { min_kw: lo, max_kw: lo + span }).collect(),
                ties: ties.iter().map(|&(i, e)| TieLimits { import_kw: i, export_kw: e }).collect(),
                consumers: consumers(&cons),
                losses_kw: losses,
                fixed_kw: 0.0,
            };
            let plan = balance(&offer);
            let shed: f64 = plan.shed_kw.iter().sum();
            let err = imbalance(&offer, &plan);
            // Balanced, unless even full shedding leaves losses or must-run units unplaced.
            let demand: f64 = cons.iter().map(|c| c.0).sum();
            let must_run: f64 = offer.units.iter().map(|u| u.min_kw).sum();
            let sinks: f64 = demand + losses
                + offer.stores.iter().map(|s| s.max_charge_kw).sum::<f64>()
                + offer.ties.iter().map(|t| t.export_kw).sum::<f64>();
            if shed < demand - 1e-9 && must_run <= sinks {
                proptest::prop_assert!(err.abs() < 1e-6, "imbalance {err}");
            }
            for (p, a) in plan.renewable_kw.iter().zip(&ren) {
                proptest::prop_assert!(*p >= -1e-9 && *p <= a + 1e-9);
            }
            for (p, s) in plan.store_kw.iter().zip(&offer.stores) {
                proptest::prop_assert!(*p <= s.max_discharge_kw + 1e-9 && -*p <= s.max_charge_kw + 1e-9);
            }
            for (p, u) in plan.unit_kw.iter().zip(&offer.units) {
                proptest::prop_assert!(*p >= u.min_kw - 1e-9 && *p <= u.max_kw + 1e-9);
            }
            for s in &plan.served {
                proptest::prop_assert!((0.0..=1.0).contains(s));
            }
            // A class is shed only when the cheaper classes are fully shed.
            for class in 1..SHED_CLASSES {
                if plan.shed_kw[class] > 1e-9 {
                    for c in offer.consumers.iter().zip(&plan.served).filter(|(c, _)| c.shed_class < class) {
                        proptest::prop_assert!(*c.1 < 1e-12 || c.0.demand_kw == 0.0);
                    }
                }
            }
        }
    }
}
