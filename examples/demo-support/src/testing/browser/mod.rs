//! What the browser test shows, on either server: login; the refresh token
//! out of the page's reach; renewals across several access-token expiries
//! (on a timer and on a 401); single-flight refresh in a page and across
//! windows; the sessions page (saved as a screenshot); logout.
//!
//! Real time is unavoidable in a browser: the access tokens live 3 s, and
//! the test waits for page conditions (polled inside the page), never for a
//! fixed time.

mod dpop;
mod driver;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use fantoccini::Locator;
use fantoccini::wd::WindowHandle;
use jwt_rotate::CookieSecurity;
use serde_json::{Value, json};
use time::Duration;

use crate::Config;
use crate::testing::suite::{ALICE, Agent, TestServer, record};
pub use dpop::run_dpop;
pub use driver::Browser;

/// A browser scenario: the browser, the server, and the test's name.
type Scenario =
    fn(Arc<Browser>, Arc<TestServer>, &'static str) -> Pin<Box<dyn Future<Output = ()> + Send>>;

const ACCESS_TTL_SECS: i64 = 3;
const LOGGED_IN: &str = "document.body.dataset.state === 'logged-in' \
                         && document.getElementById('who').textContent === 'alice'";
const LOGGED_OUT: &str = "document.body.dataset.state === 'logged-out'";

/// Short lifetimes so that several expiries pass in seconds: access 3 s,
/// grace 2 s (it must stay below), no leeway; `Secure` cookies, which
/// Chromium keeps for `http://127.0.0.1`.
pub fn config() -> Config {
    Config {
        access_ttl: Duration::seconds(ACCESS_TTL_SECS),
        reuse_grace: Duration::seconds(2),
        leeway: Duration::ZERO,
        cookie_security: CookieSecurity::Secure,
        ..Config::default()
    }
}

/// Runs the scenario against a server from `spawn`; the screenshot is
/// saved as `<name>-sessions.png`. Closes the browser even if it fails.
pub async fn run<F, Fut>(name: &'static str, spawn: F)
where
    F: FnOnce(Config) -> Fut,
    Fut: Future<Output = TestServer>,
{
    run_scenario(name, spawn, |b, server, name| {
        Box::pin(scenario(b, server, name))
    })
    .await;
}

/// Runs `scenario` against a server from `spawn` in a fresh browser, and
/// closes both even if it fails.
async fn run_scenario<F, Fut>(name: &'static str, spawn: F, scenario: Scenario)
where
    F: FnOnce(Config) -> Fut,
    Fut: Future<Output = TestServer>,
{
    let browser = Arc::new(Browser::start(name).await);
    let server = Arc::new(spawn(config()).await);
    let outcome = tokio::spawn(scenario(Arc::clone(&browser), Arc::clone(&server), name)).await;
    if let Ok(browser) = Arc::try_unwrap(browser) {
        browser.close().await;
    }
    if let Ok(server) = Arc::try_unwrap(server) {
        server.stop().await;
    }
    if let Err(err) = outcome {
        std::panic::resume_unwind(err.into_panic());
    }
}

async fn scenario(b: Arc<Browser>, server: Arc<TestServer>, name: &'static str) {
    let b = &*b;
    let base = format!("http://{}/", server.addr);
    b.client.goto(&base).await.unwrap();
    let first = b.window().await;
    b.until("the login form", LOGGED_OUT).await;

    // Login works.
    b.type_into("username", "alice").await;
    b.type_into("password", "wrong password").await;
    b.click("login-button").await;
    b.until(
        "the error",
        "document.getElementById('login-error').textContent !== ''",
    )
    .await;
    b.type_into("password", ALICE.1).await;
    b.click("login-button").await;
    b.until("login", LOGGED_IN).await;
    let me = me(b).await;
    let sid = me["sid"].as_str().unwrap().to_owned();

    // Scripts cannot read the refresh token.
    let cookies = b.js("return document.cookie", vec![]).await;
    assert!(
        !cookies.as_str().unwrap().contains("refresh_token"),
        "{cookies}"
    );

    // The page keeps working across several expiries, renewing on a timer.
    let started = b.js("return Date.now()", vec![]).await;
    let ttl_ms = ACCESS_TTL_SECS * 1000;
    b.until(
        "four renewals over two token lifetimes",
        &format!(
            "{} >= 4 && Date.now() - {started} > {}",
            renewals_js(),
            2 * ttl_ms + 500
        ),
    )
    .await;
    let later = call_me(b).await;
    assert_eq!(later["sub"], "alice");
    assert!(
        later["exp"].as_i64() > me["exp"].as_i64(),
        "a newer token: {later}"
    );
    let (generation, revoked) = record(&server, &sid).await;
    assert!(generation >= 4 && !revoked, "generation {generation}");

    // With its timer stopped, the page renews when the API answers 401.
    stop_timers(b).await;
    b.until(
        "the access token to expire",
        "Date.now() > Number(document.getElementById('expires-in').dataset.expiresAt) + 1500",
    )
    .await;
    let before = b.renewals().await;
    call_me(b).await;
    assert_eq!(b.renewals().await, before + 1, "one renewal, on the 401");

    // Single flight in the page: three clicks, one refresh, one lock.
    let (generation, _) = record(&server, &sid).await;
    let before = b.renewals().await;
    let locks = b
        .js_await(
            "(() => { const renew = document.getElementById('renew-button');
                      renew.click(); renew.click(); renew.click();
                      return navigator.locks.query().then(s => s.held.length + s.pending.length); })()",
        )
        .await;
    assert_eq!(locks, json!(1), "one lock request for three clicks");
    b.until(
        "the renewal",
        &format!("{} === {}", renewals_js(), before + 1),
    )
    .await;
    let idle = "navigator.locks.query().then(s => s.held.length + s.pending.length)";
    assert_eq!(b.js_await(idle).await, json!(0));
    assert_eq!(b.renewals().await, before + 1);
    assert_eq!(record(&server, &sid).await, (generation + 1, false));

    // A second window shares the session through the cookie.
    let second = b.open_window(&base).await;
    b.until("the second window to log in from the cookie", LOGGED_IN)
        .await;
    stop_timers(b).await;
    let windows = [first.clone(), second.clone()];
    // Two windows renew at the same moment: the Web Lock serializes them,
    // each rotates in turn, and both stay logged in.
    let moved = renew_together(b, &server, &sid, &windows).await;
    assert_eq!(moved, 2, "serialized by the Web Lock");
    // Without Web Locks they race with the same cookie; the grace window
    // gives both the same successor, so both still stay logged in.
    for window in &windows {
        b.switch(window).await;
        b.js(
            "Object.defineProperty(navigator, 'locks', { value: undefined, configurable: true })",
            vec![],
        )
        .await;
    }
    let moved = renew_together(b, &server, &sid, &windows).await;
    assert!(moved == 1 || moved == 2, "moved {moved}");
    eprintln!("{name}: unlocked simultaneous renewals moved the session {moved} generation(s)");

    // The sessions page, with a second device to revoke.
    b.switch(&first).await;
    let mut phone = Agent::new(&server);
    assert_eq!(phone.login(ALICE).await.status, 200);
    b.click("sessions-button").await;
    b.until("two sessions", &rows_js(2)).await;
    let shot = b.screenshot(&format!("{name}-sessions.png")).await;
    eprintln!("{name}: sessions page saved to {}", shot.display());
    let revoke = b.client.find(Locator::Css("button.revoke")).await.unwrap();
    revoke.click().await.unwrap();
    b.until("one session", &rows_js(1)).await;
    phone.refresh().await.assert_error(401, "session_revoked");

    // Where the cookie is sent (/auth), the browser holds it as HttpOnly,
    // Secure and SameSite=Strict, and scripts there cannot see it either.
    let auth_window = b.open_window(&format!("{base}auth/refresh")).await;
    assert_eq!(b.js("return document.cookie", vec![]).await, json!(""));
    let cookies = b.client.get_all_cookies().await.unwrap();
    let cookie = cookies
        .iter()
        .find(|c| c.name() == "refresh_token")
        .expect("the refresh cookie, for /auth");
    assert_eq!(cookie.http_only(), Some(true));
    assert_eq!(cookie.secure(), Some(true));
    assert_eq!(format!("{:?}", cookie.same_site()), "Some(Strict)");
    assert_eq!(cookie.path(), Some("/auth"));
    close_window(b, auth_window).await;

    // Logout: this window is out, and so is the other one on its next
    // call, though its access token has not expired.
    b.switch(&first).await;
    b.click("logout-button").await;
    b.until("logout", LOGGED_OUT).await;
    assert!(record(&server, &sid).await.1, "the session is revoked");
    b.switch(&second).await;
    b.click("me-button").await;
    b.until("the second window to notice", LOGGED_OUT).await;
    b.switch(&first).await;
    let refresh = "fetch('/auth/refresh', { method: 'POST' }).then(r => r.status)";
    assert_eq!(b.js_await(refresh).await, json!(401));
    assert_eq!(
        b.js_await("fetch('/me').then(r => r.status)").await,
        json!(401)
    );
    b.client.refresh().await.unwrap();
    b.until("a reload to stay logged out", LOGGED_OUT).await;
}

/// The `/me` answer the page shows.
async fn me(b: &Browser) -> Value {
    serde_json::from_str(&b.text("me-output").await).unwrap()
}

/// Clicks `GET /me` and returns the new answer once the page shows it.
async fn call_me(b: &Browser) -> Value {
    b.js(
        "document.getElementById('me-output').textContent = ''",
        vec![],
    )
    .await;
    b.click("me-button").await;
    b.until(
        "the /me answer",
        "document.getElementById('me-output').textContent !== ''",
    )
    .await;
    b.until("still logged in", LOGGED_IN).await;
    me(b).await
}

/// Replaces the page's `setTimeout`, so that it schedules no renewal, and
/// renews once to drop the renewal already scheduled.
async fn stop_timers(b: &Browser) {
    b.js(
        "window.realSetTimeout = window.setTimeout; window.setTimeout = () => 0;",
        vec![],
    )
    .await;
    let before = b.renewals().await;
    b.click("renew-button").await;
    // The timer scheduled before may have fired too: at least one renewal.
    b.until("the renewal", &format!("{} > {before}", renewals_js()))
        .await;
}

/// Clicks "Renew now" in every window at one instant; returns how many
/// generations the session moved. Every window must stay logged in.
async fn renew_together(
    b: &Browser,
    server: &TestServer,
    sid: &str,
    windows: &[WindowHandle],
) -> u64 {
    let (generation, _) = record(server, sid).await;
    let at = b.js("return Date.now() + 800", vec![]).await;
    let mut before = Vec::new();
    for window in windows {
        b.switch(window).await;
        before.push(b.renewals().await);
        b.js(
            "const at = arguments[0];
             window.realSetTimeout(() => document.getElementById('renew-button').click(), at - Date.now());",
            vec![at.clone()],
        )
        .await;
    }
    for (window, before) in windows.iter().zip(before) {
        b.switch(window).await;
        b.until(
            "the renewal",
            &format!("{} === {}", renewals_js(), before + 1),
        )
        .await;
        assert_eq!(call_me(b).await["sid"], sid);
    }
    let (now, revoked) = record(server, sid).await;
    assert!(!revoked, "no reuse detected");
    now - generation
}

async fn close_window(b: &Browser, window: WindowHandle) {
    b.switch(&window).await;
    b.client.close_window().await.unwrap();
}

fn renewals_js() -> &'static str {
    "Number(document.getElementById('refresh-count').textContent)"
}

fn rows_js(count: usize) -> String {
    format!("document.querySelectorAll('#sessions tr').length === {count}")
}
