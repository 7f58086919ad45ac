use kos_grid::{Method, Network, PowerFlow, PowerFlowOptions, Start};

/// Solves an accepted network AC (with reactive limits and the fallback) and DC, and checks
/// the promise of the result type: every number finite, whatever the network.
pub fn solve_all(net: &Network) {
    if net.buses.len() > 400 {
        return;
    }
    for opts in [
        PowerFlowOptions {
            start: Start::Flat,
            enforce_q_limits: true,
            ..PowerFlowOptions::default()
        },
        PowerFlowOptions {
            method: Method::Dc,
            ..PowerFlowOptions::default()
        },
        PowerFlowOptions {
            method: Method::FastDecoupled,
            distributed_slack: true,
            ..PowerFlowOptions::default()
        },
    ] {
        if let Ok(r) = PowerFlow::new().solve(net, &opts) {
            let all = [
                &r.vm_pu,
                &r.va_deg,
                &r.branch_pf_mw,
                &r.branch_qf_mvar,
                &r.branch_pt_mw,
                &r.branch_qt_mvar,
                &r.branch_loading_pct,
                &r.gen_pg_mw,
                &r.gen_qg_mvar,
            ];
            assert!(
                all.iter().all(|v| v.iter().all(|x| x.is_finite())),
                "non-finite result"
            );
            assert!(r.max_mismatch_pu.is_finite() && r.total_losses_mw.is_finite());
        }
    }
}
