//! What one timed run counts: operations, wall time, this process's CPU
//! (and its waited-for children's: pgbench), and the whole machine's.

use std::future::Future;
use std::time::{Duration, Instant};

use jwt_rotate::store::RefreshStore;
use jwt_rotate::{RefreshToken, TokenService};

use crate::Failure;

/// Linux reports CPU time in these ticks (`USER_HZ`, 100 on every
/// architecture Rust targets).
const TICKS_PER_SECOND: f64 = 100.0;

/// CPU time so far, in ticks.
#[derive(Clone, Copy)]
pub(crate) struct Cpu {
    /// This process, all threads.
    own: u64,
    /// This process's children that it has waited for.
    children: u64,
    /// Every core of the machine, busy (neither idle nor waiting for I/O).
    machine: u64,
}

impl Cpu {
    /// Reads `/proc/self/stat` and `/proc/stat`.
    ///
    /// # Errors
    /// When either cannot be read or parsed (not Linux).
    pub(crate) fn now() -> Result<Self, Failure> {
        let stat = std::fs::read_to_string("/proc/self/stat")?;
        // The command name (field 2), in parentheses, may hold spaces:
        // count from its closing one. Past the state (field 3), field n
        // is at n - 4 (proc(5): utime 14, stime 15, cutime 16, cstime 17).
        let after = stat.rsplit_once(')').ok_or("odd /proc/self/stat")?.1;
        let fields: Vec<u64> = after
            .split_whitespace()
            .skip(1)
            .map(|f| f.parse().unwrap_or(0))
            .collect();
        let field = |n: usize| fields.get(n - 4).copied().ok_or("short /proc/self/stat");
        let own = field(14)? + field(15)?;
        let children = field(16)? + field(17)?;
        let machine_line = std::fs::read_to_string("/proc/stat")?;
        let cpu: Vec<u64> = machine_line
            .lines()
            .next()
            .ok_or("empty /proc/stat")?
            .split_whitespace()
            .skip(1)
            .map(|f| f.parse().unwrap_or(0))
            .collect();
        // user nice system idle iowait irq softirq steal
        let busy = [0, 1, 2, 5, 6, 7]
            .iter()
            .map(|&i| cpu.get(i).copied().unwrap_or(0));
        Ok(Self {
            own,
            children,
            machine: busy.sum(),
        })
    }
}

/// Who did the operations a run counts.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Client {
    /// This process.
    InProcess,
    /// A child process this one waited for.
    Child,
}

/// One timed run's result.
#[derive(Clone, Copy)]
pub(crate) struct Run {
    /// Operations per second of wall time.
    pub(crate) per_second: f64,
    /// The client's CPU per operation, µs.
    pub(crate) client_us: f64,
    /// The whole machine's busy CPU per operation (client, server and
    /// whatever else ran), µs.
    pub(crate) machine_us: f64,
}

impl Run {
    /// The run of `operations` in `elapsed` between CPU readings `before`
    /// and `after`.
    pub(crate) fn new(
        operations: u64,
        elapsed: Duration,
        before: Cpu,
        after: Cpu,
        client: Client,
    ) -> Self {
        let ops = operations.max(1) as f64;
        let client_ticks = match client {
            Client::InProcess => after.own.saturating_sub(before.own),
            Client::Child => after.children.saturating_sub(before.children),
        };
        let us = |ticks: u64| ticks as f64 / TICKS_PER_SECOND * 1e6 / ops;
        Self {
            per_second: operations as f64 / elapsed.as_secs_f64(),
            client_us: us(client_ticks),
            machine_us: us(after.machine.saturating_sub(before.machine)),
        }
    }

    /// The run of `runs` with the median throughput.
    pub(crate) fn median(mut runs: Vec<Run>) -> Option<Run> {
        runs.sort_by(|a, b| a.per_second.total_cmp(&b.per_second));
        runs.get(runs.len() / 2).copied()
    }
}

/// `concurrency` tasks refreshing a session each, for `length`: every
/// refresh spends the token the previous one returned.
///
/// # Errors
/// The first refresh that fails: a throughput of failures means nothing.
pub(crate) async fn refreshes<S: RefreshStore + 'static>(
    service: &TokenService<S>,
    concurrency: usize,
    length: Duration,
) -> Result<Run, Failure> {
    let mut tokens = Vec::with_capacity(concurrency);
    for i in 0..concurrency {
        let pair = service
            .issue(
                &format!("refresher-{i}"),
                Default::default(),
                Default::default(),
            )
            .await?;
        // One refresh each first, so that every connection the run needs
        // is open and every statement prepared before the clock starts.
        tokens.push(service.refresh(&pair.refresh_token).await?.refresh_token);
    }
    let refreshers = tokens.into_iter().map(|token| {
        let service = service.clone();
        move |until| refresher(service, token, until)
    });
    in_tasks(refreshers, length).await
}

/// Runs each of `workers` in a task of its own until `length` has
/// passed (each is given the instant and says how many operations it
/// made), timing them all.
///
/// # Errors
/// The first worker's failure.
pub(crate) async fn in_tasks<W, F>(
    workers: impl IntoIterator<Item = W>,
    length: Duration,
) -> Result<Run, Failure>
where
    W: FnOnce(Instant) -> F,
    F: Future<Output = Result<u64, Failure>> + Send + 'static,
{
    let before = Cpu::now()?;
    let start = Instant::now();
    let until = start + length;
    let tasks: Vec<_> = workers
        .into_iter()
        .map(|worker| tokio::spawn(worker(until)))
        .collect();
    let mut operations = 0;
    for task in tasks {
        operations += task.await??;
    }
    let elapsed = start.elapsed();
    let after = Cpu::now()?;
    Ok(Run::new(
        operations,
        elapsed,
        before,
        after,
        Client::InProcess,
    ))
}

/// Refreshes until `until`; how many.
async fn refresher<S: RefreshStore>(
    service: TokenService<S>,
    mut token: RefreshToken,
    until: Instant,
) -> Result<u64, Failure> {
    let mut done = 0;
    while Instant::now() < until {
        token = service.refresh(&token).await?.refresh_token;
        done += 1;
    }
    Ok(done)
}

/// Prints one store's table: the medians of the rounds, at each
/// concurrency.
pub(crate) fn print_table(store: &str, bare: &str, rows: &[(usize, Run, Run)]) {
    println!("\n{store}: refresh through the crate beside {bare}, medians of the rounds");
    println!(
        "| refreshers | refreshes/s | bare/s | ratio | client µs/refresh | client µs/bare | \
         machine µs/refresh | machine µs/bare |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for (concurrency, ours, theirs) in rows {
        println!(
            "| {concurrency} | {:.0} | {:.0} | {:.2} | {:.0} | {:.0} | {:.0} | {:.0} |",
            ours.per_second,
            theirs.per_second,
            ours.per_second / theirs.per_second,
            ours.client_us,
            theirs.client_us,
            ours.machine_us,
            theirs.machine_us,
        );
    }
}
