//! The factors of IEC 60909-0: voltage factors (Table 1), the peak factor κ (eq. 55), the
//! correction factors of transformers (eq. 12a) and generators (eq. 18), and the conductors'
//! temperature coefficient (eq. 28).

use super::ScOptions;

/// The voltage factor c_max of IEC 60909-0 Table 1 for a nominal voltage.
pub fn c_max(vn_kv: f64, options: &ScOptions) -> f64 {
    if vn_kv < 1.0 && options.lv_tol_percent <= 6.0 {
        1.05
    } else {
        1.10
    }
}

/// The voltage factor c_min of IEC 60909-0 Table 1 for a nominal voltage.
pub fn c_min(vn_kv: f64) -> f64 {
    if vn_kv < 1.0 { 0.95 } else { 1.0 }
}

/// Temperature coefficient of conductor resistance in IEC 60909-0 eq. 28, 1/K.
pub const ALPHA_PER_K: f64 = 0.004;

/// The peak factor κ for a ratio R/X (IEC 60909-0 eq. 55).
pub fn kappa(r_over_x: f64) -> f64 {
    1.02 + 0.98 * (-3.0 * r_over_x).exp()
}

/// The transformer correction factor K_T (IEC 60909-0 eq. 12a), x_T per unit of the rating.
pub fn k_t(c_max: f64, x_t: f64) -> f64 {
    0.95 * c_max / (1.0 + 0.6 * x_t)
}

/// The generator correction factor K_G (IEC 60909-0 eq. 18).
pub fn k_g(vn_kv: f64, vr_kv: f64, c_max: f64, xdss_pu: f64, cos_phi: f64) -> f64 {
    let sin_phi = (1.0 - cos_phi * cos_phi).max(0.0).sqrt();
    vn_kv / vr_kv * c_max / (1.0 + xdss_pu * sin_phi)
}
