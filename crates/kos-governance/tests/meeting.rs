//! A community meeting's proposals on the default scene: a solar array from draft to
//! enactment, a vote below quorum, every kind of ballot that must not count, two thirds for a
//! minimum, and overrides by the stewards that are refused without their quorum and lapse on
//! time with it.

use ed25519_dalek::SigningKey;
use kos_governance::roll::public_key;
use kos_governance::*;

const T0: i64 = 1_782_000_000;

fn scene() -> kos_scene::Scene {
    kos_scene::parse(include_str!("../../../scenes/default.ron"), "default.ron").unwrap()
}

/// `n` members `m0..`, the first `stewards` of them stewards, with their keys.
fn roll(n: u8, stewards: u8) -> (Roll, Vec<SigningKey>) {
    let keys: Vec<SigningKey> = (0..n)
        .map(|i| SigningKey::from_bytes(&[i + 1; 32]))
        .collect();
    let members = keys
        .iter()
        .enumerate()
        .map(|(i, k)| Member {
            pseudonym: format!("m{i}"),
            key: public_key(k),
            steward: (i as u8) < stewards,
        })
        .collect();
    (Roll { members }, keys)
}

fn solar() -> Proposal {
    Proposal {
        id: "solar-school".into(),
        author: "m0".into(),
        title: "A 200 kW solar array on the school roof".into(),
        rationale: "More of our own energy at midday".into(),
        change: Change::AddModule {
            id: "pv-school".into(),
            bus: "nf-a-4".into(),
            module: Module::Solar {
                rated_kw: 200.0,
                tilt_deg: 30.0,
                azimuth_deg: 180.0,
            },
        },
        effective: None,
    }
}

fn ballot(keys: &[SigningKey], p: &Proposal, i: usize, act: Act, at: i64) -> Signed {
    Signed::sign(&keys[i], p, &format!("m{i}"), act, at)
}

#[test]
fn a_solar_array_goes_from_draft_to_enactment() {
    let (roll, keys) = roll(10, 2);
    let p = solar();
    p.check(&scene()).unwrap();
    let mut m = Process::new(p.clone(), Rules::default_for(&p.change), &roll, T0).unwrap();
    assert_eq!(m.stage, Stage::Draft);
    // Not yet open: a ballot now is refused.
    assert_eq!(
        m.cast(&ballot(&keys, &p, 1, Act::Agree, T0), &roll, T0),
        Err(Rejection::NotOpen)
    );
    assert!(m.open(T0).is_err());
    for i in 1..4 {
        m.support(
            &ballot(&keys, &p, i, Act::Support, T0 + i as i64),
            &roll,
            T0 + 10,
        )
        .unwrap();
    }
    assert_eq!(m.stage, Stage::Supported);
    // Simulated before the vote: it cannot open without its comparison.
    assert!(m.open(T0 + 20).is_err());
    m.simulated("ab12", T0 + 30).unwrap();
    m.open(T0 + 40).unwrap();
    assert_eq!(m.closes_at, Some(T0 + 40 + 72 * 3600));
    // Five of ten take part: 4 agree, 1 disagrees.
    for i in 0..4 {
        m.cast(&ballot(&keys, &p, i, Act::Agree, T0 + 100), &roll, T0 + 100)
            .unwrap();
    }
    m.cast(
        &ballot(&keys, &p, 4, Act::Disagree, T0 + 100),
        &roll,
        T0 + 100,
    )
    .unwrap();
    assert!(m.close(&roll, T0 + 200).is_err(), "not before the deadline");
    let t = m.close(&roll, T0 + 40 + 72 * 3600).unwrap().clone();
    assert_eq!(
        (t.agree, t.disagree, t.quorum_met, t.passed),
        (4, 1, true, true)
    );
    m.enact(T0 + 80 * 3600).unwrap();
    let stages: Vec<Stage> = m.history.iter().map(|h| h.0).collect();
    assert_eq!(
        stages,
        [
            Stage::Draft,
            Stage::Supported,
            Stage::Simulated,
            Stage::Open,
            Stage::Passed,
            Stage::Enacted
        ]
    );
    // Every step is later than the one before.
    assert!(m.history.windows(2).all(|w| w[0].1 <= w[1].1));
}

#[test]
fn below_quorum_fails() {
    let (roll, keys) = roll(10, 0);
    let p = solar();
    let mut m = Process::new(p.clone(), Rules::default_for(&p.change), &roll, T0).unwrap();
    for i in 1..4 {
        m.support(&ballot(&keys, &p, i, Act::Support, T0), &roll, T0)
            .unwrap();
    }
    m.simulated("ab12", T0).unwrap();
    m.open(T0).unwrap();
    // Two of ten, both agreeing: 20 % against a quorum of 30 %.
    for i in 0..2 {
        m.cast(&ballot(&keys, &p, i, Act::Agree, T0 + 1), &roll, T0 + 1)
            .unwrap();
    }
    let t = m.close(&roll, T0 + 72 * 3600).unwrap();
    assert_eq!((t.agree, t.quorum_met, t.passed), (2, false, false));
    assert_eq!(m.stage, Stage::Failed);
    assert!(m.enact(T0 + 73 * 3600).is_err());
}

#[test]
fn ballots_that_must_not_count_are_refused_with_their_reason_and_counted() {
    let (roll, keys) = roll(5, 0);
    let p = solar();
    let mut rules = Rules::default_for(&p.change);
    rules.supports = 0;
    let mut m = Process::new(p.clone(), rules, &roll, T0).unwrap();
    m.open(T0).unwrap_err(); // not simulated
    m.simulated("ab12", T0).unwrap();
    m.open(T0).unwrap();
    let deadline = m.closes_at.unwrap();
    // Forged: m1's ballot signed with m2's key.
    let forged = Signed::sign(&keys[2], &p, "m1", Act::Agree, T0 + 5);
    assert_eq!(m.cast(&forged, &roll, T0 + 5), Err(Rejection::Forged));
    // Tampered: a signed agree turned into a disagree.
    let mut turned = ballot(&keys, &p, 1, Act::Agree, T0 + 5);
    turned.act = Act::Disagree;
    assert_eq!(m.cast(&turned, &roll, T0 + 5), Err(Rejection::Forged));
    // Signed for the proposal as it was before a change: its fingerprint differs.
    let mut changed = p.clone();
    changed.rationale.push('!');
    let stale = Signed::sign(&keys[1], &changed, "m1", Act::Agree, T0 + 5);
    assert_eq!(m.cast(&stale, &roll, T0 + 5), Err(Rejection::Forged));
    // Unsigned, non-member, another proposal's.
    let mut unsigned = ballot(&keys, &p, 1, Act::Agree, T0 + 5);
    unsigned.signature.clear();
    assert_eq!(m.cast(&unsigned, &roll, T0 + 5), Err(Rejection::Unsigned));
    let stranger = Signed::sign(
        &SigningKey::from_bytes(&[99; 32]),
        &p,
        "mallory",
        Act::Agree,
        T0 + 5,
    );
    assert_eq!(m.cast(&stranger, &roll, T0 + 5), Err(Rejection::NotMember));
    let mut other = solar();
    other.id = "other".into();
    let elsewhere = Signed::sign(&keys[1], &other, "m1", Act::Agree, T0 + 5);
    assert_eq!(
        m.cast(&elsewhere, &roll, T0 + 5),
        Err(Rejection::WrongProposal)
    );
    // One ballot per member: the same again is a duplicate, a later one replaces it.
    let first = ballot(&keys, &p, 1, Act::Agree, T0 + 5);
    m.cast(&first, &roll, T0 + 5).unwrap();
    assert_eq!(m.cast(&first, &roll, T0 + 6), Err(Rejection::Duplicate));
    m.cast(&ballot(&keys, &p, 1, Act::Disagree, T0 + 7), &roll, T0 + 7)
        .unwrap();
    assert_eq!(m.ballots["m1"].0, Act::Disagree);
    // Late: arriving after the deadline, or signed after it.
    assert_eq!(
        m.cast(
            &ballot(&keys, &p, 3, Act::Agree, deadline - 1),
            &roll,
            deadline + 1
        ),
        Err(Rejection::Late)
    );
    assert_eq!(
        m.cast(
            &ballot(&keys, &p, 3, Act::Agree, deadline + 1),
            &roll,
            deadline
        ),
        Err(Rejection::Late)
    );
    // A support while voting is a step out of turn.
    assert_eq!(
        m.support(&ballot(&keys, &p, 4, Act::Support, T0 + 8), &roll, T0 + 8),
        Err(Rejection::NotOpen)
    );
    let counted: Vec<(Rejection, u64)> = m.rejected.iter().map(|(r, n)| (*r, *n)).collect();
    assert_eq!(
        counted,
        [
            (Rejection::Unsigned, 1),
            (Rejection::Forged, 3),
            (Rejection::NotMember, 1),
            (Rejection::Duplicate, 1),
            (Rejection::Late, 2),
            (Rejection::NotOpen, 1),
            (Rejection::WrongProposal, 1),
        ]
    );
    assert_eq!(m.ballots.len(), 1);
}

#[test]
fn a_minimum_needs_two_thirds() {
    let (roll, keys) = roll(10, 0);
    let p = Proposal {
        id: "clinic-minimum".into(),
        author: "m0".into(),
        title: "The clinic keeps all it asks".into(),
        rationale: "Patients".into(),
        change: Change::Minimum {
            consumer: "clinic".into(),
            minimum: 1.0,
        },
        effective: None,
    };
    p.check(&scene()).unwrap();
    let run = |agree: usize| {
        let mut rules = Rules::default_for(&p.change);
        rules.supports = 0;
        let mut m = Process::new(p.clone(), rules, &roll, T0).unwrap();
        m.simulated("cd34", T0).unwrap();
        m.open(T0).unwrap();
        for i in 0..10 {
            let act = if i < agree { Act::Agree } else { Act::Disagree };
            m.cast(&ballot(&keys, &p, i, act, T0 + 1), &roll, T0 + 1)
                .unwrap();
        }
        m.close(&roll, T0 + 72 * 3600).unwrap().passed
    };
    // 6 of 10 is a majority but not two thirds; 7 of 10 is.
    assert!(!run(6));
    assert!(run(7));
}

fn override_proposal(minutes: u32) -> Proposal {
    Proposal {
        id: "hold-shedding".into(),
        author: "m0".into(),
        title: "Keep the school's shelter on through the night".into(),
        rationale: "Families are arriving".into(),
        change: Change::Override {
            asset: "shelter-north".into(),
            action: "shedding".into(),
            minutes,
        },
        effective: None,
    }
}

#[test]
fn an_override_needs_the_stewards_quorum_and_lapses_on_time() {
    // Three stewards among eight members.
    let (roll, keys) = roll(8, 3);
    let p = override_proposal(30);
    p.check(&scene()).unwrap();
    let rules = Rules::default_for(&p.change);
    // Without the stewards' quorum: refused.
    let mut m = Process::new(p.clone(), rules.clone(), &roll, T0).unwrap();
    m.simulated("ef56", T0).unwrap();
    m.open(T0).unwrap();
    assert_eq!(
        m.cast(&ballot(&keys, &p, 5, Act::Agree, T0 + 1), &roll, T0 + 1),
        Err(Rejection::NotSteward)
    );
    m.cast(&ballot(&keys, &p, 0, Act::Agree, T0 + 1), &roll, T0 + 1)
        .unwrap();
    assert_eq!(m.stage, Stage::Open, "one steward of three is not enough");
    let t = m.close(&roll, T0 + 60).unwrap();
    assert!(!t.passed && !t.quorum_met);
    assert!(m.enact(T0 + 61).is_err());
    // With it: two stewards of three agree, decided at once, holds 30 minutes, then lapses.
    let mut m = Process::new(p.clone(), rules.clone(), &roll, T0).unwrap();
    m.simulated("ef56", T0).unwrap();
    m.open(T0).unwrap();
    m.cast(&ballot(&keys, &p, 0, Act::Agree, T0 + 1), &roll, T0 + 1)
        .unwrap();
    m.cast(&ballot(&keys, &p, 1, Act::Agree, T0 + 2), &roll, T0 + 2)
        .unwrap();
    assert_eq!(m.stage, Stage::Passed);
    m.enact(T0 + 3).unwrap();
    assert!(m.holds(T0 + 3 + 29 * 60));
    assert!(!m.holds(T0 + 3 + 30 * 60));
    assert_eq!(m.stage, Stage::Lapsed);
    assert_eq!(m.history.last(), Some(&(Stage::Lapsed, T0 + 3 + 30 * 60)));
    assert!(!m.holds(T0 + 3 + 31 * 60));
    // A steward's block stops it, at once.
    let mut m = Process::new(p.clone(), rules, &roll, T0).unwrap();
    m.simulated("ef56", T0).unwrap();
    m.open(T0).unwrap();
    m.cast(&ballot(&keys, &p, 0, Act::Agree, T0 + 1), &roll, T0 + 1)
        .unwrap();
    m.cast(&ballot(&keys, &p, 2, Act::Block, T0 + 2), &roll, T0 + 2)
        .unwrap();
    assert_eq!(m.stage, Stage::Failed);
}

#[test]
fn proposals_are_read_checked_and_fingerprinted() {
    let p = solar();
    // The same proposal in RON and JSON: the same fingerprint; any change changes it.
    let json = serde_json::to_string_pretty(&p).unwrap();
    let ron_text = ron::ser::to_string_pretty(&p, Default::default()).unwrap();
    let from_json = proposal::parse(&json, "p.json").unwrap();
    let from_ron = proposal::parse(&ron_text, "p.ron").unwrap();
    assert_eq!(from_json.fingerprint(), p.fingerprint());
    assert_eq!(from_ron.fingerprint(), p.fingerprint());
    let mut other = p.clone();
    other.title.push('.');
    assert_ne!(other.fingerprint(), p.fingerprint());
    // A syntax error names its place.
    let broken = json.replacen("\"author\"", "\"author\" 1", 1);
    match proposal::parse(&broken, "p.json") {
        Err(Error::Syntax { line, .. }) => assert_eq!(line, 3),
        other => panic!("{other:?}"),
    }
    match proposal::parse("(id: \"x\", author: )", "p.ron") {
        // Right after `author:`, where its value is missing.
        Err(Error::Syntax { line, column, .. }) => assert_eq!((line, column), (1, 18)),
        other => panic!("{other:?}"),
    }
    // Checked against the scene: every problem listed.
    let mut bad = p.clone();
    bad.change = Change::AddModule {
        id: "pv-nf-a-2".into(),
        bus: "nowhere".into(),
        module: Module::Solar {
            rated_kw: -5.0,
            tilt_deg: 30.0,
            azimuth_deg: 400.0,
        },
    };
    bad.effective = Some("tomorrow".into());
    let scene = scene();
    match bad.check(&scene) {
        Err(Error::Invalid { problems, .. }) => {
            let fields: Vec<&str> = problems
                .iter()
                .map(|p| p.split(':').next().unwrap())
                .collect();
            assert_eq!(
                fields,
                [
                    "effective",
                    "change.id",
                    "change.bus",
                    "change.module.rated_kw",
                    "change.module.azimuth_deg"
                ],
                "{problems:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    // An author who is not on the roll cannot draft.
    let (roll, _) = roll(3, 0);
    let mut stranger = p;
    stranger.author = "mallory".into();
    assert!(Process::new(stranger, Rules::default_for(&Change::Text), &roll, T0).is_err());
}

/// A proposal applied to the scene: the array is in the scene the twin would run, with the
/// proposal in its Infrastructure DNA; weights, caps, switches and settings change where they
/// should; a setting the asset does not have is refused; words change nothing.
#[test]
fn proposals_apply_to_a_copy_of_the_scene() {
    let base = scene();
    let p = solar();
    let s = apply(&p, &base).unwrap();
    let g = s.generators.iter().find(|g| g.id == "pv-school").unwrap();
    assert_eq!((g.bus.as_str(), g.rated_kw), ("nf-a-4", 200.0));
    assert!(matches!(g.kind, kos_scene::GeneratorKind::Solar { .. }));
    assert!(g.dna.purpose.contains("proposal solar-school"));
    assert_eq!(s.generators.len(), base.generators.len() + 1);
    // The base scene is untouched.
    assert!(!base.generators.iter().any(|g| g.id == "pv-school"));
    let with = |change: Change| {
        let mut q = solar();
        q.change = change;
        apply(&q, &base)
    };
    let s = with(Change::Weight {
        consumer: "clinic".into(),
        weight: 40.0,
    })
    .unwrap();
    assert_eq!(
        s.pods
            .iter()
            .find(|x| x.id == "clinic")
            .unwrap()
            .commons
            .weight,
        Some(40.0)
    );
    let s = with(Change::Cap {
        consumer: "homes-nf-a-1".into(),
        cap_kw: Some(6.0),
    })
    .unwrap();
    assert_eq!(
        s.loads
            .iter()
            .find(|l| l.id == "homes-nf-a-1")
            .unwrap()
            .commons
            .cap_kw,
        Some(6.0)
    );
    let sw = base.switches[0].clone();
    let s = with(Change::Reconfigure {
        switch: sw.id.clone(),
        normally_open: !sw.normally_open,
    })
    .unwrap();
    assert_eq!(s.switches[0].normally_open, !sw.normally_open);
    let s = with(Change::Setting {
        asset: "grid".into(),
        setting: "import_limit_kw".into(),
        value: 300.0,
    })
    .unwrap();
    assert!(matches!(
        s.generators.iter().find(|g| g.id == "grid").unwrap().kind,
        kos_scene::GeneratorKind::GridTie { import_limit_kw, .. } if import_limit_kw == 300.0
    ));
    let refused = with(Change::Setting {
        asset: "clinic".into(),
        setting: "import_limit_kw".into(),
        value: 1.0,
    });
    assert!(matches!(refused, Err(Error::Invalid { .. })), "{refused:?}");
    let s = with(Change::Remove {
        asset: "pv-nf-a-2".into(),
    })
    .unwrap();
    assert!(!s.generators.iter().any(|g| g.id == "pv-nf-a-2"));
    assert_eq!(with(Change::Text).unwrap(), base);
}
