//! The axum server over HTTP: see `examples/shared/http_scenarios.rs`.

use axum_demo as server;

#[macro_use]
#[path = "../../shared/http_suite.rs"]
mod suite;
#[macro_use]
#[path = "../../shared/http_scenarios.rs"]
mod scenarios;
mod support;

use support::spawn;

all_http_tests!();
