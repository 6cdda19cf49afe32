//! The floor beside each figure: once criterion is done, the medians this
//! run measured, read back from its files, each with its ratio to the
//! floor of the same algorithm (see `floor.rs`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::Alg;

/// Prints, for `group`, a line per algorithm: the floor's median and each
/// of `functions`' medians with its ratio to the floor. Only medians
/// written since `started` count: a bench left out by a filter shows as
/// `-`, never as a figure from an older run.
pub(crate) fn beside_floor(started: SystemTime, group: &str, functions: &[&str]) {
    let dir = criterion_dir().join(group);
    let median = |function: &str, alg: Alg| median(&dir, function, alg, started);
    let mut table = format!(
        "\n{group}: median thread CPU time per call (ratio to the floor: the \
         same cryptography on aws-lc-rs with keys prepared once)\n{:<8}{:>12}",
        "", "floor"
    );
    for function in functions {
        let _ = write!(table, "{function:>24}");
    }
    let mut rows = 0;
    for alg in Alg::ALL {
        let floor = median("floor", alg);
        let _ = write!(table, "\n{:<8}{:>12}", alg.to_string(), shown(floor));
        for function in functions {
            let figure = median(function, alg);
            let ratio = match (figure, floor) {
                (Some(figure), Some(floor)) => format!("({:.2})", figure / floor),
                _ => String::new(),
            };
            let _ = write!(table, "{:>15} {ratio:>8}", shown(figure));
            rows += usize::from(figure.is_some());
        }
    }
    if rows > 0 {
        println!("{table}\n");
    }
}

/// Where criterion writes: `$CRITERION_HOME`, or `criterion` in the target
/// directory (which cargo tells benches at build time).
fn criterion_dir() -> PathBuf {
    let target = option_env!("CARGO_TARGET_TMPDIR").and_then(|tmp| Path::new(tmp).parent());
    match std::env::var_os("CRITERION_HOME") {
        Some(home) => PathBuf::from(home),
        None => target.unwrap_or(Path::new("target")).join("criterion"),
    }
}

/// The median in nanoseconds of `group/function/alg`, if this run wrote it.
fn median(dir: &Path, function: &str, alg: Alg, started: SystemTime) -> Option<f64> {
    median_in(&dir.join(function).join(alg.to_string()), started)
}

/// The median in nanoseconds of the benchmark at `path` (its group,
/// function and parameter), if this run wrote it.
pub(crate) fn median_of(started: SystemTime, path: &[&str]) -> Option<f64> {
    let dir = path
        .iter()
        .fold(criterion_dir(), |dir, part| dir.join(part));
    median_in(&dir, started)
}

fn median_in(dir: &Path, started: SystemTime) -> Option<f64> {
    let file = dir.join("new/estimates.json");
    let written = std::fs::metadata(&file).and_then(|m| m.modified()).ok()?;
    if written < started {
        return None;
    }
    let estimates: serde_json::Value = serde_json::from_slice(&std::fs::read(file).ok()?).ok()?;
    estimates["median"]["point_estimate"].as_f64()
}

fn shown(nanoseconds: Option<f64>) -> String {
    match nanoseconds {
        Some(ns) if ns >= 1e6 => format!("{:.1} ms", ns / 1e6),
        Some(ns) if ns >= 1e3 => format!("{:.2} µs", ns / 1e3),
        Some(ns) => format!("{ns:.0} ns"),
        None => "-".to_owned(),
    }
}
