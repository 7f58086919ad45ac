//! What a run or a prepared drill schedules (faults, operators' switching, a black start,
//! modes) and the command-line forms of its items.

/// A fault at a set time of a run: `ASSET[/POINT]@MINUTES[:temporary][:r=OHMS]` on the
/// command line (`mvc-03/0.4@5:r=2`: 40 % along the line from its `from` end, through 2 Ω).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ScheduledFault {
    /// Simulated seconds from the start.
    pub at_s: f64,
    /// The faulted bus, line, transformer or switch; a grid tie's id is the loss of the tie.
    pub asset: String,
    /// Stays until the section is isolated (a temporary fault clears when it goes dead).
    pub permanent: bool,
    /// A point along a line: the fraction of its length from its `from` end.
    pub at: Option<f64>,
    /// Fault resistance, Ω per phase (0: bolted).
    pub r_ohm: f64,
}

/// Parses `ASSET@MINUTES[:SUFFIX]` into the asset, the time in seconds and the suffix.
fn parse_at<'a>(s: &'a str, what: &str) -> Result<(&'a str, f64, Option<&'a str>), String> {
    let bad = || format!("`{s}`: expected {what}");
    let (asset, rest) = s.rsplit_once('@').ok_or_else(bad)?;
    let (minutes, suffix) = match rest.split_once(':') {
        Some((m, k)) => (m, Some(k)),
        None => (rest, None),
    };
    let minutes: f64 = minutes.trim().parse().map_err(|_| bad())?;
    if asset.is_empty() || !(minutes.is_finite() && minutes >= 0.0) {
        return Err(bad());
    }
    Ok((asset, minutes * 60.0, suffix))
}

impl std::str::FromStr for ScheduledFault {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let what = "ASSET[/POINT]@MINUTES[:temporary][:r=OHMS]";
        let bad = || format!("`{s}`: expected {what}");
        let (asset, at_s, suffix) = parse_at(s, what)?;
        let mut f = Self {
            at_s,
            permanent: true,
            ..Self::default()
        };
        let parts = suffix.into_iter().flat_map(|x| x.split(':'));
        for p in parts {
            match p {
                "permanent" => f.permanent = true,
                "temporary" => f.permanent = false,
                _ => match p.strip_prefix("r=").map(str::parse::<f64>) {
                    Some(Ok(r)) if r.is_finite() && r >= 0.0 => f.r_ohm = r,
                    _ => return Err(bad()),
                },
            }
        }
        let (id, point) = match asset.rsplit_once('/') {
            Some((id, p)) => {
                let at: f64 = p.parse().map_err(|_| bad())?;
                if !(0.0..=1.0).contains(&at) {
                    return Err(format!("`{s}`: the point along the line must lie in 0..=1"));
                }
                (id, Some(at))
            }
            None => (asset, None),
        };
        if id.is_empty() {
            return Err(bad());
        }
        f.asset = id.to_string();
        f.at = point;
        Ok(f)
    }
}

/// An operator's switching at a set time: `BRANCH@MINUTES:open|close`.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduledSwitching {
    /// Simulated seconds from the start.
    pub at_s: f64,
    /// The line, transformer or switch.
    pub asset: String,
    /// Close (true) or open.
    pub close: bool,
}

impl std::str::FromStr for ScheduledSwitching {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let what = "BRANCH@MINUTES:open or BRANCH@MINUTES:close";
        let (asset, at_s, kind) = parse_at(s, what)?;
        let close = match kind {
            Some("close") => true,
            Some("open") => false,
            _ => return Err(format!("`{s}`: expected {what}")),
        };
        Ok(Self {
            at_s,
            asset: asset.to_string(),
            close,
        })
    }
}

/// What a run or a prepared drill schedules.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Schedule {
    /// Faults.
    pub faults: Vec<ScheduledFault>,
    /// Operators' switching.
    pub switching: Vec<ScheduledSwitching>,
    /// When everything goes dark and the black start begins, s.
    pub black_start_at_s: Option<f64>,
    /// Emergency modes on and off.
    pub modes: Vec<ScheduledMode>,
}

/// A mode switched at a set time: `ID@MINUTES[:off]` on the command line.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduledMode {
    /// Simulated seconds from the start.
    pub at_s: f64,
    /// The mode's id.
    pub id: String,
    /// On (true) or off.
    pub on: bool,
}

impl std::str::FromStr for ScheduledMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let what = "MODE@MINUTES or MODE@MINUTES:off";
        let (id, at_s, kind) = parse_at(s, what)?;
        let on = match kind {
            None | Some("on") => true,
            Some("off") => false,
            _ => return Err(format!("`{s}`: expected {what}")),
        };
        Ok(Self {
            at_s,
            id: id.to_string(),
            on,
        })
    }
}
