//! The axum server over HTTP: the scenarios of
//! `demo_support::testing::scenarios`, one test each.

mod support;

use support::spawn;

demo_support::all_http_tests!(spawn);
