//! Token balances per household, and the record of every mint and spend.

use super::{Mint, TokenError, Tokens};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// What tokens may buy, if the community puts it on its list. Every item is a priority or a
/// convenience; critical resources (power, water, shelter and bandwidth minimums and shares)
/// have no item, so they cannot be bought, and a scene naming one does not load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Redeemable {
    /// An earlier slot for a deferrable load (washing, water heating, an electric vehicle)
    /// when slots are scheduled.
    DeferrableSlotPriority,
    /// A booking of shared equipment (the tool library, the community kitchen).
    SharedEquipmentBooking,
}

/// How a saving was verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Verification {
    /// From the household's meter.
    Metered,
    /// From the model of its use, where it has no meter.
    Modelled,
}

/// One record for the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Entry {
    Minted {
        household: String,
        event: String,
        verification: Verification,
        saving_wh: u64,
        tokens: Tokens,
        /// The household's balance after the entry.
        balance: Tokens,
    },
    Spent {
        household: String,
        item: Redeemable,
        tokens: Tokens,
        balance: Tokens,
    },
}

/// Every household's tokens, what they may be spent on, and the record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Wallet {
    redeemable: BTreeSet<Redeemable>,
    balances: BTreeMap<String, Tokens>,
    /// (household, event) already minted.
    minted: BTreeSet<(String, String)>,
    entries: Vec<Entry>,
}

impl Wallet {
    /// An empty wallet; tokens buy only the items the community listed.
    pub fn new(redeemable: impl IntoIterator<Item = Redeemable>) -> Self {
        Wallet {
            redeemable: redeemable.into_iter().collect(),
            balances: BTreeMap::new(),
            minted: BTreeSet::new(),
            entries: Vec::new(),
        }
    }

    /// Credits a household with an event's mint; once per household and event.
    pub fn credit(
        &mut self,
        household: &str,
        event: &str,
        verification: Verification,
        mint: Mint,
    ) -> Result<&Entry, TokenError> {
        let key = (household.to_string(), event.to_string());
        if self.minted.contains(&key) {
            return Err(TokenError::AlreadyMinted {
                household: key.0,
                event: key.1,
            });
        }
        let balance = self.balance(household);
        let balance = balance
            .0
            .checked_add(mint.tokens.0)
            .map(Tokens)
            .ok_or_else(|| TokenError::Overflow {
                household: household.into(),
            })?;
        self.minted.insert(key);
        self.balances.insert(household.into(), balance);
        self.entries.push(Entry::Minted {
            household: household.into(),
            event: event.into(),
            verification,
            saving_wh: mint.saving_wh,
            tokens: mint.tokens,
            balance,
        });
        Ok(self.entries.last().expect("just pushed"))
    }

    /// Spends a household's tokens on an item of the community's list.
    pub fn spend(
        &mut self,
        household: &str,
        item: Redeemable,
        amount: Tokens,
    ) -> Result<&Entry, TokenError> {
        if !self.redeemable.contains(&item) {
            return Err(TokenError::NotRedeemable(item));
        }
        let balance = self.balance(household);
        let Some(left) = balance.0.checked_sub(amount.0) else {
            return Err(TokenError::Insufficient {
                household: household.into(),
                balance,
                amount,
            });
        };
        self.balances.insert(household.into(), Tokens(left));
        self.entries.push(Entry::Spent {
            household: household.into(),
            item,
            tokens: amount,
            balance: Tokens(left),
        });
        Ok(self.entries.last().expect("just pushed"))
    }

    /// A household's balance (zero if it never earned).
    pub fn balance(&self, household: &str) -> Tokens {
        self.balances.get(household).copied().unwrap_or_default()
    }

    /// Every household's balance.
    pub fn balances(&self) -> impl Iterator<Item = (&str, Tokens)> {
        self.balances.iter().map(|(h, t)| (h.as_str(), *t))
    }

    /// What the community allows tokens to buy.
    pub fn redeemable(&self) -> impl Iterator<Item = Redeemable> + '_ {
        self.redeemable.iter().copied()
    }

    /// Every mint and spend, in order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }
}
