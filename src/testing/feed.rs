//! Checks on a store's [`RevocationFeed`]: order, exactly one event per
//! revocation, catch-up with `since` after a disconnect, `TooOld` once
//! trimmed, and a [`Verifier`](crate::Verifier) that refuses a revoked
//! session's token in flight once its follower saw the event.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use time::{Duration, OffsetDateTime};

use super::follow::{Following, eventually};
use super::{join_all, ok, sample_record, unique_subject};
use crate::error::Error;
use crate::session::{Revocation, RevocationReason, SessionId, SessionRecord};
use crate::store::{
    CatchUp, Cursor, FeedMessage, RefreshStore, RevocationEvent, RevocationFeed,
    RevocationSubscription, Revoked,
};

/// Every feed check, one after another. `trim` must make the store drop
/// the entries of revocations made two days ago (MemoryStore: revoke
/// sessions until its ring overflows; the SQL stores: `purge_expired(now)`
/// with a retention under two days). Other checks' sessions and events
/// may share the store.
///
/// # Panics
/// On the first contract violation or store error.
pub async fn run_feed<S>(store: &Arc<S>, trim: impl AsyncFnOnce(&S))
where
    S: RefreshStore + RevocationFeed + ?Sized,
{
    let one: &S = store;
    feed_publishes_each_revocation_once_in_order(one).await;
    feed_publishes_one_event_per_winning_revoke(store).await;
    feed_catches_up_after_a_disconnect(one).await;
    feed_refuses_a_token_in_flight_once_the_follower_saw_it(store).await;
    feed_says_too_old_once_trimmed(one, trim).await;
}

/// Revoke, a no-op revoke of the same session, one of an unknown id, and a
/// subject revocation: a subscription delivers one event for each
/// revocation that changed something (the subject's as one `Subject`
/// event with the spared session, or as an event for each session it
/// revoked), in order, with increasing cursors and the revocations'
/// instants; `since` from the first returns the same events.
pub async fn feed_publishes_each_revocation_once_in_order<S>(store: &S)
where
    S: RefreshStore + RevocationFeed + ?Sized,
{
    let subject = unique_subject("feed-order");
    let [w, a, b, c, d] = created(store, &subject).await;
    let mut subscription = ok(store.subscribe().await, "subscribe");
    let why = revocation(now());
    for (record, changes) in [(&w, true), (&a, true), (&a, false), (&b, true)] {
        let changed = ok(store.revoke(&record.id, &why).await, "revoke");
        assert_eq!(changed, changes, "revoke of a session, live: {changes}");
    }
    let unknown = SessionId::random();
    assert!(!ok(store.revoke(&unknown, &why).await, "revoke"));
    let spared = Some(&c.id);
    let revoked = ok(
        store.revoke_subject(&subject, spared, &why).await,
        "revoke_subject",
    );
    assert_eq!(
        revoked, 1,
        "revoke_subject revokes the one live session not spared"
    );

    let subject_event = Revoked::Subject {
        subject: subject.clone(),
        except: Some(c.id),
    };
    let last = |e: &RevocationEvent| e.revoked == subject_event || e.revoked == session(&d);
    let seen = until(&mut subscription, last).await;
    let ids = [w.id, a.id, b.id, c.id, d.id, unknown];
    let ours: Vec<&RevocationEvent> = seen
        .iter()
        .filter(|e| concerns(e, &ids, &subject))
        .collect();
    let what: Vec<&Revoked> = ours.iter().map(|e| &e.revoked).collect();
    let expected = [session(&w), session(&a), session(&b)];
    assert!(
        what.len() == 4 && what[..3] == expected.each_ref() && last(ours[3]),
        "the feed must hold w, a, b, then the subject's revocation, once each: {what:?}"
    );
    for event in &ours {
        assert_eq!(
            event.at, why.at,
            "an event carries its revocation's instant"
        );
    }
    // `since` from the first event returns what the subscription saw after it.
    let after_w = &seen[seen
        .iter()
        .position(|e| e.revoked == session(&w))
        .unwrap_or(0)
        + 1..];
    match ok(store.since(ours[0].cursor).await, "since") {
        CatchUp::Events { events, head } => {
            assert!(
                events.len() >= after_w.len() && events[..after_w.len()] == *after_w,
                "since returns the events the subscription delivered, in order"
            );
            assert!(
                head >= ours[3].cursor,
                "since's head is at least its last event"
            );
        }
        CatchUp::TooOld { .. } => panic!("since from a recent cursor said TooOld"),
    }
}

/// Racing revokes of the same sessions: one winner each, and exactly one
/// event each, in cursor order, none missed.
pub async fn feed_publishes_one_event_per_winning_revoke<S>(store: &Arc<S>)
where
    S: RefreshStore + RevocationFeed + ?Sized,
{
    let subject = unique_subject("feed-race");
    let mut records = Vec::new();
    for _ in 0..12 {
        let record = sample_record(&subject);
        ok(store.create(&record).await, "create");
        records.push(record);
    }
    let marker = created::<_, 1>(&**store, &subject).await;
    let mut subscription = ok(store.subscribe().await, "subscribe");
    let wins = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for record in &records {
        for _ in 0..3 {
            let (store, wins, id) = (Arc::clone(store), Arc::clone(&wins), record.id);
            tasks.push(tokio::spawn(async move {
                if ok(store.revoke(&id, &revocation(now())).await, "revoke") {
                    wins.fetch_add(1, Ordering::SeqCst);
                }
            }));
        }
    }
    join_all(tasks).await;
    assert_eq!(wins.load(Ordering::SeqCst), 12, "one winner per session");
    ok(
        store.revoke(&marker[0].id, &revocation(now())).await,
        "revoke",
    );
    let seen = until(&mut subscription, |e| e.revoked == session(&marker[0])).await;
    for record in &records {
        let count = seen.iter().filter(|e| e.revoked == session(record)).count();
        assert_eq!(count, 1, "one event per revoked session, got {count}");
    }
}

/// A subscriber that goes away misses nothing: `since` from the last
/// cursor it had returns what was revoked meanwhile, in order, and a new
/// subscription delivers what comes after.
pub async fn feed_catches_up_after_a_disconnect<S>(store: &S)
where
    S: RefreshStore + RevocationFeed + ?Sized,
{
    let subject = unique_subject("feed-away");
    let [a, b, c, d] = created(store, &subject).await;
    let why = revocation(now());
    let mut first = ok(store.subscribe().await, "subscribe");
    ok(store.revoke(&a.id, &why).await, "revoke");
    let seen = until(&mut first, |e| e.revoked == session(&a)).await;
    let cursor = seen.last().map_or(Cursor::START, |e| e.cursor);
    drop(first);
    for record in [&b, &c] {
        assert!(ok(store.revoke(&record.id, &why).await, "revoke"));
    }
    let mut second = ok(store.subscribe().await, "subscribe");
    let CatchUp::Events { events, head } = ok(store.since(cursor).await, "since") else {
        panic!("since from a recent cursor said TooOld");
    };
    let ids = [a.id, b.id, c.id, d.id];
    let missed: Vec<&Revoked> = events
        .iter()
        .filter(|e| concerns(e, &ids, &subject))
        .map(|e| &e.revoked)
        .collect();
    assert_eq!(
        missed,
        [&session(&b), &session(&c)],
        "since from the cursor it had returns what was missed"
    );
    ok(store.revoke(&d.id, &why).await, "revoke");
    let seen = until(&mut second, |e| e.revoked == session(&d)).await;
    let after: Vec<&Revoked> = seen
        .iter()
        .filter(|e| e.cursor > head && concerns(e, &ids, &subject))
        .map(|e| &e.revoked)
        .collect();
    assert_eq!(
        after,
        [&session(&d)],
        "the new subscription delivers what follows"
    );
}

/// Once the store dropped old entries, `since` from before them says
/// `TooOld` (never a partial answer) with a head past them, and a
/// `missed_until` at or after the instant of every entry dropped (the
/// latest, not the last: the second revocation is the earlier instant).
pub async fn feed_says_too_old_once_trimmed<S>(store: &S, trim: impl AsyncFnOnce(&S))
where
    S: RefreshStore + RevocationFeed + ?Sized,
{
    let subject = unique_subject("feed-trim");
    let [w, x] = created(store, &subject).await;
    let latest = revocation(now() - Duration::days(2));
    let earlier = revocation(now() - Duration::days(2) - Duration::hours(1));
    let mut subscription = ok(store.subscribe().await, "subscribe");
    ok(store.revoke(&w.id, &latest).await, "revoke");
    ok(store.revoke(&x.id, &earlier).await, "revoke");
    let seen = until(&mut subscription, |e| e.revoked == session(&x)).await;
    let cursor_of = |r: &SessionRecord| {
        seen.iter()
            .find(|e| e.revoked == session(r))
            .map(|e| e.cursor)
    };
    let (Some(w_at), Some(x_at)) = (cursor_of(&w), cursor_of(&x)) else {
        panic!("both revocations were published");
    };
    trim(store).await;
    let before_w = Cursor::new(w_at.get() - 1);
    match ok(store.since(before_w).await, "since") {
        CatchUp::TooOld { head, missed_until } => {
            assert!(head >= x_at, "TooOld's head is past the trimmed events");
            let Some(missed_until) = missed_until else {
                panic!("TooOld after a trim must bound what was missed");
            };
            assert!(
                missed_until >= latest.at,
                "TooOld's missed_until {missed_until} is before a trimmed event's instant {}",
                latest.at
            );
            let CatchUp::Events { .. } = ok(store.since(head).await, "since") else {
                panic!("since from the head said TooOld");
            };
        }
        CatchUp::Events { .. } => panic!("since from a trimmed cursor must say TooOld"),
    }
}

/// A token being verified while its session is revoked: once `revoke`
/// returned and the verifier's follower applied the event, the verifier
/// refuses the token, in every request from then on.
pub async fn feed_refuses_a_token_in_flight_once_the_follower_saw_it<S>(store: &Arc<S>)
where
    S: RefreshStore + RevocationFeed + ?Sized,
{
    let following = Arc::new(Following::start(store).await);
    let pair = following.login().await;
    let mut subscription = ok(store.subscribe().await, "subscribe");
    let seen = Arc::new(AtomicBool::new(false));
    // Requests refused that started after the follower applied the event.
    let refused = Arc::new(AtomicU64::new(0));
    let mut in_flight = Vec::new();
    for _ in 0..4 {
        let (following, token) = (Arc::clone(&following), pair.access_token.clone());
        let (seen, refused) = (Arc::clone(&seen), Arc::clone(&refused));
        in_flight.push(tokio::spawn(async move {
            while refused.load(Ordering::SeqCst) < 8 {
                let after = seen.load(Ordering::SeqCst);
                match following.verifier.verify(&token).await {
                    Ok(_) => assert!(!after, "accepted after the follower saw the revocation"),
                    Err(Error::SessionRevoked) if after => {
                        refused.fetch_add(1, Ordering::SeqCst);
                    }
                    Err(Error::SessionRevoked) => {}
                    Err(e) => panic!("the verifier failed: {e:?}"),
                }
                tokio::task::yield_now().await;
            }
        }));
    }
    let revoked = ok(
        store.revoke(&pair.session_id, &revocation(now())).await,
        "revoke",
    );
    assert!(revoked);
    let event = until(&mut subscription, |e| {
        e.revoked == Revoked::Session(pair.session_id)
    })
    .await;
    let cursor = event.last().map_or(Cursor::START, |e| e.cursor);
    let applied = || {
        following
            .verifier
            .revocations()
            .is_some_and(|s| s.cursor >= cursor)
    };
    eventually("the follower applying the revocation", applied).await;
    seen.store(true, Ordering::SeqCst);
    let found = following.verifier.verify(&pair.access_token).await;
    assert!(matches!(found, Err(Error::SessionRevoked)), "{found:?}");
    // Every request in flight goes on until it is refused too.
    join_all(in_flight).await;
}

/// `N` live sessions of `subject`, created.
async fn created<S: RefreshStore + ?Sized, const N: usize>(
    store: &S,
    subject: &str,
) -> [SessionRecord; N] {
    let records: [SessionRecord; N] = std::array::from_fn(|_| sample_record(subject));
    for record in &records {
        ok(store.create(record).await, "create");
    }
    records
}

/// The events `subscription` delivers until one passes `last` (included),
/// checking that cursors increase; panics on `Lagged`, a failure, or after
/// 30 seconds.
async fn until(
    subscription: &mut Box<dyn RevocationSubscription>,
    last: impl Fn(&RevocationEvent) -> bool,
) -> Vec<RevocationEvent> {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut seen: Vec<RevocationEvent> = Vec::new();
    loop {
        let next = tokio::time::timeout_at(deadline, subscription.next()).await;
        let message = ok(
            next.expect("the event within 30 s"),
            "the subscription's next",
        );
        let before = seen.last().map(|e| e.cursor);
        match message {
            FeedMessage::Event(event) => {
                assert!(
                    before < Some(event.cursor),
                    "cursors increase: {before:?}, {event:?}"
                );
                let done = last(&event);
                seen.push(event);
                if done {
                    return seen;
                }
            }
            FeedMessage::Current(head) => {
                assert!(before <= Some(head), "Current({head:?}) after {before:?}");
            }
            FeedMessage::Lagged => panic!("the subscription lagged in a check this small"),
        }
    }
}

fn concerns(event: &RevocationEvent, ids: &[SessionId], subject: &str) -> bool {
    match &event.revoked {
        Revoked::Session(id) => ids.contains(id),
        Revoked::Subject { subject: s, .. } => s == subject,
    }
}

fn session(record: &SessionRecord) -> Revoked {
    Revoked::Session(record.id)
}

fn revocation(at: OffsetDateTime) -> Revocation {
    Revocation {
        reason: RevocationReason::Logout,
        at,
    }
}

/// Now, in whole seconds.
fn now() -> OffsetDateTime {
    super::at(OffsetDateTime::now_utc().unix_timestamp())
}
