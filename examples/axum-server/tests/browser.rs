//! The axum server in a real browser: see
//! `demo_support::testing::browser`.

mod support;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium and chromedriver"]
async fn in_a_real_browser() {
    demo_support::testing::browser::run("axum", support::spawn).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium and chromedriver"]
async fn in_a_real_browser_with_dpop() {
    demo_support::testing::browser::run_dpop("axum-dpop", support::spawn).await;
}
