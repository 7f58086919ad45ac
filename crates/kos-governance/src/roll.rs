//! The roll of members, and what they sign. A member has a pseudonym and an Ed25519 public
//! key; stewards may also decide emergency overrides. Every support and ballot is a signed
//! statement naming the proposal by its fingerprint, so that it counts for that proposal only,
//! as it was when the member signed.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::Error;

/// A member of the community.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Member {
    pub pseudonym: String,
    /// The Ed25519 public key, base64 of its 32 bytes.
    pub key: String,
    /// May decide emergency overrides.
    #[serde(default)]
    pub steward: bool,
}

/// Everyone who may support and vote.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Roll {
    pub members: Vec<Member>,
}

impl Roll {
    /// Reads a roll (RON), checking that pseudonyms are unique and keys are keys.
    pub fn parse(text: &str, file: &str) -> Result<Self, Error> {
        let roll: Roll = ron::from_str(text).map_err(|e| Error::Syntax {
            file: file.into(),
            line: e.span.start.line,
            column: e.span.start.col,
            message: e.code.to_string(),
        })?;
        let mut problems = Vec::new();
        for (i, m) in roll.members.iter().enumerate() {
            if !crate::proposal::valid_id(&m.pseudonym) {
                problems.push(format!(
                    "members[{i}].pseudonym: `{}` is not a pseudonym",
                    m.pseudonym
                ));
            }
            if roll.members[..i].iter().any(|o| o.pseudonym == m.pseudonym) {
                problems.push(format!("members[{i}].pseudonym: `{}` twice", m.pseudonym));
            }
            if verifying_key(&m.key).is_none() {
                problems.push(format!("members[{i}].key: not a base64 Ed25519 public key"));
            }
        }
        if problems.is_empty() {
            Ok(roll)
        } else {
            Err(Error::Invalid {
                proposal: file.into(),
                problems,
            })
        }
    }

    /// A member by pseudonym.
    pub fn member(&self, pseudonym: &str) -> Option<&Member> {
        self.members.iter().find(|m| m.pseudonym == pseudonym)
    }

    /// Members who may vote under `stewards_only`.
    pub fn eligible(&self, stewards_only: bool) -> usize {
        self.members
            .iter()
            .filter(|m| m.steward || !stewards_only)
            .count()
    }
}

fn verifying_key(b64: &str) -> Option<VerifyingKey> {
    let raw: [u8; 32] = B64.decode(b64).ok()?.try_into().ok()?;
    VerifyingKey::from_bytes(&raw).ok()
}

/// What a member signs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Act {
    /// Supports the proposal going forward.
    Support,
    Agree,
    Abstain,
    Disagree,
    /// Disagrees so strongly that, where the rules say so, the proposal cannot pass.
    Block,
}

impl Act {
    fn word(self) -> &'static str {
        match self {
            Act::Support => "support",
            Act::Agree => "agree",
            Act::Abstain => "abstain",
            Act::Disagree => "disagree",
            Act::Block => "block",
        }
    }
}

/// A signed support or ballot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signed {
    pub proposal: String,
    pub member: String,
    pub act: Act,
    /// When the member signed, local seconds since 1970.
    pub at: i64,
    /// Ed25519 signature of [`Signed::message`], base64 (empty: unsigned).
    #[serde(default)]
    pub signature: String,
}

impl Signed {
    /// The text signed: the proposal's id and fingerprint, the member, the act and the time.
    pub fn message(
        proposal: &str,
        fingerprint_hex: &str,
        member: &str,
        act: Act,
        at: i64,
    ) -> String {
        format!(
            "kos-twin governance v1\nproposal {proposal}\nfingerprint {fingerprint_hex}\nmember {member}\nact {}\nat {at}\n",
            act.word()
        )
    }

    /// Signs an act on a proposal with a member's key.
    pub fn sign(
        key: &SigningKey,
        proposal: &crate::Proposal,
        member: &str,
        act: Act,
        at: i64,
    ) -> Self {
        let text = Self::message(&proposal.id, &proposal.fingerprint_hex(), member, act, at);
        Self {
            proposal: proposal.id.clone(),
            member: member.into(),
            act,
            at,
            signature: B64.encode(key.sign(text.as_bytes()).to_bytes()),
        }
    }

    /// Whether the signature is the member's over this act on the proposal with this
    /// fingerprint.
    pub fn verifies(&self, member: &Member, fingerprint_hex: &str) -> bool {
        let Some(key) = verifying_key(&member.key) else {
            return false;
        };
        let Some(raw) = B64
            .decode(&self.signature)
            .ok()
            .and_then(|b| <[u8; 64]>::try_from(b).ok())
        else {
            return false;
        };
        let text = Self::message(
            &self.proposal,
            fingerprint_hex,
            &self.member,
            self.act,
            self.at,
        );
        key.verify_strict(text.as_bytes(), &Signature::from_bytes(&raw))
            .is_ok()
    }
}

/// The base64 public key of a signing key (for a roll).
pub fn public_key(key: &SigningKey) -> String {
    B64.encode(key.verifying_key().as_bytes())
}
