//! Real `shezu serve` processes over one database: several app servers sharing it (a write
//! through one is seen by the next request to another) and a server reading its public pages
//! from a PostgreSQL streaming replica. The other suites drive the router in-process; these
//! start the binary and speak HTTP/1.1 to it over loopback.

mod crash;
mod ops;
mod replica;
mod two;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The `shezu` binary these tests start: `SHEZU_TEST_BIN` when set (a private copy, so that a
/// long campaign is not switched to another build in a shared target directory midway),
/// otherwise the one cargo built with the tests.
pub fn binary() -> String {
    std::env::var("SHEZU_TEST_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_shezu").to_owned())
}

/// A running `shezu serve`, killed when dropped.
pub struct Server {
    /// `127.0.0.1:PORT`.
    pub addr: String,
    child: Child,
    output: Arc<Mutex<Vec<String>>>,
    _dumps: tempfile::TempDir,
}

impl Server {
    /// Starts `shezu serve` on a free port over `database` (and `read_database`, when given),
    /// returning once it listens.
    pub fn start(database: &str, read_database: Option<&str>) -> Server {
        Server::start_with(database, read_database, &[])
    }

    /// [`Server::start`] with more environment variables (after the defaults, so they win).
    pub fn start_with(database: &str, read_database: Option<&str>, env: &[(&str, &str)]) -> Server {
        let dumps = tempfile::tempdir().expect("dump dir");
        let mut command = Command::new(binary());
        command
            .args(["serve", "--addr", "127.0.0.1:0", "--database", database])
            .arg("--dump-dir")
            .arg(dumps.path())
            .env("SHEZU_LOG", "warn")
            .env("SHEZU_API_REQUESTS_PER_MINUTE", "0")
            .env_remove("SHEZU_READ_DATABASE_URL")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(url) = read_database {
            command.args(["--read-database", url]);
        }
        command.envs(env.iter().copied());
        let mut child = command.spawn().expect("start shezu serve");
        let output = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().expect("stderr");
        let collected = output.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                collected.lock().unwrap().push(line);
            }
        });
        // `serve` prints `shezu …http://ADDR` once it listens.
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let addr = loop {
            match stdout.next() {
                Some(Ok(line)) => {
                    if let Some(at) = line.find("http://") {
                        break line[at + "http://".len()..].trim().to_owned();
                    }
                }
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!(
                        "shezu serve stopped before listening:\n{}",
                        output.lock().unwrap().join("\n")
                    );
                }
            }
        };
        std::thread::spawn(move || for _ in stdout.map_while(Result::ok) {});
        Server {
            addr,
            child,
            output,
            _dumps: dumps,
        }
    }

    /// Sends SIGTERM (what systemd and container runtimes send) and waits up to 30 s for the
    /// process to end; how it ended.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(sent.success(), "kill -TERM");
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "still running 30 s after SIGTERM:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Kills the process with SIGKILL — no chance to finish anything — and waits for it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// What the server wrote to standard error so far (for failure messages).
    pub fn log(&self) -> String {
        self.output.lock().unwrap().join("\n")
    }

    /// `GET path` with no session.
    pub fn get(&self, path: &str) -> Reply {
        http(&self.addr, "GET", path, None, None)
    }

    /// `GET path` parsed as JSON, which must answer 200.
    pub fn json(&self, path: &str) -> serde_json::Value {
        let reply = self.get(path);
        assert_eq!(
            reply.status,
            200,
            "GET {path}: {}\n{}",
            reply.body,
            self.log()
        );
        serde_json::from_str(&reply.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", reply.body))
    }

    /// Signs `username` in through the login form; the session's cookie and CSRF token.
    pub fn sign_in(&self, username: &str) -> Session {
        let reply = http(
            &self.addr,
            "POST",
            "/login",
            None,
            Some(&[
                ("username", username),
                ("password", crate::common::PASSWORD),
            ]),
        );
        assert_eq!(reply.status, 303, "sign-in of {username}: {}", reply.body);
        let cookie = reply
            .header_values("set-cookie")
            .into_iter()
            .filter_map(|v| v.split(';').next().map(str::to_owned))
            .find(|c| c.starts_with("shezu_session="))
            .expect("session cookie");
        let page = http(&self.addr, "GET", "/account", Some(&cookie), None);
        let marker = "name=\"_csrf\" value=\"";
        let start = page.body.find(marker).expect("csrf field") + marker.len();
        let end = start + page.body[start..].find('"').expect("end of csrf");
        Session {
            addr: self.addr.clone(),
            cookie,
            csrf: page.body[start..end].to_owned(),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A signed-in browser on one server.
pub struct Session {
    addr: String,
    cookie: String,
    csrf: String,
}

impl Session {
    /// `GET path` with the session.
    pub fn get(&self, path: &str) -> Reply {
        http(&self.addr, "GET", path, Some(&self.cookie), None)
    }

    /// `POST path` with a form and the session's CSRF token.
    pub fn post(&self, path: &str, fields: &[(&str, &str)]) -> Reply {
        self.try_post(path, fields)
            .unwrap_or_else(|e| panic!("POST {path}: {e}"))
    }

    /// [`Session::get`], with a failed connection as an error (the server may be gone).
    pub fn try_get(&self, path: &str) -> Result<Reply, String> {
        try_http(&self.addr, "GET", path, Some(&self.cookie), None)
    }

    /// [`Session::post`], with a failed connection as an error (the server may be gone).
    pub fn try_post(&self, path: &str, fields: &[(&str, &str)]) -> Result<Reply, String> {
        let mut all = fields.to_vec();
        all.push(("_csrf", self.csrf.as_str()));
        try_http(&self.addr, "POST", path, Some(&self.cookie), Some(&all))
    }

    /// `POST path` as `multipart/form-data`: `fields`, then `file` (field name, file name,
    /// bytes); the CSRF token rides in the query string (the session guard does not read
    /// multipart bodies). A failed connection is an error.
    pub fn try_post_file(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        file: (&str, &str, &[u8]),
    ) -> Result<Reply, String> {
        let boundary = crate::common::MULTIPART_BOUNDARY;
        let body = crate::common::multipart_body(fields, file);
        let path = format!("{path}?_csrf={}", crate::common::encode(&self.csrf));
        let content_type = format!("multipart/form-data; boundary={boundary}");
        send(
            &self.addr,
            "POST",
            &path,
            Some(&self.cookie),
            Some((&content_type, &body)),
        )
    }
}

/// An answer over the wire.
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// Header lines (name lower-cased, value).
    pub headers: Vec<(String, String)>,
    /// Body as text.
    pub body: String,
}

impl Reply {
    /// Every value of header `name` (lower case).
    pub fn header_values(&self, name: &str) -> Vec<String> {
        self.headers
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// The `Location` header.
    pub fn location(&self) -> String {
        self.header_values("location").pop().unwrap_or_default()
    }
}

/// One HTTP/1.1 request on a fresh connection (`Connection: close`), blocking.
pub fn http(
    addr: &str,
    method: &str,
    path: &str,
    cookie: Option<&str>,
    form: Option<&[(&str, &str)]>,
) -> Reply {
    try_http(addr, method, path, cookie, form)
        .unwrap_or_else(|e| panic!("{method} {path} on {addr}: {e}"))
}

/// [`http`], with what went wrong (no server, a connection cut mid-answer) as an error.
pub fn try_http(
    addr: &str,
    method: &str,
    path: &str,
    cookie: Option<&str>,
    form: Option<&[(&str, &str)]>,
) -> Result<Reply, String> {
    let body = form.map(|fields| {
        fields
            .iter()
            .map(|(k, v)| format!("{}={}", crate::common::encode(k), crate::common::encode(v)))
            .collect::<Vec<_>>()
            .join("&")
    });
    send(
        addr,
        method,
        path,
        cookie,
        body.as_ref()
            .map(|b| ("application/x-www-form-urlencoded", b.as_bytes())),
    )
}

/// One request with an optional body of the given content type; see [`try_http`].
fn send(
    addr: &str,
    method: &str,
    path: &str,
    cookie: Option<&str>,
    body: Option<(&str, &[u8])>,
) -> Result<Reply, String> {
    let mut stream = TcpStream::connect(addr).map_err(|e| format!("cannot reach shezu: {e}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .map_err(|e| e.to_string())?;
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(c) = cookie {
        head.push_str(&format!("Cookie: {c}\r\n"));
    }
    if let Some((content_type, _)) = body {
        head.push_str(&format!("Content-Type: {content_type}\r\n"));
    }
    let body = body.map_or(&[][..], |(_, b)| b);
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let mut request = head.into_bytes();
    request.extend_from_slice(body);
    stream
        .write_all(&request)
        .map_err(|e| format!("send request: {e}"))?;
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .map_err(|e| format!("read answer: {e}"))?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| "no end of headers".to_owned())?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.lines();
    let status: u16 = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| "no status line".to_owned())?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let mut rest = &raw[split + 4..];
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    let body = if chunked {
        let mut out = Vec::new();
        loop {
            let line_end = rest
                .windows(2)
                .position(|w| w == b"\r\n")
                .ok_or_else(|| "no chunk size line".to_owned())?;
            let size = usize::from_str_radix(
                String::from_utf8_lossy(&rest[..line_end])
                    .split(';')
                    .next()
                    .unwrap_or("")
                    .trim(),
                16,
            )
            .map_err(|_| "chunk size is not hex".to_owned())?;
            rest = &rest[line_end + 2..];
            if size == 0 {
                break;
            }
            if rest.len() < size + 2 {
                return Err("answer cut short".to_owned());
            }
            out.extend_from_slice(&rest[..size]);
            rest = &rest[size + 2..];
        }
        out
    } else {
        rest.to_vec()
    };
    Ok(Reply {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}
