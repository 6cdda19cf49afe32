//! The actix-web server in a real browser: see
//! `examples/shared/browser_scenario.rs`.

use actix_demo as server;

#[path = "../../shared/browser_driver.rs"]
mod driver;
#[path = "../../shared/browser_scenario.rs"]
mod scenario;
#[path = "../../shared/http_suite.rs"]
mod suite;
mod support;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium and chromedriver"]
async fn in_a_real_browser() {
    scenario::run("actix", support::spawn).await;
}
