//! Deploying and verifying by running a local command: argv with placeholders, never a shell, so
//! that nothing from a release file is ever interpreted by one. The exit status is the answer;
//! the output's tail goes into records and errors so a failure explains itself.

use super::{
    DeployError, DeployOutcome, Deployer, ReleaseContext, Verifier, VerifyError, VerifyOutcome,
};
use crate::config::render_template;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// How much output to keep: enough to see the error, small enough for a record.
const OUTPUT_TAIL_LINES: usize = 20;

/// Why a command could not be run to its end (one that ran and exited non-zero is a result).
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error("the command is empty")]
    Empty,
    #[error("cannot run `{program}`: {source}")]
    Spawn {
        program: String,
        #[source]
        source: std::io::Error,
    },
    #[error("waiting for `{program}`: {source}")]
    Wait {
        program: String,
        #[source]
        source: std::io::Error,
    },
    #[error("`{program}` did not finish within {}s; output: {output_tail}", .timeout.as_secs())]
    TimedOut {
        program: String,
        timeout: Duration,
        output_tail: String,
    },
}

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

    /// A relative program path is relative to the desired-state repository, like every path.
    /// Made absolute because `dir` may itself be relative (`--repo deploy/`), and whether a
    /// relative program is looked up before or after `current_dir` applies is unspecified.
    fn program_path(&self, program: &str) -> String {
        if program.contains('/') && !program.starts_with('/') {
            let joined = self.dir.join(program);
            std::path::absolute(&joined)
                .unwrap_or(joined)
                .to_string_lossy()
                .into_owned()
        } else {
            program.to_string()
        }
    }

    /// Runs the command to its end (or its timeout, when it is killed).
    pub fn run(&self, release: &ReleaseContext) -> Result<CommandResult, CommandError> {
        let argv = self.argv_for(release);
        let Some((program, args)) = argv.split_first() else {
            return Err(CommandError::Empty);
        };
        let mut child = Command::new(self.program_path(program))
            .args(args)
            .current_dir(&self.dir)
            .env("STACKREL_VERSION", &release.version)
            .env("STACKREL_COMMIT", &release.commit)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| CommandError::Spawn {
                program: program.clone(),
                source,
            })?;
        // Drain output on threads so a chatty command cannot block on a full pipe.
        let stdout = child.stdout.take().map(read_on_thread);
        let stderr = child.stderr.take().map(read_on_thread);
        let status = self.wait(&mut child).map_err(|source| CommandError::Wait {
            program: program.clone(),
            source,
        });
        let mut output = String::new();
        for handle in [stdout, stderr].into_iter().flatten() {
            output.push_str(&handle.join().unwrap_or_default());
        }
        let output_tail = tail_lines(&output, OUTPUT_TAIL_LINES);
        match status? {
            None => Err(CommandError::TimedOut {
                program: program.clone(),
                timeout: self.timeout,
                output_tail,
            }),
            Some(status) => Ok(result(program, status, output_tail)),
        }
    }

    /// Waits for the child to exit; `None` when it outlived the timeout and was killed.
    fn wait(&self, child: &mut Child) -> std::io::Result<Option<ExitStatus>> {
        let started = Instant::now();
        loop {
            match child.try_wait()? {
                Some(status) => return Ok(Some(status)),
                None if started.elapsed() >= self.timeout => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Ok(None);
                }
                None => std::thread::sleep(Duration::from_millis(5)),
            }
        }
    }
}

/// What a command that exited did; a failure says how it ended, before its output.
fn result(program: &str, status: ExitStatus, output_tail: String) -> CommandResult {
    if status.success() {
        return CommandResult {
            success: true,
            output_tail,
        };
    }
    let code = status
        .code()
        .map_or("a signal".to_string(), |c| format!("status {c}"));
    let output_tail = if output_tail.is_empty() {
        format!("`{program}` exited with {code}")
    } else {
        format!("`{program}` exited with {code}: {output_tail}")
    };
    CommandResult {
        success: false,
        output_tail,
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
    fn deploy(&self, release: &ReleaseContext) -> Result<DeployOutcome, DeployError> {
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
    fn verify(&self, release: &ReleaseContext) -> Result<VerifyOutcome, VerifyError> {
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
        assert!(matches!(err, CommandError::Spawn { .. }), "{err}");
        let err = err.to_string();
        assert!(err.contains("cannot run `./no-such-deploy.sh`"), "{err}");
    }

    #[test]
    fn command_past_its_timeout_is_killed() {
        let mut slow = runner(&["sleep", "5"]);
        slow.timeout = Duration::from_millis(100);
        let err = slow.run(&release()).unwrap_err();
        assert!(matches!(err, CommandError::TimedOut { .. }), "{err}");
        let err = err.to_string();
        assert!(err.contains("did not finish"), "{err}");
    }
}
