//! Child processes for crash and cross-process tests: the test binary re-executes
//! itself to run one named test, told by an environment variable that it is the child.

use std::collections::HashMap;
use std::io;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;

use ordersmith::ports::IdGenerator;

/// Starts the current test binary again, running only the test `test_name` (its full
/// path as libtest prints it, e.g. `crash_child`), with `env` added, stdout piped and
/// output not captured, so the child can report progress line by line.
pub fn spawn_test_child(test_name: &str, env: &[(&str, String)]) -> io::Result<Child> {
    let exe = std::env::current_exe()?;
    let mut command = Command::new(exe);
    command
        .args([test_name, "--exact", "--nocapture", "--test-threads=1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    for (key, value) in env {
        command.env(key, value);
    }
    command.spawn()
}

/// Ids unique across processes: `"{kind}-{prefix}-{n:06}"`, one counter per kind. Give
/// each process its own prefix (its pid, a worker name).
pub struct PrefixedIds {
    prefix: String,
    counters: Mutex<HashMap<String, u64>>,
}

impl PrefixedIds {
    /// A generator whose ids carry `prefix`.
    pub fn new(prefix: impl Into<String>) -> Self {
        PrefixedIds {
            prefix: prefix.into(),
            counters: Mutex::new(HashMap::new()),
        }
    }
}

impl IdGenerator for PrefixedIds {
    fn next_id(&self, kind: &str) -> Result<String, ordersmith::ports::StoreError> {
        let mut counters = match self.counters.lock() {
            Ok(c) => c,
            Err(poisoned) => poisoned.into_inner(),
        };
        let n = counters.entry(kind.to_string()).or_insert(0);
        *n += 1;
        Ok(format!("{kind}-{}-{:06}", self.prefix, *n))
    }
}

/// Runs one child per entry of `specs` at once (each re-executing `test_name` with
/// `env_var` set to its spec), waits for all, and returns each child's stdout. Panics,
/// with the child's output, if a child fails: for races between processes on one
/// database (notes or payments on one order now; hot stock variants later).
pub fn run_children(test_name: &str, env_var: &str, specs: &[String]) -> Vec<String> {
    let children: Vec<Child> = specs
        .iter()
        .map(|spec| spawn_test_child(test_name, &[(env_var, spec.clone())]).unwrap())
        .collect();
    children
        .into_iter()
        .zip(specs)
        .map(|(child, spec)| {
            let output = child.wait_with_output().unwrap();
            let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
            assert!(
                output.status.success(),
                "child {spec:?} failed ({}):\n{stdout}",
                output.status
            );
            stdout
        })
        .collect()
}
