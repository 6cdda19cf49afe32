//! Outages that lose a rotation's answer, against any store: the client
//! follows `Retry-After` with the token the 503 handed it, and must not be
//! logged out while the outage lasts less than `outage_tolerance`.

use jwt_rotate::store::RefreshStore;
use jwt_rotate::testing::{Calls, Fault, FaultyStore, StoreOp, unique_subject};
use jwt_rotate::{Error, ManualClock, RefreshToken, TokenService};
use time::Duration;

/// How often the client retries during the outage (its `Retry-After`).
const RETRY_AFTER: Duration = Duration::seconds(5);

/// A service over `store` wrapped in a [`FaultyStore`], on `clock`, with
/// `reuse_grace` and the default 5-minute `outage_tolerance`.
pub(crate) fn faulty_service<S: RefreshStore>(
    store: S,
    clock: &ManualClock,
    grace: Duration,
) -> TokenService<FaultyStore<S>> {
    super::builder(clock)
        .reuse_grace(grace)
        .build(FaultyStore::new(store))
        .unwrap()
}

/// What became of one session through an outage of some length.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The client got its successor and the session lives on.
    KeptIn,
    /// The session was revoked as reuse.
    LoggedOut,
}

/// One session through an outage of `length` that starts by losing the
/// answer of its rotation (the store wrote it, the caller heard a
/// timeout). Every `RETRY_AFTER` during the outage the client retries with
/// the token its last 503 carried (each retry fails before the store);
/// when the store is back, it retries once more.
///
/// # Panics
/// When a failure is not a rotation in doubt, or the session ends other
/// than by reuse.
pub(crate) async fn lost_answer<S: RefreshStore>(
    service: &TokenService<FaultyStore<S>>,
    clock: &ManualClock,
    length: Duration,
) -> Outcome {
    let login = super::login(service, &unique_subject("outage")).await;
    clock.advance(Duration::minutes(20));
    service
        .store()
        .inject(Calls::Only(StoreOp::Rotate), Fault::FailAfter);
    let mut retry_with = in_doubt(service.refresh(&login.refresh_token).await);
    service.store().heal();
    service.store().inject(Calls::All, Fault::Fail);
    let mut elapsed = Duration::ZERO;
    while elapsed + RETRY_AFTER < length {
        clock.advance(RETRY_AFTER);
        elapsed += RETRY_AFTER;
        retry_with = in_doubt(service.refresh(&retry_with).await);
    }
    clock.advance(length - elapsed);
    service.store().heal();
    match service.refresh(&retry_with).await {
        Ok(pair) => {
            clock.advance(Duration::seconds(1));
            service.refresh(&pair.refresh_token).await.unwrap();
            Outcome::KeptIn
        }
        Err(Error::ReuseDetected) => Outcome::LoggedOut,
        Err(other) => panic!("after an outage of {length}: {other:?}"),
    }
}

/// A client that ignores the token the 503 carried and retries with its
/// own, once, after `length`: only the grace window helps it.
pub(crate) async fn lost_answer_plain_retry<S: RefreshStore>(
    service: &TokenService<FaultyStore<S>>,
    clock: &ManualClock,
    length: Duration,
) -> Outcome {
    let login = super::login(service, &unique_subject("plain")).await;
    clock.advance(Duration::minutes(20));
    service
        .store()
        .inject(Calls::Only(StoreOp::Rotate), Fault::FailAfter);
    in_doubt(service.refresh(&login.refresh_token).await);
    service.store().heal();
    clock.advance(length);
    match service.refresh(&login.refresh_token).await {
        Ok(_) => Outcome::KeptIn,
        Err(Error::ReuseDetected) => Outcome::LoggedOut,
        Err(other) => panic!("after an outage of {length}: {other:?}"),
    }
}

/// The token a rotation in doubt hands back, after checking it is one.
fn in_doubt<T: std::fmt::Debug>(result: Result<T, Error>) -> RefreshToken {
    match result {
        Err(Error::RotationInDoubt {
            source, retry_with, ..
        }) => {
            assert!(source.is_retryable(), "{source:?}");
            retry_with
        }
        other => panic!("expected a rotation in doubt, got {other:?}"),
    }
}

/// Outage lengths × grace settings, and what became of the session: a
/// table for the test's output, and the cases for its assertions.
pub(crate) async fn table<S, F>(
    make_store: F,
    clock: &ManualClock,
) -> Vec<(Duration, Duration, Outcome, Outcome)>
where
    S: RefreshStore,
    F: Fn() -> S,
{
    let mut rows = Vec::new();
    for grace in [Duration::seconds(10), Duration::ZERO] {
        for length in LENGTHS {
            let service = faulty_service(make_store(), clock, grace);
            let with_token = lost_answer(&service, clock, length).await;
            let plain = lost_answer_plain_retry(&service, clock, length).await;
            println!(
                "grace {grace}, outage {length}: retry token {with_token:?}, plain token {plain:?}"
            );
            rows.push((grace, length, with_token, plain));
        }
    }
    rows
}

/// The outage lengths tried: inside the grace window, past it, the
/// lengths measured in the field (12 s, 15 s, 40 s), up to just inside and
/// just past the 5-minute tolerance.
pub(crate) const LENGTHS: [Duration; 7] = [
    Duration::seconds(1),
    Duration::seconds(9),
    Duration::seconds(12),
    Duration::seconds(15),
    Duration::seconds(40),
    Duration::seconds(299),
    Duration::seconds(301),
];

/// Asserts what the README promises of `rows`: with the token the 503
/// carried, nobody is logged out by an outage shorter than the tolerance,
/// and everybody is past it; a client keeping its old token is logged out
/// once the grace window has passed.
pub(crate) fn assert_promises(rows: &[(Duration, Duration, Outcome, Outcome)]) {
    let tolerance = Duration::minutes(5);
    for (grace, length, with_token, plain) in rows {
        let expected = if *length < tolerance {
            Outcome::KeptIn
        } else {
            Outcome::LoggedOut
        };
        assert_eq!(
            *with_token, expected,
            "grace {grace}, outage {length}, retry token"
        );
        let expected = if length < grace {
            Outcome::KeptIn
        } else {
            Outcome::LoggedOut
        };
        assert_eq!(
            *plain, expected,
            "grace {grace}, outage {length}, plain token"
        );
    }
}
