//! Importer for MATPOWER case files (format version 2): `baseMVA`, `bus`, `gen` and `branch`.
//! Other tables (`gencost`, `bus_name`, ...) are skipped.

use std::collections::{BTreeMap, HashMap};

use crate::GridError;
use crate::matpower_script::Script;
use crate::network::{Branch, Bus, BusKind, Generator, Network};

/// One numeric row of a matrix, with the 1-based line it started on.
struct Row {
    line: usize,
    values: Vec<f64>,
}

fn parse_err(
    file: &str,
    line: usize,
    field: impl Into<String>,
    message: impl Into<String>,
) -> GridError {
    GridError::Parse {
        file: file.to_string(),
        line,
        field: field.into(),
        message: message.into(),
    }
}

fn parse_number(tok: &str) -> Option<f64> {
    match tok {
        "Inf" | "inf" | "+Inf" => Some(f64::INFINITY),
        "-Inf" | "-inf" => Some(f64::NEG_INFINITY),
        _ => tok.parse::<f64>().ok().filter(|v| v.is_finite()),
    }
}

/// Strips a `%` comment, leaving quoted text alone.
fn strip_comment(line: &str) -> &str {
    let mut in_quote = false;
    for (i, c) in line.char_indices() {
        match c {
            '\'' => in_quote = !in_quote,
            '%' if !in_quote => return &line[..i],
            _ => {}
        }
    }
    line
}

/// Parses MATPOWER case text. `file` names the source in error messages.
pub fn parse_matpower(text: &str, file: &str) -> Result<Network, GridError> {
    let mut base_mva: Option<(usize, f64)> = None;
    let mut tables: HashMap<String, (usize, Vec<Row>)> = HashMap::new();
    let mut name = String::from("case");
    let mut current: Option<(String, usize, Vec<Row>)> = None;
    let mut skipping_cell = false;
    // Statements after the tables (MATLAB code), with their line; `...` continues a line.
    let mut statements: Vec<(usize, String)> = Vec::new();
    let mut pending: Option<(usize, String)> = None;
    for (idx, raw) in text.lines().enumerate() {
        let line_no = idx + 1;
        let line = strip_comment(raw).trim();
        if let Some((start, mut acc)) = pending.take() {
            acc.push(' ');
            acc.push_str(line.trim_end_matches("..."));
            if line.ends_with("...") {
                pending = Some((start, acc));
            } else {
                statements.push((start, acc));
            }
            continue;
        }
        if line.is_empty() {
            continue;
        }
        if skipping_cell {
            if line.contains('}') {
                skipping_cell = false;
            }
            continue;
        }
        if let Some((table, start, mut rows)) = current.take() {
            let (body, closed) = match line.find(']') {
                Some(p) => (&line[..p], true),
                None => (line, false),
            };
            push_rows(body, line_no, &mut rows, file, &table)?;
            if closed {
                tables.insert(table, (start, rows));
            } else {
                current = Some((table, start, rows));
            }
            continue;
        }
        if let Some(rest) = line.strip_prefix("function") {
            if let Some(eq) = rest.find('=') {
                name = rest[eq + 1..].trim().trim_end_matches(';').to_string();
            }
            continue;
        }
        let Some(rest) = line.strip_prefix("mpc.").filter(|r| {
            // `mpc.NAME = ...` defines a table or a value; `mpc.NAME(...) = ...` is code.
            r.find('=').is_some_and(|eq| !r[..eq].contains('('))
        }) else {
            if line.ends_with("...") {
                pending = Some((line_no, line.trim_end_matches("...").to_string()));
            } else {
                statements.push((line_no, line.to_string()));
            }
            continue;
        };
        let Some(eq) = rest.find('=') else {
            return Err(parse_err(file, line_no, rest.trim(), "expected `=`"));
        };
        let field = rest[..eq].trim().to_string();
        let value = rest[eq + 1..].trim();
        if let Some(after) = value.strip_prefix('[') {
            let (body, closed) = match after.find(']') {
                Some(p) => (&after[..p], true),
                None => (after, false),
            };
            let mut rows = Vec::new();
            push_rows(body, line_no, &mut rows, file, &field)?;
            if closed {
                tables.insert(field, (line_no, rows));
            } else {
                current = Some((field, line_no, rows));
            }
        } else if value.starts_with('{') {
            skipping_cell = !value.contains('}');
        } else if field == "baseMVA" {
            let v = value.trim_end_matches(';').trim();
            let parsed = parse_number(v).filter(|b| *b > 0.0);
            match parsed {
                Some(b) => base_mva = Some((line_no, b)),
                None => {
                    return Err(parse_err(
                        file,
                        line_no,
                        "baseMVA",
                        format!("expected a positive number, got `{v}`"),
                    ));
                }
            }
        } else if field == "version" {
            let v = value
                .trim_end_matches(';')
                .trim()
                .trim_matches('\'')
                .trim_matches('"');
            if v != "2" {
                return Err(parse_err(
                    file,
                    line_no,
                    "version",
                    format!("only MATPOWER case format version 2 is supported, got `{v}`"),
                ));
            }
        }
    }
    if let Some((table, start, _)) = current {
        return Err(parse_err(
            file,
            start,
            table,
            "matrix is not closed with `]`",
        ));
    }
    let base_mva = base_mva
        .ok_or_else(|| parse_err(file, 1, "baseMVA", "missing"))?
        .1;
    if !statements.is_empty() {
        let mut values: BTreeMap<String, Vec<Vec<f64>>> = tables
            .iter()
            .map(|(k, (_, rows))| (k.clone(), rows.iter().map(|r| r.values.clone()).collect()))
            .collect();
        let mut script = Script::new(&mut values, base_mva);
        for (line, stmt) in &statements {
            for part in stmt.split(';') {
                script
                    .run(part)
                    .map_err(|m| parse_err(file, *line, "statement", m))?;
            }
        }
        for (k, (_, rows)) in tables.iter_mut() {
            for (row, v) in rows.iter_mut().zip(&values[k]) {
                row.values.clone_from(v);
            }
        }
    }
    let (bus_line, bus_rows) = tables
        .remove("bus")
        .ok_or_else(|| parse_err(file, 1, "bus", "missing"))?;
    let (_, gen_rows) = tables
        .remove("gen")
        .ok_or_else(|| parse_err(file, 1, "gen", "missing"))?;
    let (_, branch_rows) = tables
        .remove("branch")
        .ok_or_else(|| parse_err(file, 1, "branch", "missing"))?;
    if bus_rows.is_empty() {
        return Err(parse_err(file, bus_line, "bus", "no buses"));
    }

    let mut net = Network::new(name, base_mva);
    let mut index_of: HashMap<i64, usize> = HashMap::new();
    const BUS_COLS: [&str; 13] = [
        "bus_i", "type", "Pd", "Qd", "Gs", "Bs", "area", "Vm", "Va", "baseKV", "zone", "Vmax",
        "Vmin",
    ];
    for row in &bus_rows {
        need(row, 13, file, "bus", &BUS_COLS)?;
        let v = &row.values;
        let id = integer(v[0], row.line, file, "bus.bus_i")?;
        let kind = match integer(v[1], row.line, file, "bus.type")? {
            1 => BusKind::Pq,
            2 => BusKind::Pv,
            3 => BusKind::Slack,
            4 => BusKind::Isolated,
            t => {
                return Err(parse_err(
                    file,
                    row.line,
                    "bus.type",
                    format!("unknown bus type {t}"),
                ));
            }
        };
        if index_of.insert(id, net.buses.len()).is_some() {
            return Err(parse_err(
                file,
                row.line,
                "bus.bus_i",
                format!("duplicate bus number {id}"),
            ));
        }
        let mut b = Bus::new(
            id.to_string(),
            kind,
            finite(v[9], row.line, file, "bus.baseKV")?,
        );
        b.pd_mw = finite(v[2], row.line, file, "bus.Pd")?;
        b.qd_mvar = finite(v[3], row.line, file, "bus.Qd")?;
        b.gs_mw = finite(v[4], row.line, file, "bus.Gs")?;
        b.bs_mvar = finite(v[5], row.line, file, "bus.Bs")?;
        b.vm_pu = finite(v[7], row.line, file, "bus.Vm")?;
        b.va_deg = finite(v[8], row.line, file, "bus.Va")?;
        b.vm_max_pu = v[11];
        b.vm_min_pu = v[12];
        net.buses.push(b);
    }
    const GEN_COLS: [&str; 10] = [
        "bus", "Pg", "Qg", "Qmax", "Qmin", "Vg", "mBase", "status", "Pmax", "Pmin",
    ];
    for row in &gen_rows {
        need(row, 10, file, "gen", &GEN_COLS)?;
        let v = &row.values;
        let bus = lookup(&index_of, v[0], row.line, file, "gen.bus")?;
        let mut g = Generator::new(
            bus,
            finite(v[1], row.line, file, "gen.Pg")?,
            finite(v[5], row.line, file, "gen.Vg")?,
        );
        g.qg_mvar = finite(v[2], row.line, file, "gen.Qg")?;
        g.qmax_mvar = v[3];
        g.qmin_mvar = v[4];
        g.in_service = v[7] > 0.0;
        g.pmax_mw = v[8];
        g.pmin_mw = v[9];
        // Synchronous machines: each can hold an island; they share slack by rating.
        g.grid_forming = true;
        g.participation = if v[8].is_finite() { v[8].max(0.0) } else { 0.0 };
        net.generators.push(g);
    }
    const BR_COLS: [&str; 11] = [
        "fbus", "tbus", "r", "x", "b", "rateA", "rateB", "rateC", "ratio", "angle", "status",
    ];
    for row in &branch_rows {
        need(row, 11, file, "branch", &BR_COLS)?;
        let v = &row.values;
        let from = lookup(&index_of, v[0], row.line, file, "branch.fbus")?;
        let to = lookup(&index_of, v[1], row.line, file, "branch.tbus")?;
        let mut br = Branch::line(
            from,
            to,
            finite(v[2], row.line, file, "branch.r")?,
            finite(v[3], row.line, file, "branch.x")?,
            finite(v[4], row.line, file, "branch.b")?,
        );
        br.rate_a_mva = if v[5].is_finite() { v[5] } else { 0.0 };
        br.tap = finite(v[8], row.line, file, "branch.ratio")?;
        br.shift_deg = finite(v[9], row.line, file, "branch.angle")?;
        br.in_service = v[10] > 0.0;
        if br.in_service && br.r_pu == 0.0 && br.x_pu == 0.0 {
            return Err(parse_err(
                file,
                row.line,
                "branch.x",
                "in-service branch with zero impedance",
            ));
        }
        net.branches.push(br);
    }
    Ok(net)
}

fn push_rows(
    body: &str,
    line: usize,
    rows: &mut Vec<Row>,
    file: &str,
    table: &str,
) -> Result<(), GridError> {
    for part in body.split(';') {
        let toks: Vec<&str> = part
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|t| !t.is_empty())
            .collect();
        if toks.is_empty() {
            continue;
        }
        let mut values = Vec::with_capacity(toks.len());
        for (col, t) in toks.iter().enumerate() {
            match parse_number(t) {
                Some(v) => values.push(v),
                None if t.contains("Inf") || t.contains("inf") => {
                    values.push(if t.starts_with('-') {
                        f64::NEG_INFINITY
                    } else {
                        f64::INFINITY
                    })
                }
                None => {
                    return Err(parse_err(
                        file,
                        line,
                        format!("{table} column {}", col + 1),
                        format!("`{t}` is not a number"),
                    ));
                }
            }
        }
        rows.push(Row { line, values });
    }
    Ok(())
}

fn need(row: &Row, n: usize, file: &str, table: &str, cols: &[&str]) -> Result<(), GridError> {
    if row.values.len() < n {
        let missing = cols.get(row.values.len()).copied().unwrap_or("?");
        return Err(parse_err(
            file,
            row.line,
            format!("{table}.{missing}"),
            format!(
                "row has {} columns, at least {n} expected",
                row.values.len()
            ),
        ));
    }
    Ok(())
}

fn finite(v: f64, line: usize, file: &str, field: &str) -> Result<f64, GridError> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(parse_err(file, line, field, "must be finite"))
    }
}

fn integer(v: f64, line: usize, file: &str, field: &str) -> Result<i64, GridError> {
    if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e15 {
        Ok(v as i64)
    } else {
        Err(parse_err(
            file,
            line,
            field,
            format!("expected an integer, got {v}"),
        ))
    }
}

fn lookup(
    index_of: &HashMap<i64, usize>,
    v: f64,
    line: usize,
    file: &str,
    field: &str,
) -> Result<usize, GridError> {
    let id = integer(v, line, file, field)?;
    index_of
        .get(&id)
        .copied()
        .ok_or_else(|| parse_err(file, line, field, format!("bus {id} does not exist")))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TINY: &str = "function mpc = tiny
mpc.version = '2';
mpc.baseMVA = 100;
mpc.bus = [
\t1\t3\t0\t0\t0\t0\t1\t1\t0\t10\t1\t1.1\t0.9;
\t2\t1\t10\t5\t0\t0\t1\t1\t0\t10\t1\t1.1\t0.9;
];
mpc.gen = [
\t1\t10\t0\t100\t-100\t1.02\t100\t1\t50\t0;
];
mpc.branch = [
\t1\t2\t0.01\t0.1\t0.0\t20\t20\t20\t0\t0\t1\t-360\t360;
];
mpc.gencost = [
\t2 0 0 3 0 1 0;
];
mpc.bus_name = {
\t'a%b';
};
";

    #[test]
    fn reads_a_small_case() {
        let net = parse_matpower(TINY, "tiny.m").unwrap();
        assert_eq!(net.name, "tiny");
        assert_eq!(net.buses.len(), 2);
        assert_eq!(net.buses[0].kind, BusKind::Slack);
        assert_eq!(net.generators[0].vg_pu, 1.02);
        assert_eq!(net.branches[0].rate_a_mva, 20.0);
        assert_eq!(net.branches[0].ratio(), 1.0);
    }

    #[test]
    fn errors_name_file_line_and_field() {
        let bad = TINY.replace("\t2\t1\t10\t5", "\t2\t1\tten\t5");
        let e = parse_matpower(&bad, "tiny.m").unwrap_err().to_string();
        assert!(e.starts_with("tiny.m:6:"), "{e}");
        assert!(e.contains("bus column 3"), "{e}");
        let dangling = TINY.replace("\t1\t2\t0.01", "\t1\t7\t0.01");
        let e = parse_matpower(&dangling, "tiny.m").unwrap_err().to_string();
        assert!(
            e.contains("tiny.m:12:") && e.contains("branch.tbus") && e.contains("bus 7"),
            "{e}"
        );
        let short = TINY.replace("\t1\t10\t0\t100\t-100\t1.02\t100\t1\t50\t0;", "\t1\t10\t0;");
        let e = parse_matpower(&short, "tiny.m").unwrap_err().to_string();
        assert!(e.contains("tiny.m:9:") && e.contains("gen.Qmax"), "{e}");
    }

    proptest::proptest! {
        #[test]
        fn never_panics_on_arbitrary_text(s in "\\PC{0,400}") {
            let _ = parse_matpower(&s, "fuzz.m");
        }

        #[test]
        fn never_panics_on_mutated_cases(pos in 0usize..600, byte in 0u8..128) {
            let mut bytes = TINY.as_bytes().to_vec();
            let p = pos % bytes.len();
            bytes[p] = byte;
            let text = String::from_utf8_lossy(&bytes);
            let _ = parse_matpower(&text, "fuzz.m");
        }
    }
}
