//! The actix-web server in a real browser: see
//! `demo_support::testing::browser`.

mod support;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium and chromedriver"]
async fn in_a_real_browser() {
    demo_support::testing::browser::run("actix", support::spawn).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium and chromedriver"]
async fn in_a_real_browser_with_dpop() {
    demo_support::testing::browser::run_dpop("actix-dpop", support::spawn).await;
}
