//! The bus admittance matrix, in compressed sparse column form.

use num_complex::Complex64;

use crate::network::{Branch, Network};

/// The four pi-model admittances of a branch, per unit (MATPOWER `makeYbus`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BranchAdmittance {
    /// From-side self admittance.
    pub yff: Complex64,
    /// From-row, to-column mutual admittance.
    pub yft: Complex64,
    /// To-row, from-column mutual admittance.
    pub ytf: Complex64,
    /// To-side self admittance.
    pub ytt: Complex64,
}

impl BranchAdmittance {
    /// Admittances of `br`: `ys = 1/(r+jx)`, `t = tap e^{j shift}`,
    /// `Yff = (ys + (g+jb)/2)/|t|^2`, `Yft = -ys/conj(t)`, `Ytf = -ys/t`, `Ytt = ys + (g+jb)/2`.
    pub fn of(br: &Branch) -> Self {
        let z = Complex64::new(br.r_pu, br.x_pu);
        let ys = if z.norm_sqr() > 0.0 {
            z.inv()
        } else {
            Complex64::new(0.0, 0.0)
        };
        let ysh = Complex64::new(br.g_pu, br.b_pu) * 0.5;
        let t = Complex64::from_polar(br.ratio(), br.shift_deg.to_radians());
        Self {
            yff: (ys + ysh) / t.norm_sqr(),
            yft: -ys / t.conj(),
            ytf: -ys / t,
            ytt: ys + ysh,
        }
    }
}

/// Sparse bus admittance matrix, per unit. Rows within a column are sorted and every diagonal
/// entry is present, so patterns derived from it are valid for a sparse LU.
#[derive(Debug, Clone)]
pub struct Ybus {
    /// Dimension (number of buses).
    pub n: usize,
    /// Start of each column in `row_idx` / `val`, length `n + 1`.
    pub col_ptr: Vec<usize>,
    /// Row of each stored entry.
    pub row_idx: Vec<usize>,
    /// Value of each stored entry, pu.
    pub val: Vec<Complex64>,
    /// Position of the diagonal entry of each column.
    pub diag: Vec<usize>,
    /// Positions of (ff, tt, ft, tf) of each branch in the pattern (`None`: not in it).
    pub branch_pos: Vec<Option<[usize; 4]>>,
}

impl Ybus {
    /// Builds the admittance matrix whose pattern holds the branches for which `in_pattern`
    /// is true, with the values of those that are also in service, plus bus shunts.
    pub fn build(net: &Network, in_pattern: impl Fn(usize, &Branch) -> bool) -> Self {
        let n = net.buses.len();
        // (column, row) of every structural entry; duplicates merge below.
        let mut entries: Vec<(usize, usize)> = (0..n).map(|i| (i, i)).collect();
        let mut members = vec![false; net.branches.len()];
        for (k, br) in net.branches.iter().enumerate() {
            if in_pattern(k, br) && br.from < n && br.to < n {
                members[k] = true;
                entries.push((br.to, br.from)); // element (from, to) lies in column `to`
                entries.push((br.from, br.to));
            }
        }
        entries.sort_unstable();
        entries.dedup();
        let mut col_ptr = vec![0usize; n + 1];
        let mut row_idx = Vec::with_capacity(entries.len());
        for &(c, r) in &entries {
            row_idx.push(r);
            col_ptr[c + 1] += 1;
        }
        for c in 0..n {
            col_ptr[c + 1] += col_ptr[c];
        }
        let mut y = Self {
            n,
            col_ptr,
            row_idx,
            val: vec![Complex64::new(0.0, 0.0); entries.len()],
            diag: vec![0; n],
            branch_pos: Vec::new(),
        };
        for c in 0..n {
            y.diag[c] = y.position(c, c).expect("diagonal present");
        }
        y.branch_pos = net
            .branches
            .iter()
            .zip(&members)
            .map(|(br, &m)| {
                m.then(|| {
                    let (f, t) = (br.from, br.to);
                    [
                        y.diag[f],
                        y.diag[t],
                        y.position(f, t).expect("in pattern"),
                        y.position(t, f).expect("in pattern"),
                    ]
                })
            })
            .collect();
        y.fill(net);
        y
    }

    /// Recomputes the values from `net`: shunts, and every branch of the pattern that is in
    /// service. Branches of the pattern that are out of service stay as explicit zeros, so
    /// the pattern (and any factorisation built on it) survives a switching operation.
    pub fn fill(&mut self, net: &Network) {
        self.fill_with(net, |_, br| BranchAdmittance::of(br));
    }

    /// [`Ybus::fill`] with each branch's pi-model admittances given by `admittance(k, branch)`
    /// (from a cache kept beside this matrix, say).
    pub fn fill_with(
        &mut self,
        net: &Network,
        admittance: impl Fn(usize, &Branch) -> BranchAdmittance,
    ) {
        self.val
            .iter_mut()
            .for_each(|v| *v = Complex64::new(0.0, 0.0));
        for (i, b) in net.buses.iter().enumerate().take(self.n) {
            self.val[self.diag[i]] = Complex64::new(b.gs_mw, b.bs_mvar) / net.base_mva;
        }
        for (k, (br, pos)) in net.branches.iter().zip(&self.branch_pos).enumerate() {
            if let (Some([ff, tt, ft, tf]), true) = (pos, br.in_service) {
                let a = admittance(k, br);
                self.val[*ff] += a.yff;
                self.val[*tt] += a.ytt;
                self.val[*ft] += a.yft;
                self.val[*tf] += a.ytf;
            }
        }
    }

    /// Whether branch `k` is part of the pattern.
    pub fn has_branch(&self, k: usize) -> bool {
        self.branch_pos.get(k).is_some_and(|p| p.is_some())
    }

    /// Position of entry (`row`, `col`) if it is in the pattern.
    pub fn position(&self, row: usize, col: usize) -> Option<usize> {
        let (s, e) = (self.col_ptr[col], self.col_ptr[col + 1]);
        self.row_idx[s..e].binary_search(&row).ok().map(|p| s + p)
    }

    /// Current injections `I = Y V`, pu.
    pub fn mul(&self, v: &[Complex64], out: &mut [Complex64]) {
        out.iter_mut().for_each(|x| *x = Complex64::new(0.0, 0.0));
        for (k, &vk) in v[..self.n].iter().enumerate() {
            let (first, end) = (self.col_ptr[k], self.col_ptr[k + 1]);
            for (&i, &y) in self.row_idx[first..end].iter().zip(&self.val[first..end]) {
                out[i] += y * vk;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::{Bus, BusKind};

    fn two_bus() -> Network {
        let mut net = Network::new("t", 100.0);
        net.buses.push(Bus::new("1", BusKind::Slack, 20.0));
        net.buses.push(Bus::new("2", BusKind::Pq, 20.0));
        net.buses[1].bs_mvar = 5.0;
        let mut br = Branch::line(0, 1, 0.01, 0.1, 0.02);
        br.tap = 1.05;
        br.shift_deg = 3.0;
        net.branches.push(br);
        net
    }

    #[test]
    fn pi_model_matches_the_matpower_formulas() {
        let net = two_bus();
        let y = Ybus::build(&net, |_, b| b.in_service);
        let ys = Complex64::new(0.01, 0.1).inv();
        let t = Complex64::from_polar(1.05, 3f64.to_radians());
        let yff = (ys + Complex64::new(0.0, 0.01)) / (1.05 * 1.05);
        let yft = -ys / t.conj();
        let ytf = -ys / t;
        let ytt = ys + Complex64::new(0.0, 0.01) + Complex64::new(0.0, 0.05);
        let get = |r, c| y.val[y.position(r, c).unwrap()];
        assert!((get(0, 0) - yff).norm() < 1e-12);
        assert!((get(0, 1) - yft).norm() < 1e-12);
        assert!((get(1, 0) - ytf).norm() < 1e-12);
        assert!((get(1, 1) - ytt).norm() < 1e-12);
    }

    #[test]
    fn an_open_branch_keeps_its_pattern_with_zero_values() {
        let mut net = two_bus();
        let mut y = Ybus::build(&net, |_, b| b.in_service);
        net.branches[0].in_service = false;
        y.fill(&net);
        assert!(y.has_branch(0));
        assert!(y.val[y.diag[0]].norm() < 1e-12);
        assert!((y.val[y.diag[1]] - Complex64::new(0.0, 0.05)).norm() < 1e-12);
        assert!(y.val[y.position(0, 1).unwrap()].norm() < 1e-12);
    }
}
