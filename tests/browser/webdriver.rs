//! A small W3C WebDriver client for ChromeDriver: the commands the journeys use, as blocking
//! JSON-over-HTTP/1.1 calls on loopback. Written here rather than taken from a crate because
//! the protocol is a dozen plain requests and the suite then adds no dependency (and no
//! second HTTP stack) to the build.

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The key W3C WebDriver gives every element reference.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Key codes of the WebDriver key actions.
pub mod keys {
    /// Tab.
    pub const TAB: &str = "\u{E004}";
    /// Enter.
    pub const ENTER: &str = "\u{E007}";
}

/// A refused WebDriver command: its W3C error code and message.
#[derive(Debug)]
pub struct WebDriverError {
    /// e.g. `no such element`.
    pub error: String,
    /// ChromeDriver's explanation.
    pub message: String,
}

impl WebDriverError {
    /// Whether the element went away because the page changed under it (a navigation or an
    /// htmx swap between finding and reading). ChromeDriver reports this as a stale reference,
    /// or, mid-navigation, as an inspector error about a node outside the document.
    pub fn is_page_change(&self) -> bool {
        self.error == "stale element reference"
            || self.message.contains("does not belong to the document")
    }
}

/// Sends one request to the driver on `port` and returns its status and JSON body.
fn http(port: u16, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
    let body = body.map(Value::to_string).unwrap_or_default();
    let mut stream = TcpStream::connect(("127.0.0.1", port))
        .unwrap_or_else(|e| panic!("cannot reach chromedriver on port {port}: {e}"));
    stream
        .set_read_timeout(Some(Duration::from_secs(120)))
        .expect("read timeout");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
         Content-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
    stream
        .write_all(request.as_bytes())
        .expect("write to chromedriver");
    let mut reader = BufReader::new(stream);
    let mut status_line = String::new();
    reader.read_line(&mut status_line).expect("status line");
    let status: u16 = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line from chromedriver: {status_line:?}"));
    let mut length = None;
    let mut chunked = false;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).expect("header line");
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            let name = name.trim().to_ascii_lowercase();
            if name == "content-length" {
                length = value.trim().parse::<usize>().ok();
            } else if name == "transfer-encoding" && value.trim().eq_ignore_ascii_case("chunked") {
                chunked = true;
            }
        }
    }
    let mut raw = Vec::new();
    if chunked {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).expect("chunk size");
            let size = usize::from_str_radix(size.trim(), 16).expect("chunk size is hex");
            if size == 0 {
                break;
            }
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk).expect("chunk");
            raw.extend_from_slice(&chunk[..size]);
        }
    } else if let Some(n) = length {
        raw.resize(n, 0);
        reader.read_exact(&mut raw).expect("body");
    } else {
        reader.read_to_end(&mut raw).expect("body");
    }
    let value = if raw.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&raw).unwrap_or_else(|e| {
            panic!(
                "chromedriver sent no JSON ({e}): {}",
                String::from_utf8_lossy(&raw)
            )
        })
    };
    (status, value)
}

/// A port nobody listens on now (the OS's choice, released at once for the child to take).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// A running ChromeDriver, stopped when dropped.
pub struct Driver {
    child: Child,
    port: u16,
}

impl Driver {
    /// Starts `chromedriver` on a free loopback port and waits until it is ready.
    pub fn start(program: &Path) -> Driver {
        let port = free_port();
        let child = Command::new(program)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.display()));
        let driver = Driver { child, port };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                let (_, status) = http(port, "GET", "/status", None);
                if status["value"]["ready"] == true {
                    return driver;
                }
            }
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// A new browser session with these Chrome options (see `Site::browser`).
    pub fn session(&self, chrome_options: Value, base: &str) -> Browser {
        let (status, answer) = http(
            self.port,
            "POST",
            "/session",
            Some(&json!({
                "capabilities": { "alwaysMatch": {
                    "browserName": "chrome",
                    "goog:chromeOptions": chrome_options,
                    "timeouts": { "implicit": 0, "pageLoad": 60000, "script": 60000 },
                }}
            })),
        );
        assert_eq!(status, 200, "new session refused: {answer}");
        let id = answer["value"]["sessionId"]
            .as_str()
            .expect("session id")
            .to_owned();
        Browser {
            port: self.port,
            id,
            base: base.to_owned(),
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One browser window (a WebDriver session) pointed at the server under test; closed when
/// dropped.
pub struct Browser {
    port: u16,
    id: String,
    /// The server's address, `http://127.0.0.1:PORT`.
    pub base: String,
}

/// How long the helpers wait for something to appear.
const PATIENCE: Duration = Duration::from_secs(15);

impl Browser {
    /// Sends a session command; `Err` carries the WebDriver error.
    pub fn try_call(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, WebDriverError> {
        let (status, answer) = http(
            self.port,
            method,
            &format!("/session/{}{path}", self.id),
            body.as_ref(),
        );
        let value = answer.get("value").cloned().unwrap_or(Value::Null);
        if status == 200 {
            Ok(value)
        } else {
            Err(WebDriverError {
                error: value["error"].as_str().unwrap_or("unknown").to_owned(),
                message: value["message"].as_str().unwrap_or("").to_owned(),
            })
        }
    }

    /// Sends a session command that must succeed.
    pub fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.try_call(method, path, body.clone())
            .unwrap_or_else(|e| panic!("{method} {path} {body:?}: {}: {}", e.error, e.message))
    }

    /// Opens `path` on the server under test and waits for the page to load.
    pub fn goto(&self, path: &str) {
        let url = format!("{}{path}", self.base);
        self.call("POST", "/url", Some(json!({ "url": url })));
    }

    /// The address shown in the location bar.
    pub fn url(&self) -> String {
        self.call("GET", "/url", None)
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The path and query of the current page.
    pub fn path(&self) -> String {
        self.url()
            .strip_prefix(&self.base)
            .unwrap_or_default()
            .to_owned()
    }

    /// Runs `script` (a function body; `arguments` holds `args`) and returns its result.
    pub fn execute(&self, script: &str, args: Value) -> Value {
        self.call(
            "POST",
            "/execute/sync",
            Some(json!({ "script": script, "args": args })),
        )
    }

    /// Runs `script`, which calls its last argument with the result when done.
    pub fn execute_async(&self, script: &str, args: Value) -> Value {
        self.call(
            "POST",
            "/execute/async",
            Some(json!({ "script": script, "args": args })),
        )
    }

    /// Runs a Chrome DevTools Protocol command through ChromeDriver.
    pub fn cdp(&self, command: &str, params: Value) -> Value {
        self.call(
            "POST",
            "/goog/cdp/execute",
            Some(json!({ "cmd": command, "params": params })),
        )
    }

    fn find_now(&self, css: &str) -> Option<Element<'_>> {
        self.try_call(
            "POST",
            "/element",
            Some(json!({ "using": "css selector", "value": css })),
        )
        .ok()
        .map(|v| Element {
            browser: self,
            id: v[ELEMENT_KEY].as_str().expect("element id").to_owned(),
        })
    }

    /// The first element matching `css`, waiting for it to appear.
    pub fn find(&self, css: &str) -> Element<'_> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(e) = self.find_now(css) {
                return e;
            }
            assert!(
                Instant::now() < deadline,
                "no element matches {css:?} on {}",
                self.url()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Whether an element matches `css` now (no waiting).
    pub fn exists(&self, css: &str) -> bool {
        self.find_now(css).is_some()
    }

    /// Every element matching `css` now.
    pub fn find_all(&self, css: &str) -> Vec<Element<'_>> {
        self.call(
            "POST",
            "/elements",
            Some(json!({ "using": "css selector", "value": css })),
        )
        .as_array()
        .expect("element list")
        .iter()
        .map(|v| Element {
            browser: self,
            id: v[ELEMENT_KEY].as_str().expect("element id").to_owned(),
        })
        .collect()
    }

    /// The visible text of the first element matching `css`, waiting for it to appear (and
    /// looking again when the page replaced it between finding and reading, as htmx swaps do).
    pub fn text(&self, css: &str) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let element = self.find(css);
            match self.try_call("GET", &element.path("/text"), None) {
                Ok(text) => return text.as_str().unwrap_or_default().to_owned(),
                Err(e) if e.is_page_change() && Instant::now() < deadline => {}
                Err(e) => panic!("text of {css:?}: {}: {}", e.error, e.message),
            }
        }
    }

    /// Waits until `condition` holds, failing with `what` after a while.
    pub fn wait_until(&self, what: &str, condition: impl Fn(&Browser) -> bool) {
        let deadline = Instant::now() + PATIENCE;
        while !condition(self) {
            assert!(
                Instant::now() < deadline,
                "timed out waiting until {what} on {}",
                self.url()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Presses and releases `key` (a character or one of [`keys`]) on whatever has the focus,
    /// as the keyboard would.
    pub fn press(&self, key: &str) {
        self.call(
            "POST",
            "/actions",
            Some(
                json!({ "actions": [{ "type": "key", "id": "keyboard", "actions": [
                    { "type": "keyDown", "value": key },
                    { "type": "keyUp", "value": key },
                ]}]}),
            ),
        );
    }

    /// Types `text` into whatever has the focus, one key at a time.
    pub fn type_text(&self, text: &str) {
        let mut actions = Vec::new();
        for c in text.chars() {
            let c = c.to_string();
            actions.push(json!({ "type": "keyDown", "value": c }));
            actions.push(json!({ "type": "keyUp", "value": c }));
        }
        self.call(
            "POST",
            "/actions",
            Some(json!({ "actions": [{ "type": "key", "id": "keyboard", "actions": actions }]})),
        );
    }

    /// Forgets the server's cookies (signs out without a click).
    pub fn clear_cookies(&self) {
        self.call("DELETE", "/cookie", None);
    }

    /// The whole page as a PNG (beyond the window, up to `max_height` CSS pixels).
    pub fn screenshot_png(&self, max_height: u32) -> Vec<u8> {
        let size = self.execute(
            "return [document.documentElement.scrollWidth, \
             Math.max(document.documentElement.scrollHeight, document.body.scrollHeight)];",
            json!([]),
        );
        let width = size[0].as_f64().unwrap_or(1280.0);
        let height = size[1].as_f64().unwrap_or(900.0).min(f64::from(max_height));
        let shot = self.cdp(
            "Page.captureScreenshot",
            json!({
                "format": "png",
                "captureBeyondViewport": true,
                "clip": { "x": 0, "y": 0, "width": width, "height": height, "scale": 1 },
            }),
        );
        use base64::Engine;
        base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().expect("screenshot data"))
            .expect("screenshot is base64")
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = http(self.port, "DELETE", &format!("/session/{}", self.id), None);
    }
}

/// An element of the page.
pub struct Element<'b> {
    browser: &'b Browser,
    id: String,
}

impl Element<'_> {
    fn path(&self, rest: &str) -> String {
        format!("/element/{}{rest}", self.id)
    }

    /// Clicks it (scrolling it into view first, as a user would).
    pub fn click(&self) {
        self.browser
            .call("POST", &self.path("/click"), Some(json!({})));
    }

    /// Types `text` into it (for a file input: the path of the file to choose).
    pub fn send_keys(&self, text: &str) {
        self.browser
            .call("POST", &self.path("/value"), Some(json!({ "text": text })));
    }

    /// Empties a text field.
    pub fn clear(&self) {
        self.browser
            .call("POST", &self.path("/clear"), Some(json!({})));
    }

    /// Its visible text.
    pub fn text(&self) -> String {
        self.browser
            .call("GET", &self.path("/text"), None)
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// An attribute, if present.
    pub fn attribute(&self, name: &str) -> Option<String> {
        self.browser
            .call("GET", &self.path(&format!("/attribute/{name}")), None)
            .as_str()
            .map(str::to_owned)
    }

    /// Picks the `<option>` with this value in a `<select>`, by clicking it.
    pub fn select(&self, value: &str) {
        let option = self
            .browser
            .try_call(
                "POST",
                &self.path("/element"),
                Some(json!({ "using": "css selector", "value": format!("option[value=\"{value}\"]") })),
            )
            .unwrap_or_else(|e| panic!("no option {value:?}: {}", e.message));
        let option = Element {
            browser: self.browser,
            id: option[ELEMENT_KEY].as_str().expect("option id").to_owned(),
        };
        option.click();
    }
}
