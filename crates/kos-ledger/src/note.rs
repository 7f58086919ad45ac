//! C2SP signed-note: text signed by Ed25519 keys, with key ids and verifier keys as the
//! specification gives them, and C2SP tlog-cosignature's timestamped Ed25519 cosignatures
//! (signature type 0x04).

use crate::Error;
use crate::hash::sha256;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use std::fmt;

/// Signature type of a log's own Ed25519 signature.
pub const ED25519: u8 = 0x01;
/// Signature type of a timestamped Ed25519 cosignature (C2SP tlog-cosignature).
pub const COSIGNATURE: u8 = 0x04;
/// The most signatures a note may carry (the specification asks for at least 16).
pub const MAX_SIGNATURES: usize = 64;

/// The key id: the first four bytes of SHA-256(name || 0x0A || type || public key).
pub fn key_id(name: &str, kind: u8, public: &[u8; 32]) -> u32 {
    let mut data = Vec::with_capacity(name.len() + 34);
    data.extend_from_slice(name.as_bytes());
    data.push(b'\n');
    data.push(kind);
    data.extend_from_slice(public);
    let h = sha256(&data);
    u32::from_be_bytes([h[0], h[1], h[2], h[3]])
}

fn check_name(name: &str) -> Result<(), Error> {
    if name.is_empty()
        || name
            .chars()
            .any(|c| c.is_whitespace() || c == '+' || c.is_control())
    {
        return Err(Error::Key(format!(
            "the key name {name:?} is empty or has a space, a plus or a control character"
        )));
    }
    Ok(())
}

/// A private key that signs notes: the log's (type 0x01) or a witness's (type 0x04).
#[derive(Clone)]
pub struct NoteSigner {
    name: String,
    kind: u8,
    id: u32,
    key: SigningKey,
}

impl fmt::Debug for NoteSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the key itself.
        write!(f, "NoteSigner({})", self.verifier_key())
    }
}

impl NoteSigner {
    /// A signer from a 32-byte Ed25519 seed.
    pub fn from_seed(name: &str, kind: u8, seed: [u8; 32]) -> Result<Self, Error> {
        check_name(name)?;
        if kind != ED25519 && kind != COSIGNATURE {
            return Err(Error::Key(format!(
                "signature type 0x{kind:02x} is not supported"
            )));
        }
        let key = SigningKey::from_bytes(&seed);
        let id = key_id(name, kind, key.verifying_key().as_bytes());
        Ok(Self {
            name: name.to_string(),
            kind,
            id,
            key,
        })
    }

    /// A new key from the operating system's random source.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn generate(name: &str, kind: u8) -> Result<Self, Error> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| Error::Key(format!("no random source: {e}")))?;
        Self::from_seed(name, kind, seed)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn id(&self) -> u32 {
        self.id
    }

    /// The private key as text: `PRIVATE+KEY+<name>+<hex id>+<base64(type || seed)>` (the
    /// encoding of Go's golang.org/x/mod/sumdb/note).
    pub fn to_private_text(&self) -> String {
        let mut material = vec![self.kind];
        material.extend_from_slice(&self.key.to_bytes());
        format!(
            "PRIVATE+KEY+{}+{:08x}+{}",
            self.name,
            self.id,
            STANDARD.encode(material)
        )
    }

    /// Reads a private key written by [`NoteSigner::to_private_text`].
    pub fn from_private_text(text: &str) -> Result<Self, Error> {
        let text = text.trim();
        let rest = text
            .strip_prefix("PRIVATE+KEY+")
            .ok_or_else(|| Error::Key("a private key starts with PRIVATE+KEY+".into()))?;
        let (name, id, material) = split_key(rest)?;
        let material = STANDARD
            .decode(material)
            .map_err(|e| Error::Key(format!("the private key's material is not base64: {e}")))?;
        if material.len() != 33 {
            return Err(Error::Key(
                "the private key's material is not a type byte and a 32-byte seed".into(),
            ));
        }
        let seed: [u8; 32] = material[1..].try_into().expect("32 bytes");
        let signer = Self::from_seed(name, material[0], seed)?;
        if signer.id != id {
            return Err(Error::Key(format!(
                "the private key's id {id:08x} is not the key's ({:08x})",
                signer.id
            )));
        }
        Ok(signer)
    }

    /// The verifier key: `<name>+<hex id>+<base64(type || public key)>`.
    pub fn verifier_key(&self) -> String {
        let mut material = vec![self.kind];
        material.extend_from_slice(self.key.verifying_key().as_bytes());
        format!(
            "{}+{:08x}+{}",
            self.name,
            self.id,
            STANDARD.encode(material)
        )
    }

    pub fn verifier(&self) -> NoteVerifier {
        NoteVerifier {
            name: self.name.clone(),
            kind: self.kind,
            id: self.id,
            key: self.key.verifying_key(),
        }
    }

    /// A signature line over `text`. For a cosigner, `timestamp` (POSIX seconds) goes into
    /// the signed message and the signature; the log's own signature ignores it.
    pub fn sign(&self, text: &str, timestamp: u64) -> Result<NoteSignature, Error> {
        let mut bytes = self.id.to_be_bytes().to_vec();
        match self.kind {
            ED25519 => bytes.extend_from_slice(&self.key.sign(text.as_bytes()).to_bytes()),
            _ => {
                if timestamp > i64::MAX as u64 {
                    return Err(Error::Key(
                        "a cosignature's timestamp is at most 2^63 - 1".into(),
                    ));
                }
                let sig = self.key.sign(cosigned_message(text, timestamp).as_bytes());
                bytes.extend_from_slice(&timestamp.to_be_bytes());
                bytes.extend_from_slice(&sig.to_bytes());
            }
        }
        Ok(NoteSignature {
            name: self.name.clone(),
            id: self.id,
            bytes,
        })
    }
}

/// The message a tlog-cosignature/v1 Ed25519 cosigner signs.
fn cosigned_message(text: &str, timestamp: u64) -> String {
    format!("cosignature/v1\ntime {timestamp}\n{text}")
}

/// Splits `<name>+<hex id>+<rest>` on its first two pluses.
fn split_key(s: &str) -> Result<(&str, u32, &str), Error> {
    let mut parts = s.splitn(3, '+');
    let (Some(name), Some(id), Some(rest)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(Error::Key(format!("{s:?} is not <name>+<id>+<key>")));
    };
    check_name(name)?;
    if id.len() != 8
        || !id
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    {
        return Err(Error::Key(format!(
            "the key id {id:?} is not 8 lowercase hexadecimal digits"
        )));
    }
    let id = u32::from_str_radix(id, 16).map_err(|e| Error::Key(e.to_string()))?;
    Ok((name, id, rest))
}

/// A public key that checks notes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteVerifier {
    pub name: String,
    pub kind: u8,
    pub id: u32,
    key: VerifyingKey,
}

impl NoteVerifier {
    /// Reads a verifier key `<name>+<hex id>+<base64(type || public key)>`.
    pub fn parse(vkey: &str) -> Result<Self, Error> {
        let (name, id, material) = split_key(vkey.trim())?;
        let material = STANDARD
            .decode(material)
            .map_err(|e| Error::Key(format!("the verifier key's material is not base64: {e}")))?;
        if material.len() != 33 || (material[0] != ED25519 && material[0] != COSIGNATURE) {
            return Err(Error::Key(
                "the verifier key is not an Ed25519 key (type 0x01) or cosigner key (type 0x04)"
                    .into(),
            ));
        }
        let public: [u8; 32] = material[1..].try_into().expect("32 bytes");
        let key = VerifyingKey::from_bytes(&public)
            .map_err(|e| Error::Key(format!("not an Ed25519 public key: {e}")))?;
        let expected = key_id(name, material[0], &public);
        if expected != id {
            return Err(Error::Key(format!(
                "the key id {id:08x} is not the key's ({expected:08x})"
            )));
        }
        Ok(Self {
            name: name.to_string(),
            kind: material[0],
            id,
            key,
        })
    }

    pub fn to_vkey(&self) -> String {
        let mut material = vec![self.kind];
        material.extend_from_slice(self.key.as_bytes());
        format!(
            "{}+{:08x}+{}",
            self.name,
            self.id,
            STANDARD.encode(material)
        )
    }

    /// Checks one signature of this key over `text`; a cosignature's timestamp is returned.
    pub fn verify(&self, text: &str, sig: &NoteSignature) -> Result<Option<u64>, Error> {
        let bad = |why: &str| {
            Error::Signature(format!(
                "the signature of {} ({:08x}) {why}",
                self.name, self.id
            ))
        };
        let (message, raw, timestamp) = match self.kind {
            ED25519 => (text.to_string(), &sig.bytes[4..], None),
            _ => {
                if sig.bytes.len() != 4 + 8 + 64 {
                    return Err(bad("is not a timestamp and an Ed25519 signature"));
                }
                let t = u64::from_be_bytes(sig.bytes[4..12].try_into().expect("8 bytes"));
                if t > i64::MAX as u64 {
                    return Err(bad("has a timestamp over 2^63 - 1"));
                }
                (cosigned_message(text, t), &sig.bytes[12..], Some(t))
            }
        };
        let raw: [u8; 64] = raw.try_into().map_err(|_| bad("is not 64 bytes long"))?;
        self.key
            .verify_strict(message.as_bytes(), &Signature::from_bytes(&raw))
            .map_err(|_| bad("does not verify"))?;
        Ok(timestamp)
    }
}

/// One signature line: `— <name> base64(key id || signature)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature {
    pub name: String,
    pub id: u32,
    pub bytes: Vec<u8>,
}

impl NoteSignature {
    pub fn line(&self) -> String {
        format!("\u{2014} {} {}\n", self.name, STANDARD.encode(&self.bytes))
    }
}

/// A signed note: its text (ending in a newline) and its signatures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub text: String,
    pub signatures: Vec<NoteSignature>,
}

impl Note {
    /// Parses a note without checking any signature.
    pub fn parse(note: &[u8]) -> Result<Self, Error> {
        let s = std::str::from_utf8(note).map_err(|e| Error::Note(format!("not UTF-8: {e}")))?;
        if let Some(c) = s.chars().find(|c| c.is_ascii_control() && *c != '\n') {
            return Err(Error::Note(format!("a control character {:?}", c)));
        }
        let split = s
            .rfind("\n\n")
            .ok_or_else(|| Error::Note("no blank line before the signatures".into()))?;
        let text = &s[..split + 1];
        let sigs = &s[split + 2..];
        if !sigs.ends_with('\n') {
            return Err(Error::Note(
                "the last signature line does not end in a newline".into(),
            ));
        }
        let mut signatures = Vec::new();
        for line in sigs[..sigs.len() - 1].split('\n') {
            if signatures.len() == MAX_SIGNATURES {
                return Err(Error::Note(format!(
                    "more than {MAX_SIGNATURES} signatures"
                )));
            }
            let rest = line
                .strip_prefix("\u{2014} ")
                .ok_or_else(|| Error::Note(format!("{line:?} is not a signature line")))?;
            let (name, b64) = rest
                .split_once(' ')
                .ok_or_else(|| Error::Note(format!("{line:?} has no signature")))?;
            check_name(name).map_err(|e| Error::Note(e.to_string()))?;
            let bytes = STANDARD
                .decode(b64)
                .map_err(|e| Error::Note(format!("the signature of {name} is not base64: {e}")))?;
            if bytes.len() < 5 {
                return Err(Error::Note(format!("the signature of {name} is too short")));
            }
            let id = u32::from_be_bytes(bytes[..4].try_into().expect("4 bytes"));
            signatures.push(NoteSignature {
                name: name.to_string(),
                id,
                bytes,
            });
        }
        if signatures.is_empty() {
            return Err(Error::Note("no signatures".into()));
        }
        Ok(Self {
            text: text.to_string(),
            signatures,
        })
    }

    /// A note of `text` signed by `signer`.
    pub fn sign(text: &str, signer: &NoteSigner, timestamp: u64) -> Result<Self, Error> {
        check_text(text)?;
        Ok(Self {
            text: text.to_string(),
            signatures: vec![signer.sign(text, timestamp)?],
        })
    }

    /// Adds a signature (a cosignature, say), replacing an earlier one by the same key.
    pub fn add_signature(&mut self, sig: NoteSignature) {
        self.signatures
            .retain(|s| !(s.name == sig.name && s.id == sig.id));
        self.signatures.push(sig);
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut s = self.text.clone();
        s.push('\n');
        for sig in &self.signatures {
            s.push_str(&sig.line());
        }
        s.into_bytes()
    }

    /// Checks the signatures of the known keys: each must verify, and at least one must be
    /// there. Unknown keys are ignored. Returns the verifiers that signed, with the
    /// cosignatures' timestamps.
    pub fn verify<'a>(
        &self,
        known: &'a [NoteVerifier],
    ) -> Result<Vec<(&'a NoteVerifier, Option<u64>)>, Error> {
        let mut ok = Vec::new();
        for sig in &self.signatures {
            if let Some(v) = known.iter().find(|v| v.name == sig.name && v.id == sig.id) {
                let t = v.verify(&self.text, sig)?;
                if !ok
                    .iter()
                    .any(|(o, _): &(&NoteVerifier, _)| std::ptr::eq(*o, v))
                {
                    ok.push((v, t));
                }
            }
        }
        if ok.is_empty() {
            return Err(Error::Signature("no signature from a known key".into()));
        }
        Ok(ok)
    }
}

/// A note's text must end in a newline, hold no blank line at its end and no control
/// characters but newlines.
fn check_text(text: &str) -> Result<(), Error> {
    if !text.ends_with('\n') || text.ends_with("\n\n") || text == "\n" {
        return Err(Error::Note("a note's text ends in one newline".into()));
    }
    if text.chars().any(|c| c.is_ascii_control() && c != '\n') {
        return Err(Error::Note("a note's text has a control character".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    // The example of C2SP signed-note ("Verifier keys", "Example").
    const SPEC_VKEY: &str = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";
    const SPEC_NOTE: &str = "This is an example message.\n\n\u{2014} example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n";

    #[test]
    fn the_specifications_example_note_verifies_with_its_key() {
        let v = NoteVerifier::parse(SPEC_VKEY).unwrap();
        assert_eq!(v.id, 0x530d903a);
        assert_eq!(v.to_vkey(), SPEC_VKEY);
        let note = Note::parse(SPEC_NOTE.as_bytes()).unwrap();
        assert_eq!(note.text, "This is an example message.\n");
        assert_eq!(note.to_bytes(), SPEC_NOTE.as_bytes());
        let signed = note.verify(std::slice::from_ref(&v)).unwrap();
        assert_eq!(signed.len(), 1);
        // One changed character of the text, or of the signature, and it does not.
        let mut changed = note.clone();
        changed.text = "This is an example massage.\n".into();
        assert!(changed.verify(std::slice::from_ref(&v)).is_err());
        let mut changed = note.clone();
        changed.signatures[0].bytes[10] ^= 1;
        assert!(changed.verify(std::slice::from_ref(&v)).is_err());
    }

    #[test]
    fn a_key_id_is_the_one_the_specification_computes() {
        // The spec's vkey carries its id; recomputing it from name, type and key must agree.
        let material = STANDARD
            .decode("AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k")
            .unwrap();
        let public: [u8; 32] = material[1..].try_into().unwrap();
        assert_eq!(key_id("example.com/foo", ED25519, &public), 0x530d903a);
        assert!(
            NoteVerifier::parse(
                "example.com/foo+530d903b+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
            )
            .is_err()
        );
    }

    #[test]
    fn signing_and_cosigning_round_trip_and_keys_read_back() {
        let log = NoteSigner::from_seed("twin.example/log", ED25519, [7; 32]).unwrap();
        let witness =
            NoteSigner::from_seed("neighbour.example/witness", COSIGNATURE, [9; 32]).unwrap();
        let mut note = Note::sign("twin.example/log\n3\nabc=\n", &log, 0).unwrap();
        note.add_signature(witness.sign(&note.text, 1_700_000_000).unwrap());
        let parsed = Note::parse(&note.to_bytes()).unwrap();
        assert_eq!(parsed, note);
        let keys = [log.verifier(), witness.verifier()];
        let ok = parsed.verify(&keys).unwrap();
        assert_eq!(ok.len(), 2);
        assert_eq!(ok[1].1, Some(1_700_000_000));
        // Keys written as text read back to the same key.
        let again = NoteSigner::from_private_text(&log.to_private_text()).unwrap();
        assert_eq!(again.verifier_key(), log.verifier_key());
        assert_eq!(
            NoteVerifier::parse(&witness.verifier_key()).unwrap(),
            witness.verifier()
        );
        assert!(!format!("{log:?}").contains(&STANDARD.encode([7u8; 32])));
        // A known key's bad signature rejects the note; an unknown key alone is not enough.
        let other = NoteSigner::from_seed("someone.else", ED25519, [1; 32]).unwrap();
        assert!(parsed.verify(&[other.verifier()]).is_err());
    }

    #[test]
    fn malformed_notes_are_errors() {
        for bad in [
            &b""[..],
            b"text\n",
            b"text\n\n",
            b"text\n\n\xe2\x80\x94 name AAAA\n",
            b"text\n\n- name AAAAAAAA\n",
            b"te\x01xt\n\n\xe2\x80\x94 name AAAAAAAA\n",
            b"\xff\n\n\xe2\x80\x94 name AAAAAAAA\n",
            b"text\n\n\xe2\x80\x94 name AAAAAAAA",
        ] {
            assert!(
                Note::parse(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
