//! The system under test as a user meets it: a real `shezu serve --demo` process on a free
//! loopback port over the test's own database, and Debian's headless Chromium driven through
//! ChromeDriver.

use super::webdriver::{Browser, Driver};
use crate::common::TestDb;
use serde_json::{Value, json};
use shezu::db::Backend;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

/// The demo accounts' password (`shezu::demo::DEMO_PASSWORD`).
pub const PASSWORD: &str = shezu::demo::DEMO_PASSWORD;

/// Where the suite saves its screenshots (named in the README).
pub fn screenshot_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/screenshots")
}

/// `program` found on `PATH` (or as given, when it is a path).
fn which(program: &str) -> Option<PathBuf> {
    let direct = Path::new(program);
    if direct.is_absolute() {
        return direct.is_file().then(|| direct.to_path_buf());
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|p| p.is_file())
    })
}

/// Chromium and ChromeDriver, or `None` (with a note) when they are not installed outside CI;
/// under `CI=true` a missing browser fails the test.
fn browser_programs() -> Option<(PathBuf, PathBuf)> {
    let chromium = std::env::var("SHEZU_CHROMIUM").unwrap_or_else(|_| "chromium".to_owned());
    let driver = std::env::var("SHEZU_CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".to_owned());
    match (which(&chromium), which(&driver)) {
        (Some(c), Some(d)) => Some((c, d)),
        _ => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!(
                    "Chromium and ChromeDriver are required under CI=true (apt-get install chromium chromium-driver)"
                );
            }
            eprintln!("SKIPPED in the browser (install chromium and chromium-driver)");
            None
        }
    }
}

/// A running server with the demo district and a ChromeDriver to open browsers on it.
pub struct Site {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    chromium: PathBuf,
    /// Screenshots are taken on one backend only (the pages are the same on both).
    shots: bool,
    server: Child,
    output: Arc<Mutex<Vec<String>>>,
    driver: Driver,
    _dumps: tempfile::TempDir,
}

impl Site {
    /// Starts `shezu serve --demo` on `t`'s database and ChromeDriver; `None` when the browser
    /// is not installed (outside CI).
    pub fn start(t: &TestDb) -> Option<Site> {
        let (chromium, chromedriver) = browser_programs()?;
        let dumps = tempfile::tempdir().expect("dump dir");
        let mut server = Command::new(env!("CARGO_BIN_EXE_shezu"))
            .args([
                "serve",
                "--demo",
                "--addr",
                "127.0.0.1:0",
                "--database",
                &t.url,
            ])
            .arg("--dump-dir")
            .arg(dumps.path())
            .env("SHEZU_LOG", "warn")
            .env("SHEZU_API_REQUESTS_PER_MINUTE", "0")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start shezu serve");
        let output = Arc::new(Mutex::new(Vec::new()));
        let stderr = server.stderr.take().expect("stderr");
        let collected = output.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                collected.lock().unwrap().push(line);
            }
        });
        // The server prints `shezu …：http://ADDR` once it listens (after loading the demo).
        let mut stdout = BufReader::new(server.stdout.take().expect("stdout")).lines();
        let base = loop {
            match stdout.next() {
                Some(Ok(line)) => {
                    if line.starts_with("shezu")
                        && let Some(at) = line.find("http://")
                    {
                        break line[at..].trim().to_owned();
                    }
                }
                _ => {
                    let _ = server.kill();
                    panic!(
                        "shezu serve stopped before listening:\n{}",
                        output.lock().unwrap().join("\n")
                    );
                }
            }
        };
        let collected = output.clone();
        std::thread::spawn(move || {
            for line in stdout.map_while(Result::ok) {
                collected.lock().unwrap().push(line);
            }
        });
        Some(Site {
            base,
            chromium,
            shots: t.db.backend() == Backend::Sqlite,
            server,
            output,
            driver: Driver::start(&chromedriver),
            _dumps: dumps,
        })
    }

    fn open(&self, extra: Value) -> Browser {
        let mut options = json!({
            "binary": self.chromium.display().to_string(),
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-extensions",
                "--disable-default-apps", "--hide-scrollbars", "--force-device-scale-factor=1",
                "--window-size=1280,900", "--lang=zh-CN",
            ],
            "prefs": { "intl.accept_languages": "zh-CN,zh" },
        });
        if let (Some(options), Some(extra)) = (options.as_object_mut(), extra.as_object()) {
            for (k, v) in extra {
                if k == "prefs" {
                    for (pk, pv) in v.as_object().expect("prefs") {
                        options["prefs"][pk] = pv.clone();
                    }
                } else {
                    options.insert(k.clone(), v.clone());
                }
            }
        }
        self.driver.session(options, &self.base)
    }

    /// A desktop browser window (1280 × 900), Chinese preferred.
    pub fn browser(&self) -> Browser {
        self.open(json!({}))
    }

    /// A phone: 390 × 844 CSS pixels at twice the density, touch, a mobile user agent.
    pub fn phone(&self) -> Browser {
        self.open(json!({ "mobileEmulation": {
            "deviceMetrics": { "width": 390, "height": 844, "pixelRatio": 2.0, "mobile": true, "touch": true },
            "userAgent": "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Mobile Safari/537.36",
        }}))
    }

    /// A desktop browser with JavaScript switched off.
    pub fn without_javascript(&self) -> Browser {
        self.open(json!({ "prefs": { "profile.managed_default_content_settings.javascript": 2 } }))
    }

    /// Saves the page as `docs/screenshots/NAME.png` (on the SQLite run): its top 1,800 CSS
    /// pixels, enough to judge a page without making the repository heavy.
    pub fn shot(&self, browser: &Browser, name: &str) {
        if !self.shots {
            return;
        }
        let png = browser.screenshot_png(1800);
        assert!(
            png.starts_with(b"\x89PNG"),
            "screenshot of {name} is not a PNG"
        );
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).expect("screenshot dir");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("write screenshot");
    }

    /// What the server wrote to its output so far (for failure messages).
    pub fn server_output(&self) -> String {
        self.output.lock().unwrap().join("\n")
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
        if std::thread::panicking() {
            eprintln!("shezu serve output:\n{}", self.server_output());
        }
    }
}

/// Signs in on `/login` by typing the username and the demo password, and waits for the
/// page that follows.
pub fn sign_in(browser: &Browser, username: &str) {
    browser.goto("/login");
    browser.find("#username").send_keys(username);
    browser.find("#password").send_keys(PASSWORD);
    browser
        .find("form[action='/login'] button[type=submit]")
        .click();
    browser.wait_until("the sign-in is done", |b| !b.path().starts_with("/login"));
    assert!(
        browser.exists("form[action='/logout']"),
        "{username} is not signed in: {}",
        browser.text("main")
    );
}

/// The axe-core release the accessibility checks inject (vendored from npm, MPL-2.0).
const AXE: &str = include_str!("vendor/axe-core-4.14.1/axe.min.js");

/// The serious and critical accessibility violations axe-core finds on the current page,
/// one line each (rule, help, up to five offending elements).
pub fn accessibility_violations(browser: &Browser) -> Vec<String> {
    // Run as a WebDriver script, not a <script> tag, so the page's CSP needs no exception.
    browser.execute(&format!("{AXE}\n;return typeof window.axe;"), json!([]));
    let found = browser.execute_async(
        "const done = arguments[arguments.length - 1];
         axe.run(document, { resultTypes: ['violations'] })
           .then(r => done(r.violations
             .filter(v => v.impact === 'serious' || v.impact === 'critical')
             .map(v => v.impact + ' ' + v.id + ': ' + v.help + ' → '
               + v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' ' + (n.failureSummary || '').replace(/\\s+/g, ' ')).join(' | '))))
           .catch(e => done(['axe failed: ' + e]));",
        json!([]),
    );
    found
        .as_array()
        .expect("axe result")
        .iter()
        .map(|v| v.as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Fails when the page is wider than the window (a layout that breaks on a phone makes the
/// page scroll sideways).
pub fn assert_fits_width(browser: &Browser) {
    let widths = browser.execute(
        "const wide = [...document.querySelectorAll('body *')]
           .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
           .slice(0, 5).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className ? '.' + e.className : ''));
         return [document.documentElement.scrollWidth, window.innerWidth, wide];",
        json!([]),
    );
    let (page, window) = (widths[0].as_i64(), widths[1].as_i64());
    assert!(
        page <= window,
        "{} is {page:?} px wide in a {window:?} px window; too wide: {}",
        browser.path(),
        widths[2]
    );
}
