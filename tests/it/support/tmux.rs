//! The real binary in a real terminal: a detached tmux session of 80x24 running one
//! command, driven with `send-keys` and read with `capture-pane`. The session is killed
//! when dropped.

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

static SESSIONS: AtomicUsize = AtomicUsize::new(0);

pub struct Tmux {
    name: String,
    exit_file: PathBuf,
    _dir: tempfile::TempDir,
}

/// Whether tmux is installed (the CI installs it; see tests/e2e/deps.sh).
pub fn available() -> bool {
    Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
}

impl Tmux {
    /// Start `program args…` in a new 80x24 session; its exit code is kept for [`Tmux::exit_code`].
    pub fn start(program: &str, args: &[String]) -> Tmux {
        let dir = tempfile::tempdir().expect("tempdir");
        let exit_file = dir.path().join("exit");
        let n = SESSIONS.fetch_add(1, Ordering::SeqCst);
        let name = format!("mailsetup-test-{}-{n}", std::process::id());
        let quoted: Vec<String> = std::iter::once(program.to_string())
            .chain(args.iter().cloned())
            .map(|a| format!("'{}'", a.replace('\'', "'\\''")))
            .collect();
        let script = format!(
            "{}; echo $? > '{}'; sleep 600",
            quoted.join(" "),
            exit_file.display()
        );
        let ok = Command::new("tmux")
            .args([
                "new-session",
                "-d",
                "-s",
                &name,
                "-x",
                "80",
                "-y",
                "24",
                &script,
            ])
            .status()
            .expect("run tmux");
        assert!(ok.success(), "tmux new-session failed");
        Tmux {
            name,
            exit_file,
            _dir: dir,
        }
    }

    /// The screen now, as text.
    pub fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["capture-pane", "-p", "-t", &self.name])
            .output()
            .expect("capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Wait until the screen shows `text` (panics with the screen after `secs`).
    pub fn wait_for(&self, text: &str, secs: u64) -> String {
        let until = Instant::now() + Duration::from_secs(secs);
        loop {
            let screen = self.screen();
            if screen.contains(text) {
                return screen;
            }
            if Instant::now() > until {
                panic!("waited {secs} s for {text:?}; the screen:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// A tmux format of the pane (`#{pane_pid}`, `#{alternate_on}`, …).
    pub fn format(&self, format: &str) -> String {
        let out = Command::new("tmux")
            .args(["display-message", "-p", "-t", &self.name, format])
            .output()
            .expect("display-message");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Send keys in tmux's names (`Enter`, `Escape`, `Tab`, `y`, …).
    pub fn send(&self, keys: &[&str]) {
        let ok = Command::new("tmux")
            .args(["send-keys", "-t", &self.name])
            .args(keys)
            .status()
            .expect("send-keys");
        assert!(ok.success());
    }

    /// The program's exit code, once it has ended (panics after `secs`).
    pub fn exit_code(&self, secs: u64) -> i32 {
        let until = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Ok(text) = std::fs::read_to_string(&self.exit_file)
                && let Ok(code) = text.trim().parse()
            {
                return code;
            }
            if Instant::now() > until {
                panic!(
                    "the program did not end within {secs} s; the screen:\n{}",
                    self.screen()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.name])
            .status();
    }
}
