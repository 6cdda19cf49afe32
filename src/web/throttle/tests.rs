use crate::clock::ManualClock;

use super::*;

fn ip(s: &str) -> Option<IpAddr> {
    Some(s.parse().unwrap())
}

fn limits(user: u32, address: u32) -> ThrottleLimits {
    ThrottleLimits {
        per_user: Rate {
            burst: user,
            every: Duration::minutes(1),
        },
        per_address: Rate {
            burst: address,
            every: Duration::seconds(10),
        },
        max_tracked: 100,
    }
}

fn throttle(limits: ThrottleLimits) -> (LoginThrottle, ManualClock) {
    let clock = ManualClock::starting_now();
    (
        LoginThrottle::new(limits, Arc::new(clock.clone())).unwrap(),
        clock,
    )
}

/// Takes `n` tokens and keeps the charges.
fn guess(throttle: &LoginThrottle, user: &str, client: Option<IpAddr>, n: usize) {
    for _ in 0..n {
        drop(throttle.try_take(user, client).expect("a token"));
    }
}

#[test]
fn a_burst_then_one_per_interval() {
    let (throttle, clock) = throttle(limits(3, 100));
    let me = ip("192.0.2.1");
    guess(&throttle, "alice", me, 3);
    let refused = throttle.try_take("alice", me).err().unwrap();
    assert_eq!(refused.retry_after, Duration::minutes(1));
    clock.advance(Duration::seconds(59));
    let refused = throttle.try_take("alice", me).err().unwrap();
    assert_eq!(refused.retry_after, Duration::seconds(1));
    clock.advance(Duration::seconds(1));
    guess(&throttle, "alice", me, 1);
    assert!(throttle.try_take("alice", me).is_err());
    // Long idle: full again, never more than the burst.
    clock.advance(Duration::hours(5));
    guess(&throttle, "alice", me, 3);
    assert!(throttle.try_take("alice", me).is_err());
}

#[test]
fn partial_intervals_keep_counting() {
    let (throttle, clock) = throttle(limits(2, 100));
    let me = ip("192.0.2.1");
    guess(&throttle, "alice", me, 2);
    clock.advance(Duration::seconds(90));
    guess(&throttle, "alice", me, 1);
    let refused = throttle.try_take("alice", me).err().unwrap();
    assert_eq!(refused.retry_after, Duration::seconds(30));
}

#[test]
fn a_refund_gives_the_token_back() {
    let (throttle, _) = throttle(limits(2, 100));
    let me = ip("192.0.2.1");
    for _ in 0..10 {
        throttle.try_take("alice", me).unwrap().refund();
    }
    guess(&throttle, "alice", me, 2);
    assert!(throttle.try_take("alice", me).is_err());
}

#[test]
fn users_and_addresses_are_counted_apart() {
    let (throttle, _) = throttle(limits(2, 3));
    let (a, b) = (ip("192.0.2.1"), ip("192.0.2.2"));
    guess(&throttle, "bob", a, 2);
    assert!(throttle.try_take("bob", b).is_err(), "bob, from anywhere");
    assert!(
        throttle.try_take("alice", b).is_ok(),
        "another user elsewhere"
    );
    guess(&throttle, "carol", a, 1);
    assert!(throttle.try_take("dave", a).is_err(), "address a is spent");
    // A refusal takes nothing from the other bucket.
    guess(&throttle, "erin", b, 1);
    guess(&throttle, "frank", b, 1);
    assert!(throttle.try_take("frank", ip("192.0.2.3")).is_ok());
}

#[test]
fn an_ipv6_client_is_counted_per_64() {
    let (throttle, _) = throttle(limits(100, 2));
    guess(&throttle, "u1", ip("2001:db8:1:2::1"), 1);
    guess(&throttle, "u2", ip("2001:db8:1:2:ffff::9"), 1);
    assert!(throttle.try_take("u3", ip("2001:db8:1:2::77")).is_err());
    assert!(throttle.try_take("u3", ip("2001:db8:1:3::1")).is_ok());
    // An IPv4 client seen through an IPv6 socket is the same client.
    guess(&throttle, "u4", ip("192.0.2.9"), 2);
    assert!(throttle.try_take("u5", ip("::ffff:192.0.2.9")).is_err());
    // Unknown addresses share one bucket.
    guess(&throttle, "u6", None, 2);
    assert!(throttle.try_take("u7", None).is_err());
}

#[test]
fn past_the_table_size_new_keys_share_one_bucket() {
    let mut limits = limits(2, 1000);
    limits.max_tracked = 3;
    let (throttle, clock) = throttle(limits);
    let me = ip("192.0.2.1");
    for user in ["a", "b", "c"] {
        guess(&throttle, user, me, 1);
    }
    // The table is full of partly spent buckets: newcomers share one.
    guess(&throttle, "d", me, 1);
    guess(&throttle, "e", me, 1);
    assert!(throttle.try_take("f", me).is_err());
    assert!(
        throttle.try_take("a", me).is_ok(),
        "tracked keys keep theirs"
    );
    // Once tracked buckets have refilled they are dropped, making room.
    clock.advance(Duration::minutes(2));
    guess(&throttle, "f", me, 2);
    assert!(throttle.try_take("f", me).is_err());
}

#[test]
fn a_clock_stepped_back_grants_nothing() {
    let (throttle, clock) = throttle(limits(1, 100));
    let me = ip("192.0.2.1");
    guess(&throttle, "alice", me, 1);
    clock.advance(Duration::hours(-3));
    assert!(throttle.try_take("alice", me).is_err());
    // The next token comes one interval after the step, not three hours
    // and one minute later.
    clock.advance(Duration::minutes(1));
    guess(&throttle, "alice", me, 1);
}

#[test]
fn extreme_intervals_and_instants_do_not_panic() {
    let limits = ThrottleLimits {
        per_user: Rate {
            burst: u32::MAX,
            every: Duration::MAX,
        },
        per_address: Rate {
            burst: 1,
            every: Duration::nanoseconds(1),
        },
        max_tracked: 1,
    };
    assert!(limits.is_valid());
    let clock = ManualClock::new(time::PrimitiveDateTime::MAX.assume_utc());
    let at_the_end = LoginThrottle::new(limits, Arc::new(clock.clone())).unwrap();
    for _ in 0..3 {
        drop(at_the_end.try_take("alice", ip("192.0.2.1")));
        drop(at_the_end.try_take("bob", ip("192.0.2.2")));
    }
    clock.set(time::PrimitiveDateTime::MIN.assume_utc());
    for _ in 0..3 {
        drop(at_the_end.try_take("carol", None));
    }
    let once = ThrottleLimits {
        per_user: Rate {
            burst: 1,
            every: Duration::MAX,
        },
        ..limits
    };
    let (never_again, _) = throttle(once);
    guess(&never_again, "alice", None, 1);
    assert!(never_again.try_take("alice", None).is_err());
}

#[test]
fn unusable_limits_are_refused() {
    let mut bad = ThrottleLimits::default();
    bad.per_user.burst = 0;
    assert!(!bad.is_valid());
    let mut bad = ThrottleLimits::default();
    bad.per_address.every = Duration::ZERO;
    assert!(!bad.is_valid());
    let bad = ThrottleLimits {
        max_tracked: 0,
        ..ThrottleLimits::default()
    };
    assert!(!bad.is_valid());
    assert!(ThrottleLimits::default().is_valid());
}

#[test]
fn address_only_guesses_leave_the_user_buckets_alone() {
    let (throttle, clock) = throttle(limits(1, 3));
    let (a, b) = (ip("192.0.2.1"), ip("192.0.2.2"));
    // A refunded guess costs nothing.
    throttle.try_take_address(a).unwrap().refund();
    for _ in 0..3 {
        drop(throttle.try_take_address(a).expect("a token"));
    }
    let refused = throttle.try_take_address(a).unwrap_err();
    assert_eq!(refused.retry_after, Duration::seconds(10));
    // The same address's logins share the bucket; other addresses do not.
    assert!(throttle.try_take("alice", a).is_err());
    assert!(throttle.try_take_address(b).is_ok());
    // No user bucket was charged: alice's single guess is still there.
    drop(
        throttle
            .try_take("alice", b)
            .expect("alice's bucket is full"),
    );
    clock.advance(Duration::seconds(10));
    assert!(throttle.try_take_address(a).is_ok());
}
