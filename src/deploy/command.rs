//! Deploying and verifying by running a local command: argv with placeholders, never a shell, so
//! that nothing from a release file is ever interpreted by one. The exit status is the answer;
//! the output's tail goes into records and errors so a failure explains itself.

use super::{DeployOutcome, Deployer, ReleaseContext, Verifier, VerifyOutcome};
use crate::config::render_template;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How much output to keep: enough to see the error, small enough for a record.
const OUTPUT_TAIL_LINES: usize = 20;

/// A command with `{version}` and component placeholders, run in `dir`.
#[derive(Debug, Clone)]
pub struct CommandRunner {
    pub argv: Vec<String>,
    pub dir: PathBuf,
    pub timeout: Duration,
}

/// What a finished command did.
#[derive(Debug, Clone)]
pub struct CommandResult {
    pub success: bool,
    pub output_tail: String,
}

impl CommandRunner {
    fn argv_for(&self, release: &ReleaseContext) -> Vec<String> {
        self.argv
            .iter()
            .map(|arg| render_template(arg, &release.version, &release.components))
            .collect()
    }

    /// Runs the command to its end (or its timeout, when it is killed).
    pub fn run(&self, release: &ReleaseContext) -> Result<CommandResult, String> {
        let argv = self.argv_for(release);
        let Some((program, args)) = argv.split_first() else {
            return Err("the command is empty".into());
        };
        // A relative program path is relative to the desired-state repository, like every path.
        // Made absolute because `dir` may itself be relative (`--repo deploy/`), and whether a
        // relative program is looked up before or after `current_dir` applies is unspecified.
        let program_path = if program.contains('/') && !program.starts_with('/') {
            let joined = self.dir.join(program);
            std::path::absolute(&joined)
                .unwrap_or(joined)
                .to_string_lossy()
                .into_owned()
        } else {
            program.clone()
        };
        let mut child = Command::new(&program_path)
            .args(args)
            .current_dir(&self.dir)
            .env("STACKREL_VERSION", &release.version)
            .env("STACKREL_COMMIT", &release.commit)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run `{program}`: {e}"))?;
        // Drain output on threads so a chatty command cannot block on a full pipe.
        let stdout = child.stdout.take().map(read_on_thread);
        let stderr = child.stderr.take().map(read_on_thread);
        let started = Instant::now();
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break Some(status),
                Ok(None) if started.elapsed() >= self.timeout => {
                    let _ = child.kill();
                    let _ = child.wait();
                    break None;
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(5)),
                Err(e) => return Err(format!("waiting for `{program}`: {e}")),
            }
        };
        let mut output = String::new();
        for handle in [stdout, stderr].into_iter().flatten() {
            output.push_str(&handle.join().unwrap_or_default());
        }
        let tail = tail_lines(&output, OUTPUT_TAIL_LINES);
        match status {
            None => Err(format!(
                "`{program}` did not finish within {}s; output: {tail}",
                self.timeout.as_secs()
            )),
            Some(status) => {
                let mut output_tail = tail;
                if !status.success() {
                    let code = status
                        .code()
                        .map_or("a signal".to_string(), |c| format!("status {c}"));
                    output_tail = format!(
                        "`{program}` exited with {code}{}",
                        if output_tail.is_empty() {
                            String::new()
                        } else {
                            format!(": {output_tail}")
                        }
                    );
                }
                Ok(CommandResult {
                    success: status.success(),
                    output_tail,
                })
            }
        }
    }
}

fn read_on_thread(
    mut pipe: impl std::io::Read + Send + 'static,
) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

fn tail_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// `[deploy] kind = "command"`.
pub struct CommandDeployer(pub CommandRunner);

impl Deployer for CommandDeployer {
    fn deploy(&self, release: &ReleaseContext) -> Result<DeployOutcome, String> {
        let result = self.0.run(release)?;
        Ok(DeployOutcome {
            succeeded: result.success,
            detail: result.output_tail,
        })
    }
}

/// `[verify] command = [...]`: exit 0 means the declared versions are live.
pub struct CommandVerifier(pub CommandRunner);

impl Verifier for CommandVerifier {
    fn verify(&self, release: &ReleaseContext) -> Result<VerifyOutcome, String> {
        let result = self.0.run(release)?;
        Ok(VerifyOutcome {
            live: result.success,
            detail: result.output_tail,
            // A command answers only yes or no about the release it is asked about.
            reported: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn release() -> ReleaseContext {
        ReleaseContext {
            version: "2026.08.3".into(),
            components: BTreeMap::from([("backend".into(), "2026.08.1".into())]),
            commit: "abc".into(),
        }
    }

    fn runner(argv: &[&str]) -> CommandRunner {
        CommandRunner {
            argv: argv.iter().map(|s| s.to_string()).collect(),
            dir: std::env::temp_dir(),
            timeout: Duration::from_secs(10),
        }
    }

    #[test]
    fn placeholders_fill_arguments_without_a_shell() {
        let result = runner(&["echo", "{version}", "{backend}", "$HOME;", "`id`"])
            .run(&release())
            .unwrap();
        assert!(result.success);
        assert_eq!(result.output_tail, "2026.08.3 2026.08.1 $HOME; `id`");
    }

    #[test]
    fn failure_reports_exit_status_and_output_tail() {
        let result = runner(&["sh", "-c", "echo first; echo boom >&2; exit 3"])
            .run(&release())
            .unwrap();
        assert!(!result.success);
        assert!(
            result.output_tail.contains("exited with status 3"),
            "{}",
            result.output_tail
        );
        assert!(result.output_tail.contains("boom"));
    }

    #[test]
    fn missing_program_is_an_error_naming_it() {
        let err = runner(&["./no-such-deploy.sh"])
            .run(&release())
            .unwrap_err();
        assert!(err.contains("cannot run `./no-such-deploy.sh`"), "{err}");
    }

    #[test]
    fn command_past_its_timeout_is_killed() {
        let mut slow = runner(&["sleep", "5"]);
        slow.timeout = Duration::from_millis(100);
        let err = slow.run(&release()).unwrap_err();
        assert!(err.contains("did not finish"), "{err}");
    }
}
