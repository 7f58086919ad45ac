//! Vectors that start on a cache line. The allocator aligns a vector to its element's
//! alignment only (8 bytes for numbers), so that a 16-byte complex number or a 32-byte 2 x 2
//! block may straddle two cache lines, and which ones do depends on the run: the hot arrays
//! of a solve are kept in these instead, every element within one line.

use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};

use num_complex::Complex64;

/// Elements for an [`Aligned`] vector.
///
/// # Safety
/// Every all-zero bit pattern is a value of the type, and its size divides 64.
pub(crate) unsafe trait Zeroed: Copy {}

// SAFETY: numbers and arrays of numbers, zero when all bits are; 8, 16, 32 and 16 bytes.
unsafe impl Zeroed for f64 {}
// SAFETY: as above.
unsafe impl Zeroed for [f64; 2] {}
// SAFETY: as above.
unsafe impl Zeroed for [f64; 4] {}
// SAFETY: as above (`Complex` is `repr(C)`: two `f64`).
unsafe impl Zeroed for Complex64 {}

/// One cache line.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Line([u8; 64]);

const ZERO_LINE: Line = Line([0; 64]);

/// A vector of `T` starting on a cache line, with a fixed length set by
/// [`Aligned::zeros`] and [`Aligned::resize`].
#[derive(Clone)]
pub(crate) struct Aligned<T> {
    lines: Vec<Line>,
    len: usize,
    of: PhantomData<T>,
}

impl<T: Zeroed> Aligned<T> {
    /// `len` zeros.
    pub fn zeros(len: usize) -> Self {
        const { assert!(64 % size_of::<T>() == 0 && align_of::<T>() <= 64) };
        Self {
            lines: vec![ZERO_LINE; (len * size_of::<T>()).div_ceil(64)],
            len,
            of: PhantomData,
        }
    }

    /// A copy of `values`.
    pub fn from_slice(values: &[T]) -> Self {
        let mut v = Self::zeros(values.len());
        v.copy_from_slice(values);
        v
    }

    /// Makes the length `len`, new elements zero.
    pub fn resize(&mut self, len: usize) {
        let old = self.len;
        self.lines
            .resize((len * size_of::<T>()).div_ceil(64), ZERO_LINE);
        self.len = len;
        if len > old {
            // SAFETY: zero bits are a `T` (`Zeroed`).
            self[old..].fill(unsafe { std::mem::zeroed() });
        }
    }
}

impl<T: Zeroed> Default for Aligned<T> {
    fn default() -> Self {
        Self::zeros(0)
    }
}

impl<T: Zeroed> Deref for Aligned<T> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        // SAFETY: the lines hold at least `len` elements in a row (their size divides a
        // line's, so none straddles two), aligned (a line's alignment is at least theirs),
        // and every one is a `T`: zero bits or a `T` written through `deref_mut`.
        unsafe { std::slice::from_raw_parts(self.lines.as_ptr().cast::<T>(), self.len) }
    }
}

impl<T: Zeroed> DerefMut for Aligned<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        // SAFETY: as in `deref`, borrowed mutably with the lines.
        unsafe { std::slice::from_raw_parts_mut(self.lines.as_mut_ptr().cast::<T>(), self.len) }
    }
}

impl<'a, T: Zeroed> IntoIterator for &'a Aligned<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<T: Zeroed + std::fmt::Debug> std::fmt::Debug for Aligned<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_lie_on_cache_lines_and_resize_with_zeros() {
        let mut b = Aligned::<[f64; 4]>::zeros(3);
        assert_eq!(b.as_ptr() as usize % 64, 0);
        assert_eq!(b.len(), 3);
        b[2] = [1.0, 2.0, 3.0, 4.0];
        b.resize(1);
        b.resize(4);
        assert_eq!(&b[..], &[[0.0; 4]; 4][..]);
        b[3] = [5.0; 4];
        b.resize(3);
        b.resize(5);
        assert_eq!(b[3], [0.0; 4]);
        assert_eq!(b.as_ptr() as usize % 64, 0);
        let c = Aligned::from_slice(&[Complex64::new(1.0, 2.0); 5]);
        assert_eq!(c.as_ptr() as usize % 64, 0);
        assert_eq!(c.clone()[4], Complex64::new(1.0, 2.0));
        let e = Aligned::<f64>::default();
        assert!(e.is_empty());
    }
}
