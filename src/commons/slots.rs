//! Slots for deferrable loads, and the priority tokens buy in them. An island's surplus (what
//! is left when nobody else is short) goes to its deferrable loads by weighted DRF. When it
//! cannot serve every load in full, the slot is contested: each household of a load it would
//! cut that holds the scene's `slot_priority_tokens` spends them (once per slot, recorded in
//! the wallet) and its part of its load's demand is served first; the rest shares what is
//! left. A slot lasts until the load gets all it asks and is owed nothing again.

use bevy::prelude::*;
use kos_commons::{Problem, Redeemable, Tokens, allocate};

use super::TokenBook;

/// A deferrable consumer of an island: its households (0 for a pod) and those that bought
/// priority for its current slot.
#[derive(Debug, Clone)]
pub(super) struct Waiting<'a> {
    pub entity: Entity,
    pub id: &'a str,
    pub households: u32,
    pub priority: u32,
}

/// What the surplus gives each deferrable consumer, and the households that hold priority
/// (bought now or earlier in their slot) for each, by its index in `p`. `p.capacity` is the
/// surplus.
pub(super) fn share_surplus(
    p: &Problem,
    waiting: &[Waiting],
    price: f64,
    book: &mut TokenBook,
) -> (Vec<Vec<f64>>, Vec<u32>) {
    let r = p.capacity.len();
    let base = allocate(p);
    let mut priority: Vec<u32> = waiting.iter().map(|w| w.priority).collect();
    let contested = base.satisfied.iter().any(|s| *s < 1.0 - 1e-9);
    if !contested {
        return (base.amounts, priority);
    }
    if let Some(price) = Tokens::whole(price).filter(|t| *t > Tokens::ZERO) {
        for (i, w) in waiting.iter().enumerate() {
            if w.priority > 0 || base.satisfied[i] >= 1.0 - 1e-9 {
                continue;
            }
            for h in 0..w.households {
                let household = format!("{}/{h}", w.id);
                if book
                    .wallet
                    .spend(&household, Redeemable::DeferrableSlotPriority, price)
                    .is_ok()
                {
                    priority[i] += 1;
                    book.spent_now += price.as_f64();
                }
            }
        }
    }
    let fraction: Vec<f64> = waiting
        .iter()
        .zip(&priority)
        .map(|(w, &n)| {
            if w.households == 0 {
                0.0
            } else {
                f64::from(n.min(w.households)) / f64::from(w.households)
            }
        })
        .collect();
    if fraction.iter().all(|f| *f == 0.0) {
        return (base.amounts, priority);
    }
    // The bought parts first, by DRF among them.
    let mut first = p.clone();
    for (c, f) in first.consumers.iter_mut().zip(&fraction) {
        c.demand.iter_mut().for_each(|d| *d *= f);
        c.minimum.clear();
    }
    let got = allocate(&first).amounts;
    // Then everyone's rest in what is left.
    let mut rest = p.clone();
    for k in 0..r {
        let used: f64 = got.iter().map(|g| g[k]).sum();
        rest.capacity[k] = (rest.capacity[k] - used).max(0.0);
    }
    for (c, g) in rest.consumers.iter_mut().zip(&got) {
        for k in 0..r {
            c.demand[k] = (c.demand[k] - g[k]).max(0.0);
        }
        for (k, m) in c.minimum.iter_mut().enumerate() {
            *m = (*m - g[k]).max(0.0).min(c.demand[k]);
        }
    }
    let more = allocate(&rest).amounts;
    let amounts = got
        .iter()
        .zip(&more)
        .map(|(a, b)| a.iter().zip(b).map(|(x, y)| x + y).collect())
        .collect();
    (amounts, priority)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kos_commons::{Consumer, Entry, Rate, Verification, mint};

    fn deferrable(id: &str, kw: f64, households: u32) -> Consumer {
        Consumer {
            id: id.into(),
            demand: vec![kw],
            weight: f64::from(households),
            minimum: Vec::new(),
            priority: 0,
        }
    }

    /// Two shops-sized loads of 10 households asking 10 kW each from 8 kW of surplus; three
    /// households of `b` hold 2 tokens, one holds 0.5.
    fn setup() -> (Problem, Vec<Waiting<'static>>, TokenBook) {
        let p = Problem {
            resources: vec!["power_kw".into()],
            capacity: vec![8.0],
            consumers: vec![deferrable("a", 10.0, 10), deferrable("b", 10.0, 10)],
            groups: Vec::new(),
        };
        let waiting = vec![
            Waiting {
                entity: Entity::from_raw_u32(1).unwrap(),
                id: "a",
                households: 10,
                priority: 0,
            },
            Waiting {
                entity: Entity::from_raw_u32(2).unwrap(),
                id: "b",
                households: 10,
                priority: 0,
            },
        ];
        let mut book = TokenBook::default();
        let rate = Rate::per_kwh(1.0).unwrap();
        for (h, kwh) in [(0, 2.0), (1, 2.0), (2, 2.0), (3, 0.5)] {
            book.wallet
                .credit(
                    &format!("b/{h}"),
                    "event-1",
                    Verification::Metered,
                    mint(rate, kwh, 0.0),
                )
                .unwrap();
        }
        (p, waiting, book)
    }

    #[test]
    fn households_that_spend_go_first_and_pay_once_per_slot() {
        let (p, mut waiting, mut book) = setup();
        let (got, priority) = share_surplus(&p, &waiting, 1.0, &mut book);
        // b's three households with a token bought priority: their 3 kW first, then the
        // remaining 5 kW shared by DRF (a 10 kW asked, b 7 kW more): 2.5 each.
        assert_eq!(priority, vec![0, 3]);
        assert!((got[0][0] - 2.5).abs() < 1e-9, "{got:?}");
        assert!((got[1][0] - 5.5).abs() < 1e-9, "{got:?}");
        // Exactly one token each, recorded; the household with half a token kept it.
        let spent: Vec<_> = book
            .wallet
            .entries()
            .iter()
            .filter_map(|e| match e {
                Entry::Spent {
                    household, tokens, ..
                } => Some((household.clone(), *tokens)),
                _ => None,
            })
            .collect();
        assert_eq!(spent.len(), 3);
        assert!(spent.iter().all(|(_, t)| *t == Tokens(1_000_000)));
        assert_eq!(book.wallet.balance("b/0"), Tokens(1_000_000));
        assert_eq!(book.wallet.balance("b/3"), Tokens(500_000));
        assert!((book.spent_now - 3.0).abs() < 1e-12);
        // Later in the same slot: the priority holds and nobody pays again.
        waiting[1].priority = priority[1];
        let before = book.wallet.entries().len();
        let (again, _) = share_surplus(&p, &waiting, 1.0, &mut book);
        assert_eq!(again, got);
        assert_eq!(book.wallet.entries().len(), before);
    }

    #[test]
    fn without_a_price_or_a_contest_nobody_pays_and_drf_decides() {
        let (p, waiting, mut book) = setup();
        let (got, priority) = share_surplus(&p, &waiting, 0.0, &mut book);
        assert_eq!(priority, vec![0, 0]);
        assert_eq!(got, allocate(&p).amounts);
        assert!((got[0][0] - 4.0).abs() < 1e-9);
        // Enough for both: nobody is cut, nobody pays.
        let mut plenty = p.clone();
        plenty.capacity = vec![25.0];
        let (got, priority) = share_surplus(&plenty, &waiting, 1.0, &mut book);
        assert_eq!(priority, vec![0, 0]);
        assert_eq!(got, vec![vec![10.0], vec![10.0]]);
        assert!(
            !book
                .wallet
                .entries()
                .iter()
                .any(|e| matches!(e, Entry::Spent { .. }))
        );
    }
}
