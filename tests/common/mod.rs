//! A mosquitto of the test's own on a free loopback port (plain, with a password file, or
//! with TLS under certificates made by `openssl`), stopped by its PID, and a listener that
//! collects what is published: the harness of the telemetry tests, with the twin they drive
//! (`twin`).

// Each test file uses part of it.
#![allow(dead_code)]

pub mod twin;

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

/// How long a test waits for something that should happen.
pub const LONG: Duration = Duration::from_secs(20);

/// A scratch directory, removed on drop.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(tag: &str) -> Self {
        static N: AtomicU32 = AtomicU32::new(0);
        let p = std::env::temp_dir().join(format!(
            "kos-telemetry-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Self(p)
    }
    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn wait_until(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + timeout;
    while Instant::now() < end {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    f()
}

/// How the broker is set up.
pub enum Auth {
    Anonymous,
    Password,
    Tls,
}

/// A mosquitto of our own, stopped by PID on drop.
pub struct Broker {
    pub child: Option<Child>,
    pub port: u16,
    pub conf: PathBuf,
    pub dir: Scratch,
}

pub const USER: &str = "twin";
pub const PASSWORD: &str = "correct horse";

impl Broker {
    pub fn start(auth: Auth) -> Self {
        Self::start_with(auth, false)
    }

    /// With `persistent`, sessions and queued messages survive a restart.
    pub fn start_with(auth: Auth, persistent: bool) -> Self {
        let dir = Scratch::new("broker");
        let port = free_port();
        let mut conf = format!(
            "listener {port} 127.0.0.1\nmax_queued_messages 0\n{}",
            run_as()
        );
        if persistent {
            conf += &format!(
                "persistence true\npersistence_location {}/\nautosave_interval 1\n",
                dir.0.display()
            );
        } else {
            conf += "persistence false\n";
        }
        match auth {
            Auth::Anonymous => conf += "allow_anonymous true\n",
            Auth::Password => {
                let pw = dir.path("passwd");
                let ok = Command::new("mosquitto_passwd")
                    .args(["-b", "-c"])
                    .arg(&pw)
                    .args([USER, PASSWORD])
                    .status()
                    .expect("mosquitto_passwd (apt-get install mosquitto)");
                assert!(ok.success());
                conf += &format!("allow_anonymous false\npassword_file {}\n", pw.display());
            }
            Auth::Tls => {
                make_certificates(&dir.0);
                conf += &format!(
                    "allow_anonymous true\ncafile {0}/ca.pem\ncertfile {0}/server.pem\nkeyfile {0}/server.key\n",
                    dir.0.display()
                );
            }
        }
        let path = dir.path("mosquitto.conf");
        std::fs::write(&path, conf).unwrap();
        let mut b = Broker {
            child: None,
            port,
            conf: path,
            dir,
        };
        b.launch();
        b
    }

    pub fn launch(&mut self) {
        let log = std::fs::File::create(self.dir.path("mosquitto.log")).unwrap();
        let child = Command::new("/usr/sbin/mosquitto")
            .arg("-c")
            .arg(&self.conf)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("/usr/sbin/mosquitto (apt-get install mosquitto)");
        self.child = Some(child);
        let port = self.port;
        assert!(
            wait_until(Duration::from_secs(20), || TcpStream::connect((
                "127.0.0.1",
                port
            ))
            .is_ok()),
            "mosquitto did not open port {port}: {}",
            std::fs::read_to_string(self.dir.path("mosquitto.log")).unwrap_or_default()
        );
    }

    /// Stops the broker as an operator would (SIGTERM: it saves its sessions), by PID.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(c.id().to_string())
                .status();
            let end = Instant::now() + Duration::from_secs(10);
            while Instant::now() < end {
                if let Ok(Some(_)) = c.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.port)
    }

    /// Publishes one message with mosquitto_pub (QoS 1).
    pub fn publish(&self, topic: &str, payload: &[u8]) {
        if payload.is_empty() {
            let ok = self
                .client_cmd("mosquitto_pub")
                .args(["-q", "1", "-t", topic, "-n"])
                .status()
                .unwrap();
            assert!(ok.success());
            return;
        }
        let mut child = self
            .client_cmd("mosquitto_pub")
            .args(["-q", "1", "-t", topic, "-s"])
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(payload).unwrap();
        assert!(child.wait().unwrap().success());
    }

    /// Publishes every line of `lines` on `topic`, in order, from one connection.
    pub fn publish_lines(&self, topic: &str, lines: &[String]) {
        let mut child = self
            .client_cmd("mosquitto_pub")
            .args(["-q", "1", "-t", topic, "-l"])
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        for l in lines {
            writeln!(stdin, "{l}").unwrap();
        }
        drop(stdin);
        assert!(child.wait().unwrap().success());
    }

    pub fn client_cmd(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        c.args(["-h", "127.0.0.1", "-p", &self.port.to_string()]);
        c
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// mosquitto started as root drops to its own user, which could not read our files: keep
/// the user that runs the tests (the line is ignored when that is not root).
pub fn run_as() -> String {
    let out = Command::new("id").arg("-un").output().unwrap();
    format!("user {}\n", String::from_utf8_lossy(&out.stdout).trim())
}

pub fn make_certificates(dir: &Path) {
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl (apt-get install openssl)");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=kos test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
    ]);
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=localhost",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
    ]);
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\n",
    )
    .unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
        "-out",
        "server.pem",
    ]);
}

/// Collects what the twin publishes.
pub struct Listener {
    pub got: Arc<Mutex<Vec<(String, Value)>>>,
    pub child: Child,
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Listener {
    pub fn start(broker: &Broker, filter: &str) -> Self {
        let got = Arc::new(Mutex::new(Vec::new()));
        let sink = got.clone();
        let probe = format!("kos/v1/probe/{}", std::process::id());
        let mut child = broker
            .client_cmd("mosquitto_sub")
            .args(["-v", "-q", "1", "-t", filter, "-t", &probe])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                if let Some((t, p)) = line.split_once(' ') {
                    let v = serde_json::from_str(p).unwrap_or(Value::String(p.to_string()));
                    sink.lock().unwrap().push((t.to_string(), v));
                }
            }
        });
        let l = Listener { got, child };
        // Subscribed once a probe comes back.
        let mut tries = 0;
        assert!(wait_until(LONG, || {
            tries += 1;
            if tries % 20 == 1 {
                broker.publish(&probe, b"probe");
            }
            l.find(|t, _| t == probe).is_some()
        }));
        l
    }

    pub fn find(&self, f: impl Fn(&str, &Value) -> bool) -> Option<(String, Value)> {
        self.got
            .lock()
            .unwrap()
            .iter()
            .rev()
            .find(|(t, v)| f(t, v))
            .cloned()
    }
}
