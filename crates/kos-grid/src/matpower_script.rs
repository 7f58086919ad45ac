//! The few MATLAB statements that published MATPOWER case files use after their tables:
//! scalar assignments (`Vbase = mpc.bus(1, BASE_KV) * 1e3;`) and column rescaling
//! (`mpc.branch(:, [BR_R BR_X]) = mpc.branch(:, [BR_R BR_X]) / (Vbase^2 / Sbase);`).
//! Anything else that assigns into `mpc` is refused rather than ignored.

use std::collections::BTreeMap;

/// Standard MATPOWER column names, 1-based, by table.
fn column(table: &str, name: &str) -> Option<usize> {
    let cols: &[&str] = match table {
        "bus" => &[
            "BUS_I", "BUS_TYPE", "PD", "QD", "GS", "BS", "BUS_AREA", "VM", "VA", "BASE_KV", "ZONE",
            "VMAX", "VMIN",
        ],
        "gen" => &[
            "GEN_BUS",
            "PG",
            "QG",
            "QMAX",
            "QMIN",
            "VG",
            "MBASE",
            "GEN_STATUS",
            "PMAX",
            "PMIN",
        ],
        "branch" => &[
            "F_BUS",
            "T_BUS",
            "BR_R",
            "BR_X",
            "BR_B",
            "RATE_A",
            "RATE_B",
            "RATE_C",
            "TAP",
            "SHIFT",
            "BR_STATUS",
            "ANGMIN",
            "ANGMAX",
        ],
        _ => return None,
    };
    cols.iter()
        .position(|c| *c == name)
        .map(|p| p + 1)
        .or_else(|| name.parse::<usize>().ok().filter(|&c| c >= 1))
}

/// State the statements run against.
pub(crate) struct Script<'a> {
    /// Tables by name: rows of values.
    pub tables: &'a mut BTreeMap<String, Vec<Vec<f64>>>,
    /// System base, MVA.
    pub base_mva: f64,
    vars: BTreeMap<String, f64>,
}

impl<'a> Script<'a> {
    pub(crate) fn new(tables: &'a mut BTreeMap<String, Vec<Vec<f64>>>, base_mva: f64) -> Self {
        Self {
            tables,
            base_mva,
            vars: BTreeMap::new(),
        }
    }

    /// Runs one statement (without its trailing `;`). Statements that do not touch the case
    /// (`define_constants`, the `idx_*` unpacking, `function` lines) are skipped.
    pub(crate) fn run(&mut self, stmt: &str) -> Result<(), String> {
        let stmt = stmt.trim().trim_end_matches(';').trim();
        if stmt.is_empty()
            || stmt.starts_with('[')
            || stmt.starts_with("function")
            || !stmt.contains('=')
        {
            return Ok(());
        }
        let (lhs, rhs) = stmt.split_once('=').ok_or("expected `=`")?;
        let (lhs, rhs) = (lhs.trim(), rhs.trim());
        if let Some(target) = lhs.strip_prefix("mpc.") {
            let (table, cols) =
                column_ref(target).ok_or_else(|| format!("unsupported assignment to `{lhs}`"))?;
            let cols = self.columns(&table, &cols)?;
            // rhs must be the same reference, then `*` or `/` and an expression.
            let rest = rhs
                .strip_prefix(lhs)
                .ok_or_else(|| format!("unsupported right-hand side `{rhs}`"))?
                .trim();
            let (op, expr) = rest.split_at(
                rest.find(['*', '/'])
                    .filter(|&p| p == 0)
                    .map(|_| 1)
                    .ok_or_else(|| format!("unsupported operation `{rest}`"))?,
            );
            let k = self.eval(expr)?;
            let rows = self
                .tables
                .get_mut(&table)
                .ok_or_else(|| format!("no table `{table}`"))?;
            for row in rows.iter_mut() {
                for &c in &cols {
                    if let Some(v) = row.get_mut(c - 1) {
                        *v = if op == "*" { *v * k } else { *v / k };
                    }
                }
            }
            Ok(())
        } else if lhs.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            let v = self.eval(rhs)?;
            self.vars.insert(lhs.to_string(), v);
            Ok(())
        } else {
            Err(format!("unsupported statement `{stmt}`"))
        }
    }

    fn columns(&self, table: &str, cols: &[String]) -> Result<Vec<usize>, String> {
        cols.iter()
            .map(|c| column(table, c).ok_or_else(|| format!("unknown {table} column `{c}`")))
            .collect()
    }

    fn eval(&self, expr: &str) -> Result<f64, String> {
        let tokens = tokenize(expr)?;
        let mut p = Parser {
            tokens,
            pos: 0,
            script: self,
        };
        let v = p.sum()?;
        if p.pos != p.tokens.len() {
            return Err(format!("unexpected `{}` in `{expr}`", p.tokens[p.pos]));
        }
        if v.is_finite() {
            Ok(v)
        } else {
            Err(format!("`{expr}` is not a finite number"))
        }
    }
}

/// `bus(:, [PD, QD])` or `bus(:, PD)` -> ("bus", ["PD", "QD"]).
fn column_ref(s: &str) -> Option<(String, Vec<String>)> {
    let (table, rest) = s.split_once('(')?;
    let inner = rest.strip_suffix(')')?.trim();
    let cols = inner.strip_prefix(':')?.trim().strip_prefix(',')?.trim();
    let cols = cols.trim_start_matches('[').trim_end_matches(']');
    let names: Vec<String> = cols
        .split([',', ' '])
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(String::from)
        .collect();
    (!names.is_empty()).then(|| (table.trim().to_string(), names))
}

fn tokenize(s: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if "+-*/^(),".contains(c) {
            out.push(c.to_string());
            i += 1;
        } else if c.is_ascii_digit() || c == '.' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric()
                    || chars[i] == '.'
                    || ((chars[i] == '-' || chars[i] == '+') && matches!(chars[i - 1], 'e' | 'E')))
            {
                i += 1;
            }
            out.push(chars[start..i].iter().collect());
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric() || chars[i] == '_' || chars[i] == '.')
            {
                i += 1;
            }
            out.push(chars[start..i].iter().collect());
        } else {
            return Err(format!("unexpected character `{c}`"));
        }
    }
    Ok(out)
}

struct Parser<'s, 'a> {
    tokens: Vec<String>,
    pos: usize,
    script: &'s Script<'a>,
}

impl Parser<'_, '_> {
    fn peek(&self) -> Option<&str> {
        self.tokens.get(self.pos).map(String::as_str)
    }

    fn next(&mut self) -> Result<String, String> {
        let t = self
            .tokens
            .get(self.pos)
            .cloned()
            .ok_or("unexpected end of expression")?;
        self.pos += 1;
        Ok(t)
    }

    fn sum(&mut self) -> Result<f64, String> {
        let mut v = self.product()?;
        while let Some(op) = self
            .peek()
            .filter(|t| *t == "+" || *t == "-")
            .map(String::from)
        {
            self.pos += 1;
            let r = self.product()?;
            v = if op == "+" { v + r } else { v - r };
        }
        Ok(v)
    }

    fn product(&mut self) -> Result<f64, String> {
        let mut v = self.power()?;
        while let Some(op) = self
            .peek()
            .filter(|t| *t == "*" || *t == "/")
            .map(String::from)
        {
            self.pos += 1;
            let r = self.power()?;
            v = if op == "*" { v * r } else { v / r };
        }
        Ok(v)
    }

    fn power(&mut self) -> Result<f64, String> {
        let base = self.atom()?;
        if self.peek() == Some("^") {
            self.pos += 1;
            let e = self.power()?;
            return Ok(base.powf(e));
        }
        Ok(base)
    }

    fn atom(&mut self) -> Result<f64, String> {
        let t = self.next()?;
        match t.as_str() {
            "-" => Ok(-self.atom()?),
            "(" => {
                let v = self.sum()?;
                if self.next()? != ")" {
                    return Err("expected `)`".into());
                }
                Ok(v)
            }
            "mpc.baseMVA" => Ok(self.script.base_mva),
            _ if t.starts_with("mpc.") => {
                // mpc.TABLE(ROW, COLUMN)
                let table = &t[4..];
                if self.next()? != "(" {
                    return Err(format!("expected `(` after `{t}`"));
                }
                let row = self.sum()?;
                if self.next()? != "," {
                    return Err("expected `,`".into());
                }
                let col_name = self.next()?;
                if self.next()? != ")" {
                    return Err("expected `)`".into());
                }
                let col = column(table, &col_name)
                    .ok_or_else(|| format!("unknown {table} column `{col_name}`"))?;
                let rows = self
                    .script
                    .tables
                    .get(table)
                    .ok_or_else(|| format!("no table `{table}`"))?;
                let r = row as usize;
                if row.fract() != 0.0 || r == 0 {
                    return Err(format!("row {row} is not a positive integer"));
                }
                rows.get(r - 1)
                    .and_then(|x| x.get(col - 1))
                    .copied()
                    .ok_or_else(|| format!("{table}({r}, {col_name}) does not exist"))
            }
            _ if t
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_digit() || c == '.') =>
            {
                t.parse::<f64>()
                    .map_err(|_| format!("`{t}` is not a number"))
            }
            _ => self
                .script
                .vars
                .get(&t)
                .copied()
                .ok_or_else(|| format!("unknown name `{t}`")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rescales_columns_like_case33bw() {
        let mut tables = BTreeMap::new();
        tables.insert(
            "bus".to_string(),
            vec![vec![
                1.0, 3.0, 100.0, 60.0, 0.0, 0.0, 1.0, 1.0, 0.0, 12.66, 1.0, 1.0, 1.0,
            ]],
        );
        tables.insert(
            "branch".to_string(),
            vec![vec![
                1.0, 2.0, 0.0922, 0.047, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, -360.0, 360.0,
            ]],
        );
        let mut s = Script::new(&mut tables, 10.0);
        s.run("Vbase = mpc.bus(1, BASE_KV) * 1e3;").unwrap();
        s.run("Sbase = mpc.baseMVA * 1e6;").unwrap();
        s.run("mpc.branch(:, [BR_R BR_X]) = mpc.branch(:, [BR_R BR_X]) / (Vbase^2 / Sbase);")
            .unwrap();
        s.run("mpc.bus(:, [PD, QD]) = mpc.bus(:, [PD, QD]) / 1e3;")
            .unwrap();
        let zb = 12660.0f64.powi(2) / 10e6;
        assert!((tables["branch"][0][2] - 0.0922 / zb).abs() < 1e-15);
        assert!((tables["bus"][0][2] - 0.1).abs() < 1e-15);
    }

    #[test]
    fn refuses_what_it_cannot_do() {
        let mut tables = BTreeMap::new();
        tables.insert("bus".to_string(), vec![vec![1.0; 13]]);
        let mut s = Script::new(&mut tables, 100.0);
        assert!(s.run("mpc.bus(3, PD) = 7;").is_err());
        assert!(
            s.run("mpc.bus(:, PD) = mpc.bus(:, PD) / unknown_name;")
                .is_err()
        );
        assert!(s.run("mpc.bus(:, NOPE) = mpc.bus(:, NOPE) * 2;").is_err());
        assert!(s.run("define_constants;").is_ok());
    }
}
