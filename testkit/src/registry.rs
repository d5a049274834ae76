//! The CNCF distribution registry (Debian's `docker-registry`) as tests use it: started on
//! 127.0.0.1 on a free port with its own storage and config, optionally behind htpasswd logins,
//! stopped when dropped. Images are pushed through its HTTP API — blob uploads, then a manifest
//! — so tests need neither docker nor a network, and what stackrel is checked against is the
//! real registry's behaviour, not an emulation of it.

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BINARY: &str = "docker-registry";
/// How long the registry may take to answer `/v2/` after starting (the machine is loaded).
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A running registry; stopped, and its storage removed, when dropped.
pub struct RegistryServer {
    child: Child,
    port: u16,
    login: Option<(String, String)>,
    agent: ureq::Agent,
    _dir: tempfile::TempDir,
}

/// The registry binary, or `None` with the reason printed: the tests that need it then return.
pub fn binary() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(BINARY))
            .find(|path| path.is_file())
    });
    if found.is_none() {
        // CI installs the registry; a missing one there is a broken run, not a skipped test.
        assert!(
            std::env::var_os("STACKREL_REQUIRE_REGISTRY").is_none(),
            "`{BINARY}` is not installed but STACKREL_REQUIRE_REGISTRY is set"
        );
        println!(
            "skipping: `{BINARY}` is not installed (Debian: apt-get install docker-registry); .ci/run installs it"
        );
    }
    found
}

impl RegistryServer {
    /// An open registry: anyone may pull and push. `None` when the binary is absent.
    pub fn start() -> Option<RegistryServer> {
        Self::launch(None)
    }

    /// A registry that wants this login for every request (htpasswd, bcrypt).
    pub fn start_with_login(username: &str, password: &str) -> Option<RegistryServer> {
        Self::launch(Some((username.to_string(), password.to_string())))
    }

    fn launch(login: Option<(String, String)>) -> Option<RegistryServer> {
        let binary = binary()?;
        // A free port can be taken between finding it and the registry binding it: try again.
        let mut last_error = String::new();
        for _ in 0..3 {
            let dir = tempfile::tempdir().expect("a temporary directory");
            let port = crate::http::free_port();
            let config = write_config(dir.path(), port, login.as_ref());
            let log = std::fs::File::create(dir.path().join("registry.log")).unwrap();
            let child = Command::new(&binary)
                .arg("serve")
                .arg(&config)
                .stdin(Stdio::null())
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .spawn()
                .expect("the registry starts");
            let server = RegistryServer {
                child,
                port,
                login: login.clone(),
                agent: agent(),
                _dir: dir,
            };
            let mut server = server;
            match server.wait_ready() {
                Ok(()) => return Some(server),
                Err(e) => last_error = e,
            }
        }
        panic!("the registry did not start: {last_error}");
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + START_TIMEOUT;
        let log = self._dir.path().join("registry.log");
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                let said = std::fs::read_to_string(&log).unwrap_or_default();
                return Err(format!("it exited ({status}): {said}"));
            }
            if let Ok(answer) = self.agent.get(&format!("{}/v2/", self.url())).call()
                && matches!(answer.status().as_u16(), 200 | 401)
            {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(std::fs::read_to_string(log).unwrap_or_default())
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `127.0.0.1:PORT`: the registry part of an image reference.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.host())
    }

    /// `127.0.0.1:PORT/<repository>`, as `stackrel.toml` names the image.
    pub fn image(&self, repository: &str) -> String {
        format!("{}/{repository}", self.host())
    }

    /// Pushes a small image (a config blob and one layer, unique to `repository:tag`) and
    /// returns the digest of its manifest, as the registry confirmed it.
    pub fn push_image(&self, repository: &str, tag: &str) -> String {
        let config = format!(
            r#"{{"architecture":"amd64","os":"linux","rootfs":{{"type":"layers","diff_ids":[]}},"config":{{"Labels":{{"image":"{repository}:{tag}"}}}}}}"#
        );
        let layer = format!("a layer of {repository}:{tag}").into_bytes();
        let config_digest = self.push_blob(repository, config.as_bytes());
        let layer_digest = self.push_blob(repository, &layer);
        let manifest = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": config_digest,
                "size": config.len(),
            },
            "layers": [{
                "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                "digest": layer_digest,
                "size": layer.len(),
            }],
        })
        .to_string();
        let url = format!("{}/v2/{repository}/manifests/{tag}", self.url());
        let answer = self
            .authorize(self.agent.put(&url))
            .header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
            .send(manifest.as_bytes())
            .expect("the manifest is pushed");
        assert_eq!(answer.status().as_u16(), 201, "PUT {url}");
        let digest = sha256(manifest.as_bytes());
        let confirmed = answer
            .headers()
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok());
        assert_eq!(confirmed, Some(digest.as_str()), "the registry's digest");
        digest
    }

    /// One monolithic blob upload: `POST …/blobs/uploads/`, then `PUT <location>&digest=…`.
    fn push_blob(&self, repository: &str, bytes: &[u8]) -> String {
        let digest = sha256(bytes);
        let start = format!("{}/v2/{repository}/blobs/uploads/", self.url());
        let answer = self
            .authorize(self.agent.post(&start))
            .send_empty()
            .expect("a blob upload starts");
        assert_eq!(answer.status().as_u16(), 202, "POST {start}");
        let location = answer
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .expect("the upload's location")
            .to_string();
        let location = if location.starts_with('/') {
            format!("{}{location}", self.url())
        } else {
            location
        };
        let separator = if location.contains('?') { '&' } else { '?' };
        let url = format!("{location}{separator}digest={digest}");
        let answer = self
            .authorize(self.agent.put(&url))
            .header("Content-Type", "application/octet-stream")
            .send(bytes)
            .expect("the blob is uploaded");
        assert_eq!(answer.status().as_u16(), 201, "PUT blob {digest}");
        digest
    }

    fn authorize<B>(&self, request: ureq::RequestBuilder<B>) -> ureq::RequestBuilder<B> {
        match &self.login {
            Some((user, password)) => {
                use base64::Engine;
                let pair =
                    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
                request.header("Authorization", format!("Basic {pair}"))
            }
            None => request,
        }
    }

    /// Stops the registry now (a test of a registry that went down).
    pub fn stop(mut self) {
        self.kill();
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for RegistryServer {
    fn drop(&mut self) {
        self.kill();
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into()
}

pub fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{:x}", Sha256::digest(bytes))
}

/// The registry's config: storage in `dir`, 127.0.0.1 only, htpasswd when there is a login.
fn write_config(dir: &Path, port: u16, login: Option<&(String, String)>) -> PathBuf {
    let mut config = format!(
        "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n  secret: stackrel-test\n",
        dir.join("data").display()
    );
    if let Some((user, password)) = login {
        // Few rounds: the registry checks the hash on every request, and tests make many.
        let hash = bcrypt::hash(password, 4).expect("bcrypt hashes");
        let htpasswd = dir.join("htpasswd");
        std::fs::write(&htpasswd, format!("{user}:{hash}\n")).unwrap();
        config.push_str(&format!(
            "auth:\n  htpasswd:\n    realm: stackrel-test\n    path: {}\n",
            htpasswd.display()
        ));
    }
    let path = dir.join("config.yml");
    std::fs::write(&path, config).unwrap();
    path
}
