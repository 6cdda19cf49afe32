//! The tests both demo servers must pass (feature `testing`): HTTP
//! scenarios driven by a cookie-keeping client ([`suite`],
//! [`scenarios`]) and a real-browser scenario ([`browser`]), each against
//! a server the test starts in-process on a free port through its own
//! `spawn` (a [`suite::Spawn`]). The macros [`all_http_tests!`](crate::all_http_tests)
//! expand to one `#[tokio::test]` per scenario.

pub mod browser;
mod macros;
pub mod outage;
pub mod scenarios;
pub mod suite;
