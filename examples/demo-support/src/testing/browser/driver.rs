//! A real Chromium, driven over WebDriver (chromedriver + fantoccini), for
//! the browser tests of both servers.
//!
//! Debian's `chromium` and `chromium-driver` must be installed. The browser
//! tests are `#[ignore = "needs chromium and chromedriver"]`d, so a plain
//! `cargo test` lists them as ignored; run with `-- --include-ignored` (as
//! CI does), a browser test fails, saying what to install, where they are
//! missing.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use fantoccini::wd::{TimeoutConfiguration, WindowHandle};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

/// How long any one page condition may take before the test fails.
const CONDITION_TIMEOUT_MS: u64 = 20_000;

/// A headless Chromium with its own chromedriver and a fresh profile.
pub struct Browser {
    pub client: Client,
    driver: DriverGuard,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver on a free port (its log in the artifacts
    /// directory, as `<name>-chromedriver.log`) and a Chromium session.
    ///
    /// # Panics
    /// When `chromium` (or `chromium-browser`) or `chromedriver` is not on
    /// the `PATH`, saying what to install; or when they fail to start.
    pub async fn start(name: &str) -> Self {
        let (Some(chromium), Some(driver)) = (
            find_program(&["chromium", "chromium-browser"]),
            find_program(&["chromedriver"]),
        ) else {
            panic!(
                "chromium and chromedriver are not installed: this test needs them. \
                 Install them (apt-get install -y chromium chromium-driver), or \
                 run without --include-ignored to leave the browser tests out"
            );
        };
        let port = free_port();
        let log = std::fs::File::create(artifacts_dir().join(format!("{name}-chromedriver.log")))
            .expect("chromedriver log file");
        let driver = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(log.try_clone().expect("log file handle"))
            .stderr(log)
            .spawn()
            .expect("chromedriver starts");
        let profile = tempfile::tempdir().expect("a profile directory");
        let driver = DriverGuard(Some(driver));
        let url = format!("http://127.0.0.1:{port}");
        wait_for_driver(port);

        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".to_owned(),
            json!({
                "binary": chromium,
                "args": [
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-quic",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--disable-dev-shm-usage",
                    "--window-size=1100,1150",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            }),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(capabilities)
            .connect(&url)
            .await
            .expect("a Chromium session");
        let timeouts = TimeoutConfiguration::new(
            Some(Duration::from_millis(CONDITION_TIMEOUT_MS + 10_000)),
            Some(Duration::from_secs(30)),
            Some(Duration::ZERO),
        );
        client.update_timeouts(timeouts).await.unwrap();
        Self {
            client,
            driver,
            _profile: profile,
        }
    }

    /// Ends the session (which ends Chromium), then chromedriver.
    pub async fn close(self) {
        self.client.clone().close().await.ok();
        drop(self.driver);
    }

    /// The current window.
    pub async fn window(&self) -> WindowHandle {
        self.client.window().await.unwrap()
    }

    /// Opens a new window at `url`, makes it current and returns it.
    pub async fn open_window(&self, url: &str) -> WindowHandle {
        let handle = self.client.new_window(false).await.unwrap().handle;
        self.client.switch_to_window(handle.clone()).await.unwrap();
        self.client.goto(url).await.unwrap();
        handle
    }

    pub async fn switch(&self, window: &WindowHandle) {
        self.client.switch_to_window(window.clone()).await.unwrap();
    }

    /// Runs `script` (a function body; `arguments` holds `args`) in the
    /// current window and returns what it returns.
    pub async fn js(&self, script: &str, args: Vec<Value>) -> Value {
        self.client.execute(script, args).await.unwrap()
    }

    /// Runs `script`, an expression that may be a promise, and returns its
    /// value once settled.
    pub async fn js_await(&self, expression: &str) -> Value {
        let script = format!(
            "const done = arguments[arguments.length - 1];
             Promise.resolve({expression}).then(done, (e) => done('error: ' + e));"
        );
        self.client.execute_async(&script, vec![]).await.unwrap()
    }

    /// Waits, inside the page, until `condition` (a JS expression) holds.
    /// Polls with `setInterval`, which the tests never replace.
    #[track_caller]
    pub fn until<'a>(
        &'a self,
        what: &'a str,
        condition: &'a str,
    ) -> impl std::future::Future<Output = ()> + 'a {
        let caller = std::panic::Location::caller();
        async move {
            let script = format!(
                "const done = arguments[arguments.length - 1];
                 const deadline = Date.now() + {CONDITION_TIMEOUT_MS};
                 const check = () => {{ try {{ return !!({condition}); }} catch (e) {{ return false; }} }};
                 if (check()) {{ done(true); }} else {{
                   const timer = setInterval(() => {{
                     if (check()) {{ clearInterval(timer); done(true); }}
                     else if (Date.now() > deadline) {{ clearInterval(timer); done(false); }}
                   }}, 25);
                 }}"
            );
            let met = self.client.execute_async(&script, vec![]).await.unwrap();
            if met != Value::Bool(true) {
                let state = self.js("return document.body.innerText", vec![]).await;
                panic!("{caller}: timed out waiting for {what} ({condition}); page:\n{state}");
            }
        }
    }

    pub async fn click(&self, id: &str) {
        self.client
            .find(Locator::Id(id))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
    }

    pub async fn type_into(&self, id: &str, text: &str) {
        let field = self.client.find(Locator::Id(id)).await.unwrap();
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }

    pub async fn text(&self, id: &str) -> String {
        self.client
            .find(Locator::Id(id))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// The page's renewal counter.
    pub async fn renewals(&self) -> u64 {
        self.js(
            "return Number(document.getElementById('refresh-count').textContent)",
            vec![],
        )
        .await
        .as_u64()
        .unwrap()
    }

    /// Saves a PNG of the window as `name` in the artifacts directory.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.unwrap();
        let path = artifacts_dir().join(name);
        std::fs::write(&path, png).unwrap();
        path
    }
}

/// Kills chromedriver when dropped.
struct DriverGuard(Option<Child>);

impl Drop for DriverGuard {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            child.kill().ok();
            child.wait().ok();
        }
    }
}

/// `target/browser-artifacts`, created if needed.
pub fn artifacts_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let dir = target.join("browser-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn find_program(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    names.iter().find_map(|name| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
    })
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Waits until chromedriver accepts connections (it starts in well under a
/// second; ten is the limit).
fn wait_for_driver(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
}
