//! A proposal's way through the meeting, in the spirit of Decidim and CONSUL: draft, supports
//! (a threshold of members before it goes forward), simulated (the comparison frozen by its
//! fingerprint), open for voting until a deadline, decided under quorum and threshold,
//! enacted; every step timestamped. Overrides are the same way under stricter rules: only
//! stewards vote, two thirds of them must agree, the decision comes as soon as it is certain,
//! and an enacted override lapses by itself after its minutes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::proposal::{Change, Proposal};
use crate::roll::{Act, Roll, Signed};

/// Share of the votes cast (agree against disagree and block) needed to pass.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Threshold {
    /// More than half.
    Majority,
    /// At least two thirds.
    TwoThirds,
}

impl Threshold {
    fn passes(self, agree: u32, against: u32) -> bool {
        let cast = agree + against;
        cast > 0
            && match self {
                Threshold::Majority => 2 * agree > cast,
                Threshold::TwoThirds => 3 * agree >= 2 * cast,
            }
    }
}

/// The rules a proposal is decided by.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    /// Supports needed before it goes forward.
    pub supports: u32,
    /// Share of the eligible members that must take part (abstentions count).
    pub quorum: f64,
    pub threshold: Threshold,
    /// Hours open for voting (0: decided as soon as the outcome is certain).
    pub period_h: f64,
    /// Only stewards vote.
    pub stewards_only: bool,
    /// One block fails it.
    pub block_vetoes: bool,
}

impl Rules {
    /// The default rules of a change: two thirds for minimums and overrides (overrides by
    /// the stewards, at once), a simple majority for the rest; a quorum of 30 % and three
    /// days to vote.
    pub fn default_for(change: &Change) -> Self {
        let ordinary = Rules {
            supports: 3,
            quorum: 0.3,
            threshold: Threshold::Majority,
            period_h: 72.0,
            stewards_only: false,
            block_vetoes: false,
        };
        match change {
            Change::Minimum { .. } => Rules {
                threshold: Threshold::TwoThirds,
                ..ordinary
            },
            Change::Override { .. } => Rules {
                supports: 0,
                quorum: 2.0 / 3.0,
                threshold: Threshold::TwoThirds,
                period_h: 0.0,
                stewards_only: true,
                block_vetoes: true,
            },
            _ => ordinary,
        }
    }
}

/// Where a proposal is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Draft,
    Supported,
    Simulated,
    Open,
    Passed,
    Failed,
    Enacted,
    /// An enacted override whose time ran out.
    Lapsed,
}

/// Why a support or ballot was not counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rejection {
    /// No signature.
    Unsigned,
    /// A signature that is not the member's over this act on this proposal.
    Forged,
    /// Not on the roll.
    NotMember,
    /// An override, and not a steward.
    NotSteward,
    /// No later than the one already counted from the member.
    Duplicate,
    /// After the deadline (or signed after it).
    Late,
    /// The proposal is not taking this now (a ballot before voting opens, a support after).
    NotOpen,
    /// For another proposal.
    WrongProposal,
}

/// The count when voting closed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tally {
    pub eligible: u32,
    pub agree: u32,
    pub abstain: u32,
    pub disagree: u32,
    pub block: u32,
    pub quorum_met: bool,
    pub passed: bool,
}

/// A proposal in the meeting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Process {
    pub proposal: Proposal,
    pub fingerprint: String,
    pub rules: Rules,
    pub stage: Stage,
    /// Every step with its time (local seconds since 1970).
    pub history: Vec<(Stage, i64)>,
    /// Supports by member, with the time signed.
    pub supports: BTreeMap<String, i64>,
    /// The ballot counted from each member, with the time signed.
    pub ballots: BTreeMap<String, (Act, i64)>,
    /// The comparison's fingerprint, frozen before voting opens.
    pub comparison: Option<String>,
    /// When voting closes.
    pub closes_at: Option<i64>,
    pub tally: Option<Tally>,
    /// Until when an enacted override holds.
    pub holds_until: Option<i64>,
    /// Supports and ballots not counted, by reason.
    pub rejected: BTreeMap<Rejection, u64>,
}

/// A step the proposal cannot take now.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{proposal} is {stage:?}: it cannot {step}")]
pub struct OutOfTurn {
    pub proposal: String,
    pub stage: Stage,
    pub step: &'static str,
}

impl Process {
    /// A draft by a member of the roll, under `rules`.
    pub fn new(
        proposal: Proposal,
        rules: Rules,
        roll: &Roll,
        now: i64,
    ) -> Result<Self, crate::Error> {
        if roll.member(&proposal.author).is_none() {
            return Err(crate::Error::Invalid {
                proposal: proposal.id.clone(),
                problems: vec![format!("author: `{}` is not on the roll", proposal.author)],
            });
        }
        let mut p = Process {
            fingerprint: proposal.fingerprint_hex(),
            proposal,
            rules,
            stage: Stage::Draft,
            history: Vec::new(),
            supports: BTreeMap::new(),
            ballots: BTreeMap::new(),
            comparison: None,
            closes_at: None,
            tally: None,
            holds_until: None,
            rejected: BTreeMap::new(),
        };
        p.step(Stage::Draft, now);
        if p.rules.supports == 0 {
            p.step(Stage::Supported, now);
        }
        Ok(p)
    }

    fn step(&mut self, stage: Stage, at: i64) {
        self.stage = stage;
        self.history.push((stage, at));
    }

    fn out_of_turn(&self, step: &'static str) -> OutOfTurn {
        OutOfTurn {
            proposal: self.proposal.id.clone(),
            stage: self.stage,
            step,
        }
    }

    /// Checks a signed act against the roll: the reason it does not count, if any.
    fn check(&self, s: &Signed, roll: &Roll) -> Result<(), Rejection> {
        if s.proposal != self.proposal.id {
            return Err(Rejection::WrongProposal);
        }
        let Some(member) = roll.member(&s.member) else {
            return Err(Rejection::NotMember);
        };
        if s.signature.is_empty() {
            return Err(Rejection::Unsigned);
        }
        if !s.verifies(member, &self.fingerprint) {
            return Err(Rejection::Forged);
        }
        if self.rules.stewards_only && !member.steward && s.act != Act::Support {
            return Err(Rejection::NotSteward);
        }
        Ok(())
    }

    fn reject(&mut self, r: Rejection) -> Result<(), Rejection> {
        *self.rejected.entry(r).or_default() += 1;
        Err(r)
    }

    /// A member's support, while it gathers them.
    pub fn support(&mut self, s: &Signed, roll: &Roll, now: i64) -> Result<(), Rejection> {
        if let Err(r) = self.check(s, roll) {
            return self.reject(r);
        }
        if s.act != Act::Support || self.stage != Stage::Draft {
            return self.reject(Rejection::NotOpen);
        }
        if self.supports.contains_key(&s.member) {
            return self.reject(Rejection::Duplicate);
        }
        self.supports.insert(s.member.clone(), s.at);
        if self.supports.len() as u32 >= self.rules.supports {
            self.step(Stage::Supported, now);
        }
        Ok(())
    }

    /// The comparison of the proposal against the baseline, frozen by its fingerprint.
    pub fn simulated(&mut self, comparison_fingerprint: &str, now: i64) -> Result<(), OutOfTurn> {
        if self.stage != Stage::Supported {
            return Err(self.out_of_turn("be simulated"));
        }
        self.comparison = Some(comparison_fingerprint.into());
        self.step(Stage::Simulated, now);
        Ok(())
    }

    /// Opens the vote: once supported, and simulated unless there is nothing to simulate.
    pub fn open(&mut self, now: i64) -> Result<(), OutOfTurn> {
        let ready = match self.stage {
            Stage::Simulated => true,
            Stage::Supported => !self.proposal.change.simulated(),
            _ => false,
        };
        if !ready {
            return Err(self.out_of_turn("open for voting"));
        }
        self.closes_at = Some(now + (self.rules.period_h * 3600.0).round() as i64);
        self.step(Stage::Open, now);
        Ok(())
    }

    /// A member's ballot while voting is open; a later ballot replaces the member's earlier
    /// one. Under rules with no voting period, the vote closes as soon as its outcome is
    /// certain.
    pub fn cast(&mut self, s: &Signed, roll: &Roll, now: i64) -> Result<(), Rejection> {
        if let Err(r) = self.check(s, roll) {
            return self.reject(r);
        }
        if s.act == Act::Support || self.stage != Stage::Open {
            return self.reject(Rejection::NotOpen);
        }
        let deadline = self.closes_at.unwrap_or(i64::MAX);
        if self.rules.period_h > 0.0 && (now > deadline || s.at > deadline) {
            return self.reject(Rejection::Late);
        }
        if self
            .ballots
            .get(&s.member)
            .is_some_and(|(_, at)| *at >= s.at)
        {
            return self.reject(Rejection::Duplicate);
        }
        self.ballots.insert(s.member.clone(), (s.act, s.at));
        if self.rules.period_h <= 0.0 {
            let t = self.count(roll);
            if t.passed || self.certain_to_fail(&t) {
                self.decide(t, now);
            }
        }
        Ok(())
    }

    fn count(&self, roll: &Roll) -> Tally {
        let eligible = roll.eligible(self.rules.stewards_only) as u32;
        let n = |a: Act| self.ballots.values().filter(|(x, _)| *x == a).count() as u32;
        let (agree, abstain, disagree, block) = (
            n(Act::Agree),
            n(Act::Abstain),
            n(Act::Disagree),
            n(Act::Block),
        );
        let turnout = agree + abstain + disagree + block;
        let quorum_met =
            eligible > 0 && f64::from(turnout) >= self.rules.quorum * f64::from(eligible) - 1e-9;
        let vetoed = self.rules.block_vetoes && block > 0;
        let passed = quorum_met && !vetoed && self.rules.threshold.passes(agree, disagree + block);
        Tally {
            eligible,
            agree,
            abstain,
            disagree,
            block,
            quorum_met,
            passed,
        }
    }

    /// Whether no ballot still to come could make it pass.
    fn certain_to_fail(&self, t: &Tally) -> bool {
        let voted = t.agree + t.abstain + t.disagree + t.block;
        let left = t.eligible.saturating_sub(voted);
        (self.rules.block_vetoes && t.block > 0)
            || !self
                .rules
                .threshold
                .passes(t.agree + left, t.disagree + t.block)
    }

    fn decide(&mut self, t: Tally, now: i64) {
        let stage = if t.passed {
            Stage::Passed
        } else {
            Stage::Failed
        };
        self.tally = Some(t);
        self.step(stage, now);
    }

    /// Closes the vote at its deadline (or now, for rules with no period) and decides it.
    pub fn close(&mut self, roll: &Roll, now: i64) -> Result<&Tally, OutOfTurn> {
        let due = self.closes_at.is_some_and(|c| now >= c) || self.rules.period_h <= 0.0;
        if self.stage != Stage::Open || !due {
            return Err(self.out_of_turn("close its vote"));
        }
        let t = self.count(roll);
        self.decide(t, now);
        Ok(self.tally.as_ref().expect("just decided"))
    }

    /// Enacts a passed proposal; an override holds for its minutes from now.
    pub fn enact(&mut self, now: i64) -> Result<(), OutOfTurn> {
        if self.stage != Stage::Passed {
            return Err(self.out_of_turn("be enacted"));
        }
        if let Change::Override { minutes, .. } = self.proposal.change {
            self.holds_until = Some(now + i64::from(minutes) * 60);
        }
        self.step(Stage::Enacted, now);
        Ok(())
    }

    /// Whether an enacted override holds at `now`; when its time has run out it lapses (and
    /// the step is recorded once).
    pub fn holds(&mut self, now: i64) -> bool {
        match (self.stage, self.holds_until) {
            (Stage::Enacted, Some(until)) if now < until => true,
            (Stage::Enacted, Some(until)) => {
                self.step(Stage::Lapsed, until);
                false
            }
            _ => false,
        }
    }
}
