//! The factorisation's columns shared between two threads: a left-looking column reads only
//! the columns of its subtree in the elimination tree, so disjoint subtrees can be factorised
//! at the same time, and their common ancestors (the top of the tree) after both.

use std::collections::BinaryHeap;

/// No parent.
const NONE: usize = usize::MAX;

/// Two threads' columns and the columns left for after them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Split {
    /// Each thread's columns, ascending (every column after its descendants).
    pub parts: [Vec<u32>; 2],
    /// The ancestors of both, ascending: factorised once both parts are done.
    pub top: Vec<u32>,
    /// Estimated work of the longest path through the split (the larger part plus the top).
    pub span: u64,
    /// Estimated work of all columns.
    pub total: u64,
}

impl Split {
    /// The estimated speed-up on two threads.
    pub fn gain(&self) -> f64 {
        self.total as f64 / self.span.max(1) as f64
    }
}

/// The triangular solves' view of a split. A column's rows in L are its ancestors, which in
/// a part are the part's first and the top's after them; the forward solve's updates of the
/// top's rows by the top's columns are gathered by rows once both parts are done, in the
/// order of their columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct TopRows {
    /// For each column of a part, where its rows in the part end in L's storage (its top
    /// rows follow); for a top column its start (all its rows are the top's).
    pub part_end: Vec<usize>,
    /// For each row of the top (in `Split::top`'s order), its entries of L in the top's
    /// columns: column and position in L's storage, columns ascending.
    pub ptr: Vec<usize>,
    pub col: Vec<u32>,
    pub pos: Vec<u32>,
}

impl TopRows {
    /// The view of `s` for L's pattern (`l_ptr`, `l_idx`: rows of each column, ascending).
    pub fn new(s: &Split, l_ptr: &[usize], l_idx: &[u32]) -> Self {
        let n = l_ptr.len() - 1;
        let mut in_top = vec![usize::MAX; n];
        for (t, &c) in s.top.iter().enumerate() {
            in_top[c as usize] = t;
        }
        let mut part_end = vec![0; n];
        let mut rows: Vec<Vec<(u32, u32)>> = vec![Vec::new(); s.top.len()];
        for j in 0..n {
            let range = l_ptr[j]..l_ptr[j + 1];
            let first_top = if in_top[j] != usize::MAX {
                l_ptr[j]
            } else {
                range.start
                    + l_idx[range.clone()].partition_point(|&i| in_top[i as usize] == usize::MAX)
            };
            part_end[j] = first_top;
            if in_top[j] == usize::MAX {
                continue;
            }
            for q in first_top..range.end {
                let t = in_top[l_idx[q] as usize];
                debug_assert!(t != usize::MAX, "a part's rows come before the top's");
                rows[t].push((j as u32, q as u32));
            }
        }
        let mut ptr = Vec::with_capacity(rows.len() + 1);
        ptr.push(0);
        let (mut col, mut pos) = (Vec::new(), Vec::new());
        for r in rows {
            for (j, q) in r {
                col.push(j);
                pos.push(q);
            }
            ptr.push(col.len());
        }
        Self {
            part_end,
            ptr,
            col,
            pos,
        }
    }
}

/// The factorisation's view of a split. A part's columns update the top's columns too (their
/// ancestors in the elimination tree); each part computes those updates on its own thread,
/// once its columns are done, and leaves their sums on each top column's top rows for the
/// top, which adds them and continues with its own columns' updates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct TopCols {
    /// Who factorises each column: 0 or 1 for a part, 2 for the top.
    pub owner: Vec<u8>,
    /// For each column of the top (in `Split::top`'s order), the top's rows of its pattern
    /// (of U above the diagonal, the diagonal, of L), ascending: where the parts' sums go.
    pub ptr: Vec<usize>,
    pub row: Vec<u32>,
}

impl TopCols {
    /// The view of `s` for the patterns of L (`l_ptr`, `l_idx`) and U (`u_ptr`, `u_idx`),
    /// rows of each column ascending.
    pub fn new(s: &Split, l: (&[usize], &[u32]), u: (&[usize], &[u32])) -> Self {
        let n = l.0.len() - 1;
        let mut owner = vec![2u8; n];
        for (h, cols) in s.parts.iter().enumerate() {
            for &c in cols {
                owner[c as usize] = h as u8;
            }
        }
        let mut ptr = Vec::with_capacity(s.top.len() + 1);
        ptr.push(0);
        let mut row = Vec::new();
        for &k in &s.top {
            let k = k as usize;
            let above = &u.1[u.0[k]..u.0[k + 1]];
            row.extend(above.iter().filter(|&&j| owner[j as usize] == 2));
            row.push(k as u32);
            // A top column's rows in L are its ancestors: all in the top.
            row.extend_from_slice(&l.1[l.0[k]..l.0[k + 1]]);
            ptr.push(row.len());
        }
        Self { owner, ptr, row }
    }
}

/// Splits the columns of the elimination forest `parent` (each column's parent, above it, or
/// `usize::MAX` at a root) whose columns cost `work` each: subtrees are cut off the top while
/// that shortens the estimated span, and the subtrees left are shared between two threads,
/// largest first, each to the lighter thread. `share`, given which columns are the top's,
/// tells how much of the top's work each other column takes to its own thread (its updates
/// of the top's columns, `TopCols`).
pub(super) fn split(parent: &[usize], work: &[u64], share: impl Fn(&[bool]) -> Vec<u64>) -> Split {
    let n = parent.len();
    let mut sub: Vec<u64> = work.to_vec();
    for j in 0..n {
        if parent[j] != NONE {
            sub[parent[j]] += sub[j];
        }
    }
    // Children, as lists in one array.
    let mut start = vec![0usize; n + 1];
    for &p in parent {
        if p != NONE {
            start[p + 1] += 1;
        }
    }
    for j in 0..n {
        start[j + 1] += start[j];
    }
    let mut fill = start.clone();
    let mut children = vec![0usize; start[n]];
    for (j, &p) in parent.iter().enumerate() {
        if p != NONE {
            children[fill[p]] = j;
            fill[p] += 1;
        }
    }
    let total: u64 = work.iter().sum();
    let roots = (0..n).filter(|&j| parent[j] == NONE);

    // Cut the largest subtree's root off the top, step by step, keeping the step whose bound
    // on the span (the top, plus the larger of the largest subtree and half of them all) is
    // least. Replayed to that step below.
    let cut = |steps: usize| {
        let mut heap: BinaryHeap<(u64, usize)> = roots.clone().map(|r| (sub[r], r)).collect();
        let (mut top, mut top_work, mut rest) = (Vec::new(), 0u64, total);
        let mut best = (u64::MAX, 0);
        for step in 0..=steps {
            let largest = heap.peek().map_or(0, |&(s, _)| s);
            let bound = top_work + largest.max(rest.div_ceil(2));
            if bound < best.0 {
                best = (bound, step);
            }
            if step == steps || top_work >= best.0 {
                break;
            }
            let Some((_, v)) = heap.pop() else { break };
            top.push(v);
            top_work += work[v];
            rest -= work[v];
            heap.extend(
                children[start[v]..start[v + 1]]
                    .iter()
                    .map(|&c| (sub[c], c)),
            );
        }
        (best.1, top, heap)
    };
    let (steps, _, _) = cut(n);
    let (_, mut top, heap) = cut(steps);
    let mut in_top = vec![false; n];
    for &v in &top {
        in_top[v] = true;
    }
    // Each column's work with its share of the top's, summed over subtrees.
    let share = share(&in_top);
    let mut load_of: Vec<u64> = (0..n)
        .map(|j| if in_top[j] { 0 } else { work[j] + share[j] })
        .collect();
    for j in 0..n {
        if parent[j] != NONE && !in_top[parent[j]] {
            load_of[parent[j]] += load_of[j];
        }
    }

    // Largest subtree first, to the thread with less work so far.
    let mut trees: Vec<(u64, usize)> = heap.into_iter().map(|(_, r)| (load_of[r], r)).collect();
    trees.sort_unstable();
    trees.reverse();
    let mut owner = vec![2u8; n];
    let mut load = [0u64; 2];
    let mut stack = Vec::new();
    for (s, r) in trees {
        let t = usize::from(load[1] < load[0]);
        load[t] += s;
        stack.push(r);
        while let Some(v) = stack.pop() {
            owner[v] = t as u8;
            stack.extend_from_slice(&children[start[v]..start[v + 1]]);
        }
    }
    top.sort_unstable();
    let top_work: u64 = top.iter().map(|&v| work[v]).sum::<u64>() - share.iter().sum::<u64>();
    let part = |t: u8| {
        (0..n)
            .filter(|&j| owner[j] == t)
            .map(|j| j as u32)
            .collect()
    };
    Split {
        parts: [part(0), part(1)],
        top: top.into_iter().map(|j| j as u32).collect(),
        span: top_work + load[0].max(load[1]),
        total,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Checks that the parts and the top cover every column once, that no column of one part
    /// has an ancestor in the other, and that each column's ancestors in the top come later.
    fn check(parent: &[usize], s: &Split) {
        let n = parent.len();
        let mut owner = vec![usize::MAX; n];
        for (t, cols) in s.parts.iter().chain([&s.top]).enumerate() {
            assert!(cols.windows(2).all(|w| w[0] < w[1]));
            for &c in cols {
                assert_eq!(owner[c as usize], usize::MAX, "column {c} twice");
                owner[c as usize] = t;
            }
        }
        assert!(owner.iter().all(|&o| o != usize::MAX));
        for j in 0..n {
            let mut a = parent[j];
            while a != NONE {
                // An ancestor is in the same part or in the top, never in the other part.
                assert!(owner[a] == owner[j] || owner[a] == 2, "{j} -> {a}");
                if owner[j] == 2 {
                    assert_eq!(owner[a], 2, "a top column's ancestor is in the top");
                }
                a = parent[a];
            }
        }
    }

    #[test]
    fn a_balanced_binary_tree_splits_in_halves_below_its_root() {
        // Heap numbering reversed so that parents come after children: 15 nodes, root 14.
        let n = 15;
        let heap_parent = |h: usize| if h == 0 { NONE } else { (h - 1) / 2 };
        let parent: Vec<usize> = (0..n)
            .map(|j| {
                let h = n - 1 - j;
                let p = heap_parent(h);
                if p == NONE { NONE } else { n - 1 - p }
            })
            .collect();
        let s = split(&parent, &vec![1; n], |t| vec![0; t.len()]);
        check(&parent, &s);
        assert_eq!(s.top, vec![14]);
        assert_eq!(s.parts[0].len(), 7);
        assert_eq!(s.parts[1].len(), 7);
        assert_eq!((s.span, s.total), (8, 15));
    }

    #[test]
    fn a_chain_has_nothing_to_share() {
        let n = 10;
        let parent: Vec<usize> = (0..n)
            .map(|j| if j + 1 < n { j + 1 } else { NONE })
            .collect();
        let s = split(&parent, &vec![3; n], |t| vec![0; t.len()]);
        check(&parent, &s);
        assert_eq!(s.span, s.total);
        assert_eq!(s.gain(), 1.0);
    }

    #[test]
    fn random_forests_split_into_valid_parts_no_longer_than_the_whole() {
        let mut seed = 7u64;
        let mut rnd = move |m: usize| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((seed >> 33) as usize) % m
        };
        for n in [1, 2, 5, 40, 300] {
            for _ in 0..20 {
                let parent: Vec<usize> = (0..n)
                    .map(|j| {
                        if j + 1 == n || rnd(8) == 0 {
                            NONE
                        } else {
                            j + 1 + rnd((n - j - 1).min(6))
                        }
                    })
                    .collect();
                let work: Vec<u64> = (0..n).map(|_| 1 + rnd(50) as u64).collect();
                let s = split(&parent, &work, |t| vec![0; t.len()]);
                check(&parent, &s);
                assert_eq!(s.total, work.iter().sum::<u64>());
                assert!(s.span <= s.total);
                // The span is at least half the work and at least the top's.
                assert!(2 * s.span >= s.total);
            }
        }
    }
}
