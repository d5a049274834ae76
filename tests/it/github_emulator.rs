//! The GitHub emulator answers like GitHub: these tests drive it with a plain HTTP client and
//! check the status codes, error bodies, headers and real git side effects that the octocrab
//! forge is tested against. One behaviour per test; the repositories are bare git repositories
//! built with git2 in temporary directories.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use git2::{Oid, Repository, Signature};
use serde_json::{Value, json};
use std::path::Path;
use testkit::emulator::github::{Fault, FaultKind, GithubEmulator, RepoPermissions};
use testkit::sandbox::push_to_stack;

const TOKEN: &str = "t0ken";
const REPO: &str = "xchem/fragalysis-stack";
const WORKFLOW: &str = ".github/workflows/build-main.yaml";

/// A bare repository served by an emulator:
/// `c1` (workflow v1) ← `c2` (workflow v2) = master; `side` = c1 ← `s1`; tag `light` → c1
/// (lightweight); tag `annotated` → c2 (annotated).
struct Fixture {
    _dir: tempfile::TempDir,
    emu: GithubEmulator,
    path: std::path::PathBuf,
    c1: Oid,
    c2: Oid,
    s1: Oid,
}

fn commit_file(
    repo: &Repository,
    parent: Option<Oid>,
    path: &str,
    text: &str,
    message: &str,
) -> Oid {
    let sig = Signature::now("dev", "dev@example.org").unwrap();
    let blob = repo.blob(text.as_bytes()).unwrap();
    let base_tree = match parent {
        Some(p) => repo.find_commit(p).unwrap().tree().unwrap(),
        None => repo
            .find_tree(repo.treebuilder(None).unwrap().write().unwrap())
            .unwrap(),
    };
    let mut update = git2::build::TreeUpdateBuilder::new();
    update.upsert(path, blob, git2::FileMode::Blob);
    let tree = repo
        .find_tree(update.create_updated(repo, &base_tree).unwrap())
        .unwrap();
    let parents: Vec<git2::Commit<'_>> = parent
        .iter()
        .map(|p| repo.find_commit(*p).unwrap())
        .collect();
    let parent_refs: Vec<&git2::Commit<'_>> = parents.iter().collect();
    repo.commit(None, &sig, &sig, message, &tree, &parent_refs)
        .unwrap()
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stack.git");
    let repo = Repository::init_bare(&path).unwrap();
    repo.set_head("refs/heads/master").unwrap();
    let c1 = commit_file(
        &repo,
        None,
        WORKFLOW,
        "env:\n  BE_IMAGE_TAG: 2026.08.1\n",
        "first",
    );
    let c2 = commit_file(
        &repo,
        Some(c1),
        WORKFLOW,
        "env:\n  BE_IMAGE_TAG: 2026.08.2\n",
        "second",
    );
    let s1 = commit_file(&repo, Some(c1), "README.md", "side\n", "side work");
    repo.reference("refs/heads/master", c2, true, "test")
        .unwrap();
    repo.reference("refs/heads/side", s1, true, "test").unwrap();
    repo.reference("refs/tags/light", c1, true, "test").unwrap();
    let sig = Signature::now("dev", "dev@example.org").unwrap();
    repo.tag(
        "annotated",
        &repo.find_object(c2, None).unwrap(),
        &sig,
        "annotated tag\n",
        false,
    )
    .unwrap();
    let emu = GithubEmulator::start(TOKEN).unwrap();
    emu.add_repo(REPO, &path).unwrap();
    Fixture {
        _dir: dir,
        emu,
        path,
        c1,
        c2,
        s1,
    }
}

/// An HTTP client that hands back 4xx/5xx responses instead of turning them into errors.
fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn to_reply(mut response: ureq::http::Response<ureq::Body>) -> Reply {
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_string(),
                v.to_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let body = response.body_mut().read_to_string().unwrap_or_default();
    Reply {
        status,
        headers,
        body,
    }
}

impl Fixture {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.emu.url())
    }

    fn get(&self, path: &str) -> Reply {
        self.get_with(path, &[])
    }

    fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        let mut request = agent()
            .get(self.url(path))
            .header("Authorization", format!("Bearer {TOKEN}"));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        to_reply(request.call().unwrap())
    }

    fn try_send(&self, method: &str, path: &str, body: &Value) -> Result<Reply, ureq::Error> {
        let agent = agent();
        let auth = format!("Bearer {TOKEN}");
        let response = match method {
            "POST" => agent
                .post(self.url(path))
                .header("Authorization", &auth)
                .send_json(body),
            "PUT" => agent
                .put(self.url(path))
                .header("Authorization", &auth)
                .send_json(body),
            "PATCH" => agent
                .patch(self.url(path))
                .header("Authorization", &auth)
                .send_json(body),
            other => panic!("unsupported method {other}"),
        }?;
        Ok(to_reply(response))
    }

    fn send(&self, method: &str, path: &str, body: &Value) -> Reply {
        self.try_send(method, path, body).unwrap()
    }

    fn repo(&self) -> Repository {
        Repository::open(&self.path).unwrap()
    }

    fn master(&self) -> Oid {
        self.repo().refname_to_id("refs/heads/master").unwrap()
    }

    fn put_workflow(&self, text: &str, sha: Option<&str>) -> Result<Reply, ureq::Error> {
        let mut body = json!({
            "message": "build: Use of b/e 2026.08.3",
            "content": STANDARD.encode(text),
            "branch": "master",
        });
        if let Some(sha) = sha {
            body["sha"] = json!(sha);
        }
        self.try_send("PUT", &format!("/repos/{REPO}/contents/{WORKFLOW}"), &body)
    }
}

fn blob_at(repo: &Repository, commit: Oid, path: &str) -> String {
    repo.find_commit(commit)
        .unwrap()
        .tree()
        .unwrap()
        .get_path(Path::new(path))
        .unwrap()
        .id()
        .to_string()
}

#[test]
fn requests_without_a_valid_token_get_401() {
    let f = fixture();
    let none = to_reply(
        agent()
            .get(f.url(&format!("/repos/{REPO}")))
            .call()
            .unwrap(),
    );
    assert_eq!(none.status, 401);
    assert_eq!(none.json()["message"], "Requires authentication");
    let wrong = to_reply(
        agent()
            .get(f.url(&format!("/repos/{REPO}")))
            .header("Authorization", "token nope")
            .call()
            .unwrap(),
    );
    assert_eq!(wrong.status, 401);
    assert_eq!(wrong.json()["message"], "Bad credentials");
    let right = to_reply(
        agent()
            .get(f.url(&format!("/repos/{REPO}")))
            .header("Authorization", format!("token {TOKEN}"))
            .call()
            .unwrap(),
    );
    assert_eq!(right.status, 200);
    let repo = right.json();
    assert_eq!(repo["full_name"], REPO);
    assert_eq!(repo["default_branch"], "master");
    assert_eq!(
        repo["permissions"],
        json!({"admin": false, "maintain": false, "push": true, "triage": true, "pull": true})
    );
    // 401s are not charged to the token.
    assert!(
        f.emu
            .requests()
            .iter()
            .filter(|r| r.status == 401)
            .all(|r| !r.counted)
    );
}

#[test]
fn lightweight_tag_ref_points_at_the_commit() {
    let f = fixture();
    let r = f.get(&format!("/repos/{REPO}/git/ref/tags/light"));
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(v["ref"], "refs/tags/light");
    assert_eq!(v["object"]["type"], "commit");
    assert_eq!(v["object"]["sha"], f.c1.to_string());
    let branch = f.get(&format!("/repos/{REPO}/git/ref/heads/master")).json();
    assert_eq!(branch["object"]["sha"], f.c2.to_string());
}

#[test]
fn annotated_tag_ref_is_a_tag_object_that_peels_to_the_commit() {
    let f = fixture();
    let v = f
        .get(&format!("/repos/{REPO}/git/ref/tags/annotated"))
        .json();
    assert_eq!(v["object"]["type"], "tag");
    let tag_sha = v["object"]["sha"].as_str().unwrap().to_string();
    assert_ne!(tag_sha, f.c2.to_string());
    let tag = f.get(&format!("/repos/{REPO}/git/tags/{tag_sha}"));
    assert_eq!(tag.status, 200);
    let tag = tag.json();
    assert_eq!(tag["tag"], "annotated");
    assert_eq!(tag["message"], "annotated tag\n");
    assert_eq!(tag["object"]["type"], "commit");
    assert_eq!(tag["object"]["sha"], f.c2.to_string());
    // A commit SHA is not a tag object.
    assert_eq!(
        f.get(&format!("/repos/{REPO}/git/tags/{}", f.c2)).status,
        404
    );
}

#[test]
fn missing_ref_is_404_with_githubs_body() {
    let f = fixture();
    let r = f.get(&format!("/repos/{REPO}/git/ref/tags/2099.01.1"));
    assert_eq!(r.status, 404);
    let v = r.json();
    assert_eq!(v["message"], "Not Found");
    assert!(
        v["documentation_url"]
            .as_str()
            .unwrap()
            .starts_with("https://docs.github.com/")
    );
    assert_eq!(f.get("/repos/nobody/nothing").status, 404);
    assert_eq!(
        f.get(&format!("/repos/{REPO}/no/such/endpoint")).status,
        404
    );
}

#[test]
fn compare_reports_identical_ahead_behind_and_diverged() {
    let f = fixture();
    let compare = |base: &str, head: &str| {
        f.get(&format!("/repos/{REPO}/compare/{base}...{head}"))
            .json()
    };
    let same = compare("master", &f.c2.to_string());
    assert_eq!(same["status"], "identical");
    assert_eq!(same["total_commits"], 0);
    let ahead = compare(&f.c1.to_string(), "master");
    assert_eq!(
        (
            ahead["status"].as_str(),
            ahead["ahead_by"].as_u64(),
            ahead["behind_by"].as_u64()
        ),
        (Some("ahead"), Some(1), Some(0))
    );
    assert_eq!(ahead["merge_base_commit"]["sha"], f.c1.to_string());
    assert_eq!(ahead["commits"][0]["sha"], f.c2.to_string());
    let behind = compare("master", "light");
    assert_eq!(
        (behind["status"].as_str(), behind["behind_by"].as_u64()),
        (Some("behind"), Some(1))
    );
    let diverged = compare("side", "master");
    assert_eq!(diverged["status"], "diverged");
    assert_eq!(
        (
            diverged["ahead_by"].as_u64(),
            diverged["behind_by"].as_u64()
        ),
        (Some(1), Some(1))
    );
    assert_eq!(diverged["merge_base_commit"]["sha"], f.c1.to_string());
    assert_eq!(diverged["base_commit"]["sha"], f.s1.to_string());
    assert_eq!(
        f.get(&format!("/repos/{REPO}/compare/master...nope"))
            .status,
        404
    );
}

/// As GitHub documents compare: without paging parameters at most 250 commits, the last the
/// newest of the range; with them, the whole range oldest first, 100 a page at most.
#[test]
fn compare_lists_the_newest_250_unpaged_and_the_whole_range_oldest_first_in_pages() {
    let f = fixture();
    let repo = Repository::open(&f.path).unwrap();
    let mut made = Vec::new();
    let mut at = f.c2;
    for n in 0..260 {
        at = commit_file(
            &repo,
            Some(at),
            "README.md",
            &format!("{n}\n"),
            &format!("c{n}"),
        );
        made.push(at.to_string());
    }
    repo.reference("refs/heads/long", at, true, "test").unwrap();
    let shas = |answer: &Value| -> Vec<String> {
        answer["commits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["sha"].as_str().unwrap().to_string())
            .collect()
    };
    let spec = format!("/repos/{REPO}/compare/{}...long", f.c2);

    let unpaged = f.get(&spec).json();
    assert_eq!(unpaged["total_commits"], 260);
    assert_eq!(shas(&unpaged), made[10..].to_vec());
    let first = f.get(&format!("{spec}?per_page=100")).json();
    assert_eq!(shas(&first), made[..100].to_vec());
    let last = f.get(&format!("{spec}?per_page=100&page=3")).json();
    assert_eq!(shas(&last), made[200..].to_vec());
}

#[test]
fn contents_get_returns_the_blob_and_put_creates_a_real_commit() {
    let f = fixture();
    let got = f
        .get(&format!("/repos/{REPO}/contents/{WORKFLOW}?ref=master"))
        .json();
    assert_eq!(got["type"], "file");
    assert_eq!(got["encoding"], "base64");
    assert_eq!(got["name"], "build-main.yaml");
    let sha = got["sha"].as_str().unwrap().to_string();
    assert_eq!(sha, blob_at(&f.repo(), f.c2, WORKFLOW));
    let compact: String = got["content"]
        .as_str()
        .unwrap()
        .chars()
        .filter(|c| *c != '\n')
        .collect();
    assert_eq!(
        STANDARD.decode(compact).unwrap(),
        b"env:\n  BE_IMAGE_TAG: 2026.08.2\n"
    );
    assert_eq!(
        f.get(&format!("/repos/{REPO}/contents/{WORKFLOW}?ref={}", f.c1))
            .json()["sha"],
        blob_at(&f.repo(), f.c1, WORKFLOW)
    );
    assert_eq!(
        f.get(&format!("/repos/{REPO}/contents/missing.txt")).status,
        404
    );

    let new_text = "env:\n  BE_IMAGE_TAG: 2026.08.3\n";
    let put = f.put_workflow(new_text, Some(&sha)).unwrap();
    assert_eq!(put.status, 200);
    let put = put.json();
    let commit = Oid::from_str(put["commit"]["sha"].as_str().unwrap()).unwrap();
    let repo = f.repo();
    assert_eq!(f.master(), commit, "the branch moved to the new commit");
    let c = repo.find_commit(commit).unwrap();
    assert_eq!(c.parent_id(0).unwrap(), f.c2);
    assert_eq!(c.message().unwrap(), "build: Use of b/e 2026.08.3");
    assert_eq!(c.committer().name().unwrap(), "GitHub");
    assert_eq!(put["content"]["sha"], blob_at(&repo, commit, WORKFLOW));
    let blob = repo
        .find_blob(Oid::from_str(&blob_at(&repo, commit, WORKFLOW)).unwrap())
        .unwrap();
    assert_eq!(blob.content(), new_text.as_bytes());
}

#[test]
fn put_with_a_stale_sha_is_409_and_writes_nothing() {
    let f = fixture();
    let stale = blob_at(&f.repo(), f.c1, WORKFLOW);
    let r = f.put_workflow("x", Some(&stale)).unwrap();
    assert_eq!(r.status, 409);
    let v = r.json();
    assert_eq!(v["message"], format!("{WORKFLOW} does not match {stale}"));
    assert!(v.get("errors").is_none());
    assert_eq!(f.master(), f.c2);
}

#[test]
fn put_without_sha_on_an_existing_file_is_422_and_creating_a_file_is_201() {
    let f = fixture();
    let r = f.put_workflow("x", None).unwrap();
    assert_eq!(r.status, 422);
    assert_eq!(
        r.json()["message"],
        "Invalid request.\n\n\"sha\" wasn't supplied."
    );
    assert_eq!(f.master(), f.c2);
    let created = f.send(
        "PUT",
        &format!("/repos/{REPO}/contents/docs/new.md"),
        &json!({"message": "add", "content": STANDARD.encode("hi"), "branch": "master",
                "committer": {"name": "Rel Bot", "email": "bot@example.org"}}),
    );
    assert_eq!(created.status, 201);
    let repo = f.repo();
    let commit = repo.find_commit(f.master()).unwrap();
    assert_eq!(commit.committer().email().unwrap(), "bot@example.org");
    let bad_branch = f.send(
        "PUT",
        &format!("/repos/{REPO}/contents/docs/x.md"),
        &json!({"message": "add", "content": STANDARD.encode("hi"), "branch": "nope"}),
    );
    assert_eq!(bad_branch.status, 404);
}

#[test]
fn commits_for_a_path_are_listed_newest_first() {
    let f = fixture();
    let r = f.get(&format!(
        "/repos/{REPO}/commits?sha=master&path={WORKFLOW}&per_page=1"
    ));
    assert_eq!(r.status, 200);
    let list = r.json();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["sha"], f.c2.to_string());
    assert_eq!(list[0]["commit"]["message"], "second");
    assert!(r.header("link").unwrap().contains("rel=\"next\""));
    let all = f
        .get(&format!("/repos/{REPO}/commits?sha=master&path={WORKFLOW}"))
        .json();
    let shas: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["sha"].as_str().unwrap())
        .collect();
    assert_eq!(shas, [f.c2.to_string(), f.c1.to_string()]);
    let readme = f
        .get(&format!("/repos/{REPO}/commits?sha=side&path=README.md"))
        .json();
    assert_eq!(readme.as_array().unwrap().len(), 1);
}

#[test]
fn creating_an_existing_ref_is_422_reference_already_exists() {
    let f = fixture();
    let body = json!({"ref": "refs/tags/2026.08.3", "sha": f.c2.to_string()});
    let first = f.send("POST", &format!("/repos/{REPO}/git/refs"), &body);
    assert_eq!(first.status, 201);
    assert_eq!(first.json()["object"]["sha"], f.c2.to_string());
    assert_eq!(f.repo().refname_to_id("refs/tags/2026.08.3").unwrap(), f.c2);
    let second = f.send(
        "POST",
        &format!("/repos/{REPO}/git/refs"),
        &json!({"ref": "refs/tags/2026.08.3", "sha": f.c1.to_string()}),
    );
    assert_eq!(second.status, 422);
    assert_eq!(second.json()["message"], "Reference already exists");
    assert_eq!(
        f.repo().refname_to_id("refs/tags/2026.08.3").unwrap(),
        f.c2,
        "never moved"
    );
    let missing = f.send(
        "POST",
        &format!("/repos/{REPO}/git/refs"),
        &json!({"ref": "refs/tags/x", "sha": "0".repeat(40)}),
    );
    assert_eq!(missing.status, 422);
}

#[test]
fn a_second_release_for_a_tag_is_422_already_exists() {
    let f = fixture();
    let body = json!({"tag_name": "2026.08.3", "target_commitish": f.c2.to_string(), "name": "2026.08.3",
                      "body": "notes", "draft": false, "prerelease": false, "make_latest": "true"});
    let first = f.send("POST", &format!("/repos/{REPO}/releases"), &body);
    assert_eq!(first.status, 201);
    let release = first.json();
    assert_eq!(release["tag_name"], "2026.08.3");
    assert_eq!(release["target_commitish"], f.c2.to_string());
    assert!(release["id"].as_u64().is_some());
    assert_eq!(
        f.repo().refname_to_id("refs/tags/2026.08.3").unwrap(),
        f.c2,
        "the release created its tag"
    );
    let second = f.send("POST", &format!("/repos/{REPO}/releases"), &body);
    assert_eq!(second.status, 422);
    let v = second.json();
    assert_eq!(v["message"], "Validation Failed");
    assert_eq!(
        v["errors"],
        json!([{"resource": "Release", "code": "already_exists", "field": "tag_name"}])
    );
    assert_eq!(f.emu.releases(REPO).len(), 1);
    let by_tag = f.get(&format!("/repos/{REPO}/releases/tags/2026.08.3"));
    assert_eq!(by_tag.status, 200);
    assert_eq!(by_tag.json()["id"], release["id"]);
    assert_eq!(
        f.get(&format!("/repos/{REPO}/releases/tags/2026.08.4"))
            .status,
        404
    );
}

#[test]
fn a_release_target_must_be_a_branch_or_a_full_sha() {
    let f = fixture();
    for target in ["light", "refs/heads/master", "HEAD", &f.c2.to_string()[..7]] {
        let r = f.send(
            "POST",
            &format!("/repos/{REPO}/releases"),
            &json!({"tag_name": "2026.09.1", "target_commitish": target}),
        );
        assert_eq!(r.status, 422, "{target}");
        assert_eq!(
            r.json()["errors"][0],
            json!({"resource": "Release", "code": "invalid", "field": "target_commitish"})
        );
    }
    assert!(f.repo().find_reference("refs/tags/2026.09.1").is_err());
    let branch = f.send(
        "POST",
        &format!("/repos/{REPO}/releases"),
        &json!({"tag_name": "2026.09.1", "target_commitish": "side"}),
    );
    assert_eq!(branch.status, 201);
    assert_eq!(f.repo().refname_to_id("refs/tags/2026.09.1").unwrap(), f.s1);
}

#[test]
fn a_matching_etag_gives_304_without_spending_rate_limit() {
    let f = fixture();
    let path = format!("/repos/{REPO}/git/ref/heads/master");
    let first = f.get(&path);
    let etag = first.header("etag").unwrap().to_string();
    assert!(etag.starts_with("W/\""), "{etag}");
    let remaining = f.emu.rate_limit_remaining();
    let second = f.get_with(&path, &[("If-None-Match", &etag)]);
    assert_eq!(second.status, 304);
    assert!(second.body.is_empty());
    assert_eq!(f.emu.rate_limit_remaining(), remaining);
    assert_eq!(
        second.header("x-ratelimit-remaining").unwrap(),
        remaining.to_string()
    );
    let log = f.emu.requests();
    assert_eq!((log[1].status, log[1].counted), (304, false));
    // A change in the resource changes the ETag.
    f.put_workflow("new", Some(&blob_at(&f.repo(), f.c2, WORKFLOW)))
        .unwrap();
    let third = f.get_with(&path, &[("If-None-Match", &etag)]);
    assert_eq!(third.status, 200);
    assert_eq!(f.emu.rate_limit_remaining(), remaining - 2);
}

#[test]
fn every_response_carries_rate_limit_headers_and_exhaustion_gives_403() {
    let f = fixture();
    f.emu.set_rate_limit(2);
    let path = format!("/repos/{REPO}");
    let one = f.get(&path);
    assert_eq!(one.header("x-ratelimit-limit"), Some("2"));
    assert_eq!(one.header("x-ratelimit-remaining"), Some("1"));
    assert_eq!(one.header("x-ratelimit-used"), Some("1"));
    assert_eq!(one.header("x-ratelimit-resource"), Some("core"));
    let reset: i64 = one.header("x-ratelimit-reset").unwrap().parse().unwrap();
    assert!(reset > chrono::Utc::now().timestamp());
    assert_eq!(f.get(&path).status, 200);
    let limited = f.get(&path);
    assert_eq!(limited.status, 403);
    assert_eq!(limited.header("x-ratelimit-remaining"), Some("0"));
    assert!(
        limited.json()["message"]
            .as_str()
            .unwrap()
            .starts_with("API rate limit exceeded")
    );
    // GET /rate_limit is free.
    let rate = f.get("/rate_limit");
    assert_eq!(rate.status, 200);
    assert_eq!(rate.json()["resources"]["core"]["remaining"], 0);
    assert_eq!(rate.json()["rate"]["limit"], 2);
}

#[test]
fn an_injected_status_has_githubs_body_and_no_side_effect() {
    let f = fixture();
    f.emu.inject(Fault {
        method: Some("POST".into()),
        path_contains: "/releases".into(),
        kind: FaultKind::Status(502),
        times: 1,
    });
    let body = json!({"tag_name": "2026.08.3", "target_commitish": "master"});
    let failed = f.send("POST", &format!("/repos/{REPO}/releases"), &body);
    assert_eq!(failed.status, 502);
    assert!(
        failed
            .header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    assert!(f.emu.releases(REPO).is_empty());
    assert!(f.repo().find_reference("refs/tags/2026.08.3").is_err());
    // Only the next `times` matching requests fail.
    assert_eq!(
        f.send("POST", &format!("/repos/{REPO}/releases"), &body)
            .status,
        201
    );
    f.emu.inject(Fault {
        method: None,
        path_contains: "/git/ref/".into(),
        kind: FaultKind::Status(500),
        times: 2,
    });
    let path = format!("/repos/{REPO}/git/ref/heads/master");
    assert_eq!(f.get(&path).json()["message"], "Server Error");
    assert_eq!(f.get(&path).status, 500);
    assert_eq!(f.get(&path).status, 200);
}

#[test]
fn an_injected_secondary_rate_limit_carries_retry_after() {
    let f = fixture();
    f.emu.inject(Fault {
        method: None,
        path_contains: "/contents/".into(),
        kind: FaultKind::RateLimited {
            status: 429,
            retry_after_secs: Some(7),
        },
        times: 1,
    });
    let r = f
        .put_workflow("x", Some(&blob_at(&f.repo(), f.c2, WORKFLOW)))
        .unwrap();
    assert_eq!(r.status, 429);
    assert_eq!(r.header("retry-after"), Some("7"));
    assert!(
        r.json()["message"]
            .as_str()
            .unwrap()
            .starts_with("You have exceeded a secondary rate limit")
    );
    assert_ne!(r.header("x-ratelimit-remaining"), Some("0"));
    assert_eq!(f.master(), f.c2, "nothing written");
    f.emu.inject(Fault {
        method: Some("GET".into()),
        path_contains: "/repos/".into(),
        kind: FaultKind::RateLimited {
            status: 403,
            retry_after_secs: Some(1),
        },
        times: 1,
    });
    assert_eq!(f.get(&format!("/repos/{REPO}")).status, 403);
}

#[test]
fn a_dropped_connection_has_no_side_effect() {
    let f = fixture();
    f.emu.inject(Fault {
        method: Some("POST".into()),
        path_contains: "/git/refs".into(),
        kind: FaultKind::DropConnection,
        times: 1,
    });
    let result = f.try_send(
        "POST",
        &format!("/repos/{REPO}/git/refs"),
        &json!({"ref": "refs/tags/t1", "sha": f.c2.to_string()}),
    );
    assert!(result.is_err(), "the client got no response");
    assert!(f.repo().find_reference("refs/tags/t1").is_err());
    let log = f.emu.requests();
    assert!(log.last().unwrap().dropped);
    assert_eq!(log.last().unwrap().status, 0);
}

#[test]
fn a_lost_response_after_put_leaves_the_commit_in_place() {
    let f = fixture();
    f.emu.inject(Fault {
        method: Some("PUT".into()),
        path_contains: "/contents/".into(),
        kind: FaultKind::LoseResponse,
        times: 1,
    });
    let sha = blob_at(&f.repo(), f.c2, WORKFLOW);
    let result = f.put_workflow("env:\n  BE_IMAGE_TAG: 2026.08.3\n", Some(&sha));
    assert!(result.is_err(), "the client got no response");
    let tip = f.master();
    assert_ne!(
        tip, f.c2,
        "the commit was written although the response was lost"
    );
    assert_eq!(
        f.repo().find_commit(tip).unwrap().parent_id(0).unwrap(),
        f.c2
    );
    let logged = f.emu.requests().pop().unwrap();
    assert_eq!(
        (logged.status, logged.dropped, logged.counted),
        (200, true, true)
    );
    // Sending it again with the same blob SHA is a conflict, not a second commit.
    assert_eq!(
        f.put_workflow("env:\n  BE_IMAGE_TAG: 2026.08.3\n", Some(&sha))
            .unwrap()
            .status,
        409
    );
    assert_eq!(f.master(), tip);
}

#[test]
fn a_tag_created_through_the_api_completes_the_workflow_its_push_triggers() {
    let f = fixture();
    f.emu.succeed_on_tag_push(REPO, "build main");
    // Tags that were there before, or that someone writes to the repository directly, are not
    // pushes through the API: they trigger nothing.
    f.repo()
        .reference("refs/tags/direct", f.c1, false, "someone else")
        .unwrap();
    let created = f.send(
        "POST",
        &format!("/repos/{REPO}/git/refs"),
        &json!({"ref": "refs/tags/2026.08.3", "sha": f.c2.to_string()}),
    );
    assert_eq!(created.status, 201);
    let released = f.send(
        "POST",
        &format!("/repos/{REPO}/releases"),
        &json!({"tag_name": "2026.08.4", "target_commitish": f.c1.to_string()}),
    );
    assert_eq!(released.status, 201);
    let runs: Vec<(String, String, String, Option<String>)> = f
        .emu
        .runs(REPO)
        .into_iter()
        .map(|r| (r.name, r.head_sha, r.status, r.conclusion))
        .collect();
    let success = |commit: Oid| {
        (
            "build main".to_string(),
            commit.to_string(),
            "completed".to_string(),
            Some("success".to_string()),
        )
    };
    assert_eq!(runs, [success(f.c2), success(f.c1)]);
}

#[test]
fn an_action_before_a_request_runs_once_just_before_that_request_is_answered() {
    let f = fixture();
    let path = f.path.clone();
    f.emu.before_request("PUT", "/contents/", move || {
        // Someone else moves master on, so the write's blob is stale by the time it lands.
        let text = "env:\n  BE_IMAGE_TAG: 2026.08.9\n";
        push_to_stack(&path, &[(WORKFLOW, text)], "theirs");
    });
    let read = f.get(&format!("/repos/{REPO}/contents/{WORKFLOW}"));
    assert_eq!(read.status, 200, "a GET does not set the action off");
    let sha = blob_at(&f.repo(), f.c2, WORKFLOW);
    let stale = f.put_workflow("env:\n  BE_IMAGE_TAG: 2026.08.3\n", Some(&sha));
    assert_eq!(stale.unwrap().status, 409, "their push landed first");
    let theirs = f.master();
    let fresh = blob_at(&f.repo(), theirs, WORKFLOW);
    let again = f.put_workflow("env:\n  BE_IMAGE_TAG: 2026.08.3\n", Some(&fresh));
    assert_eq!(again.unwrap().status, 200, "the action ran only once");
    let repo = f.repo();
    let head = repo.find_commit(f.master()).unwrap();
    assert_eq!(
        head.parent_id(0).unwrap(),
        theirs,
        "the pin lands on theirs"
    );
}

#[test]
fn runs_are_filtered_by_head_sha() {
    let f = fixture();
    let a = f.emu.set_run(
        REPO,
        &f.c1.to_string(),
        "build main",
        "completed",
        Some("success"),
    );
    let b = f
        .emu
        .set_run(REPO, &f.c2.to_string(), "build main", "in_progress", None);
    assert_eq!(
        f.emu
            .set_run(REPO, &f.c2.to_string(), "build main", "queued", None),
        b,
        "same run updated in place"
    );
    let r = f.get(&format!(
        "/repos/{REPO}/actions/runs?head_sha={}&per_page=100",
        f.c2
    ));
    let v = r.json();
    assert_eq!(v["total_count"], 1);
    assert_eq!(v["workflow_runs"][0]["id"], b);
    assert_eq!(v["workflow_runs"][0]["status"], "queued");
    assert_eq!(v["workflow_runs"][0]["conclusion"], Value::Null);
    assert_eq!(
        v["workflow_runs"][0]["head_branch"], "annotated",
        "named after the tag at the commit"
    );
    assert!(f.emu.update_run(b, "completed", Some("failure")));
    let done = f
        .get(&format!("/repos/{REPO}/actions/runs?head_sha={}", f.c2))
        .json();
    assert_eq!(done["workflow_runs"][0]["conclusion"], "failure");
    let all = f.get(&format!("/repos/{REPO}/actions/runs")).json();
    assert_eq!(all["total_count"], 2);
    assert_eq!(all["workflow_runs"][0]["id"], b, "newest first");
    assert_eq!(all["workflow_runs"][1]["id"], a);
    let ok = f
        .get(&format!("/repos/{REPO}/actions/runs?status=success"))
        .json();
    assert_eq!(ok["total_count"], 1);
}

#[test]
fn deployments_and_statuses_are_recorded_newest_first() {
    let f = fixture();
    let create = |reference: &str| {
        f.send(
            "POST",
            &format!("/repos/{REPO}/deployments"),
            &json!({
                "ref": reference, "environment": "production", "description": "stack 2026.08.3",
                "payload": {"stack": "2026.08.3"}, "auto_merge": false, "required_contexts": [],
                "transient_environment": false, "production_environment": true,
            }),
        )
    };
    let first = create("light");
    assert_eq!(first.status, 201);
    let first = first.json();
    assert_eq!(first["sha"], f.c1.to_string());
    assert_eq!(first["ref"], "light");
    assert_eq!(first["payload"]["stack"], "2026.08.3");
    let second = create("master").json();
    assert_eq!(create("no-such-ref").status, 422);
    let id = second["id"].as_u64().unwrap();
    for state in ["in_progress", "success"] {
        let s = f.send("POST", &format!("/repos/{REPO}/deployments/{id}/statuses"),
            &json!({"state": state, "description": "awx job 7", "log_url": "https://awx.example.org/#/jobs/7", "environment_url": "https://fragalysis.example.org"}));
        assert_eq!(s.status, 201);
    }
    let bad = f.send(
        "POST",
        &format!("/repos/{REPO}/deployments/{id}/statuses"),
        &json!({"state": "done"}),
    );
    assert_eq!(bad.status, 422);
    let list = f
        .get(&format!(
            "/repos/{REPO}/deployments?environment=production&per_page=1"
        ))
        .json();
    assert_eq!(list[0]["id"], id, "newest first");
    let statuses = f
        .get(&format!("/repos/{REPO}/deployments/{id}/statuses"))
        .json();
    assert_eq!(statuses[0]["state"], "success");
    assert_eq!(statuses[1]["state"], "in_progress");
    assert_eq!(statuses[0]["log_url"], "https://awx.example.org/#/jobs/7");
    assert_eq!(f.emu.deployments(REPO)[1].statuses.len(), 2);
    assert_eq!(
        f.get(&format!("/repos/{REPO}/deployments/99999/statuses"))
            .status,
        404
    );
}

#[test]
fn issue_comments_are_created_and_edited_in_place() {
    let f = fixture();
    let number = f.emu.add_issue(REPO, "Release 2026.08.3", "the ticket");
    let issue = f.get(&format!("/repos/{REPO}/issues/{number}")).json();
    assert_eq!(issue["title"], "Release 2026.08.3");
    let created = f.send(
        "POST",
        &format!("/repos/{REPO}/issues/{number}/comments"),
        &json!({"body": "pinned"}),
    );
    assert_eq!(created.status, 201);
    let comment = created.json();
    let id = comment["id"].as_u64().unwrap();
    assert!(
        comment["html_url"]
            .as_str()
            .unwrap()
            .contains(&format!("#issuecomment-{id}"))
    );
    let edited = f.send(
        "PATCH",
        &format!("/repos/{REPO}/issues/comments/{id}"),
        &json!({"body": "tagged"}),
    );
    assert_eq!(edited.status, 200);
    assert_eq!(edited.json()["body"], "tagged");
    let comments = f
        .get(&format!("/repos/{REPO}/issues/{number}/comments"))
        .json();
    assert_eq!(comments.as_array().unwrap().len(), 1);
    assert_eq!(comments[0]["body"], "tagged");
    assert_eq!(f.emu.issues(REPO)[0].comments.len(), 1);
    assert_eq!(
        f.send(
            "PATCH",
            &format!("/repos/{REPO}/issues/comments/424242"),
            &json!({"body": "x"})
        )
        .status,
        404
    );
}

#[test]
fn issues_are_created_labelled_and_filtered() {
    let f = fixture();
    f.emu.add_collaborator(REPO, "alice");
    let created = f.send("POST", &format!("/repos/{REPO}/issues"),
        &json!({"title": "Release 2026.08.4", "body": "- #12", "labels": ["release"], "assignees": ["alice"]}));
    assert_eq!(created.status, 201);
    let number = created.json()["number"].as_u64().unwrap();
    let labels = f.send(
        "POST",
        &format!("/repos/{REPO}/issues/{number}/labels"),
        &json!({"labels": ["fragalysis-stack"]}),
    );
    assert_eq!(labels.status, 200);
    let labels = labels.json();
    let names: Vec<&str> = labels
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["release", "fragalysis-stack"]);
    f.emu.add_issue(REPO, "unrelated", "");
    let filtered = f
        .get(&format!(
            "/repos/{REPO}/issues?state=open&labels=fragalysis-stack"
        ))
        .json();
    assert_eq!(filtered.as_array().unwrap().len(), 1);
    assert_eq!(filtered[0]["number"], number);
    assert_eq!(filtered[0]["assignees"][0]["login"], "alice");
    let missing_title = f.send(
        "POST",
        &format!("/repos/{REPO}/issues"),
        &json!({"body": "x"}),
    );
    assert_eq!(missing_title.status, 422);
}

#[test]
fn secrets_and_variables_need_admin() {
    let f = fixture();
    f.emu.add_secret(REPO, "BE_IMAGE_TAG");
    f.emu.add_variable(REPO, "FE_IMAGE_TAG", "2026.08.2");
    let denied = f.get(&format!("/repos/{REPO}/actions/secrets"));
    assert_eq!(denied.status, 403);
    assert_eq!(
        denied.json()["message"],
        "Resource not accessible by integration"
    );
    f.emu.set_permissions(
        REPO,
        RepoPermissions {
            admin: true,
            push: true,
            pull: true,
        },
    );
    let secrets = f.get(&format!("/repos/{REPO}/actions/secrets")).json();
    assert_eq!(secrets["total_count"], 1);
    assert_eq!(secrets["secrets"][0]["name"], "BE_IMAGE_TAG");
    let variables = f.get(&format!("/repos/{REPO}/actions/variables")).json();
    assert_eq!(
        variables["variables"][0],
        json!({"name": "FE_IMAGE_TAG", "value": "2026.08.2",
        "created_at": variables["variables"][0]["created_at"], "updated_at": variables["variables"][0]["updated_at"]})
    );
}

#[test]
fn without_push_permission_writes_are_refused() {
    let f = fixture();
    f.emu.set_permissions(
        REPO,
        RepoPermissions {
            admin: false,
            push: false,
            pull: true,
        },
    );
    let r = f.send(
        "POST",
        &format!("/repos/{REPO}/git/refs"),
        &json!({"ref": "refs/tags/x", "sha": f.c2.to_string()}),
    );
    assert_eq!(r.status, 403);
    assert!(f.repo().find_reference("refs/tags/x").is_err());
    assert_eq!(
        f.get(&format!("/repos/{REPO}")).json()["permissions"]["push"],
        false
    );
}

#[test]
fn app_installation_token_flow() {
    let f = fixture();
    let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiIxIn0.c2ln";
    let install = to_reply(
        agent()
            .get(f.url(&format!("/repos/{REPO}/installation")))
            .header("Authorization", format!("Bearer {jwt}"))
            .call()
            .unwrap(),
    );
    assert_eq!(install.status, 200);
    let install = install.json();
    assert_eq!(install["account"]["login"], "xchem");
    let id = install["id"].as_u64().unwrap();
    // The App endpoints want a JWT, not a token.
    let with_token = f.get(&format!("/repos/{REPO}/installation"));
    assert_eq!(with_token.status, 401);
    let minted = to_reply(
        agent()
            .post(f.url(&format!("/app/installations/{id}/access_tokens")))
            .header("Authorization", format!("Bearer {jwt}"))
            .send_empty()
            .unwrap(),
    );
    assert_eq!(minted.status, 201);
    let token = minted.json()["token"].as_str().unwrap().to_string();
    assert!(token.starts_with("ghs_"));
    assert!(minted.json()["expires_at"].as_str().is_some());
    let as_installation = |path: &str| {
        to_reply(
            agent()
                .get(f.url(path))
                .header("Authorization", format!("token {token}"))
                .call()
                .unwrap(),
        )
    };
    assert_eq!(as_installation(&format!("/repos/{REPO}")).status, 200);
    // A JWT is not a repository credential.
    let jwt_on_repo = to_reply(
        agent()
            .get(f.url(&format!("/repos/{REPO}")))
            .header("Authorization", format!("Bearer {jwt}"))
            .call()
            .unwrap(),
    );
    assert_eq!(jwt_on_repo.status, 401);
    f.emu.expire_installation_tokens();
    assert_eq!(as_installation(&format!("/repos/{REPO}")).status, 401);
}

#[test]
fn malformed_requests_get_json_errors() {
    let f = fixture();
    let auth = format!("Bearer {TOKEN}");
    let garbage = to_reply(
        agent()
            .post(f.url(&format!("/repos/{REPO}/releases")))
            .header("Authorization", &auth)
            .send("{not json")
            .unwrap(),
    );
    assert_eq!(garbage.status, 400);
    assert_eq!(garbage.json()["message"], "Problems parsing JSON");
    let wrong_type = f.send(
        "POST",
        &format!("/repos/{REPO}/git/refs"),
        &json!({"ref": 5, "sha": "x"}),
    );
    assert_eq!(wrong_type.status, 422);
    let bad_base64 = f.send(
        "PUT",
        &format!("/repos/{REPO}/contents/a.txt"),
        &json!({"message": "m", "content": "@@@"}),
    );
    assert_eq!(bad_base64.status, 422);
    let no_message = f.send(
        "PUT",
        &format!("/repos/{REPO}/contents/a.txt"),
        &json!({"content": "aGk="}),
    );
    assert_eq!(
        no_message.json()["message"],
        "Invalid request.\n\n\"message\" wasn't supplied."
    );
    assert_eq!(
        f.get(&format!("/repos/{REPO}/issues/not-a-number")).status,
        404
    );
    assert_eq!(f.get(&format!("/repos/{REPO}/compare/nodots")).status, 404);
    assert_eq!(f.master(), f.c2);
}

#[test]
fn concurrent_puts_with_the_same_sha_make_exactly_one_commit() {
    let f = fixture();
    let sha = blob_at(&f.repo(), f.c2, WORKFLOW);
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|i| {
                let sha = sha.clone();
                let f = &f;
                scope.spawn(move || {
                    f.put_workflow(&format!("v{i}\n"), Some(&sha))
                        .unwrap()
                        .status
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        3,
        "{statuses:?}"
    );
    assert_eq!(
        f.repo()
            .find_commit(f.master())
            .unwrap()
            .parent_id(0)
            .unwrap(),
        f.c2
    );
}

/// The real client deserialises these bodies into octocrab's models; a missing required field
/// would surface there as `Error::Serde`, so check the shapes here.
#[test]
fn responses_deserialize_into_octocrab_models() {
    use octocrab::models;
    let f = fixture();
    f.emu.add_collaborator(REPO, "bob");
    fn parse<T: serde::de::DeserializeOwned>(what: &str, v: Value) -> T {
        serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{what}: {e}\n{v:#}"))
    }
    let _: models::Repository = parse("repo", f.get(&format!("/repos/{REPO}")).json());
    let _: models::repos::Ref = parse(
        "ref",
        f.get(&format!("/repos/{REPO}/git/ref/tags/annotated"))
            .json(),
    );
    let tag_sha = f
        .get(&format!("/repos/{REPO}/git/ref/tags/annotated"))
        .json()["object"]["sha"]
        .as_str()
        .unwrap()
        .to_string();
    let tag: models::repos::GitTag = parse(
        "tag",
        f.get(&format!("/repos/{REPO}/git/tags/{tag_sha}")).json(),
    );
    assert_eq!(tag.object.unwrap().sha, f.c2.to_string());
    let cmp: models::commits::CommitComparison = parse(
        "compare",
        f.get(&format!("/repos/{REPO}/compare/{}...master", f.c1))
            .json(),
    );
    assert!(matches!(
        cmp.status,
        models::commits::GithubCommitStatus::Ahead
    ));
    let content: models::repos::Content = parse(
        "content",
        f.get(&format!("/repos/{REPO}/contents/{WORKFLOW}")).json(),
    );
    assert_eq!(
        content.decoded_content().unwrap(),
        "env:\n  BE_IMAGE_TAG: 2026.08.2\n"
    );
    let _: Vec<models::repos::RepoCommit> = parse(
        "commits",
        f.get(&format!("/repos/{REPO}/commits?path={WORKFLOW}"))
            .json(),
    );
    let update = f.put_workflow("x\n", Some(&content.sha)).unwrap().json();
    let _: models::repos::FileUpdate = parse("file update", update);
    let release = f
        .send(
            "POST",
            &format!("/repos/{REPO}/releases"),
            &json!({"tag_name": "r1", "target_commitish": "master"}),
        )
        .json();
    let _: models::repos::Release = parse("release", release);
    f.emu.set_run(
        REPO,
        &f.c2.to_string(),
        "build main",
        "completed",
        Some("success"),
    );
    let runs = f.get(&format!("/repos/{REPO}/actions/runs")).json();
    let _: Vec<models::workflows::Run> = parse("runs", runs["workflow_runs"].clone());
    let deployment = f
        .send(
            "POST",
            &format!("/repos/{REPO}/deployments"),
            &json!({"ref": "master"}),
        )
        .json();
    let id = deployment["id"].as_u64().unwrap();
    let _: models::repos::Deployment = parse("deployment", deployment);
    let status = f
        .send(
            "POST",
            &format!("/repos/{REPO}/deployments/{id}/statuses"),
            &json!({"state": "success"}),
        )
        .json();
    let _: models::repos::DeploymentStatus = parse("deployment status", status);
    let issue = f
        .send(
            "POST",
            &format!("/repos/{REPO}/issues"),
            &json!({"title": "t", "labels": ["a"], "assignees": ["bob"]}),
        )
        .json();
    let number = issue["number"].as_u64().unwrap();
    let _: models::issues::Issue = parse("issue", issue);
    let comment = f
        .send(
            "POST",
            &format!("/repos/{REPO}/issues/{number}/comments"),
            &json!({"body": "b"}),
        )
        .json();
    let _: models::issues::Comment = parse("comment", comment);
    let labels = f
        .send(
            "POST",
            &format!("/repos/{REPO}/issues/{number}/labels"),
            &json!(["c"]),
        )
        .json();
    let _: Vec<models::Label> = parse("labels", labels);
    let _: models::RateLimit = parse("rate limit", f.get("/rate_limit").json());
    f.emu.set_permissions(
        REPO,
        RepoPermissions {
            admin: true,
            push: true,
            pull: true,
        },
    );
    f.emu.add_secret(REPO, "S");
    let _: models::repos::secrets::RepositorySecrets = parse(
        "secrets",
        f.get(&format!("/repos/{REPO}/actions/secrets")).json(),
    );
    let jwt = "a.b.c";
    let install = to_reply(
        agent()
            .get(f.url(&format!("/repos/{REPO}/installation")))
            .header("Authorization", format!("Bearer {jwt}"))
            .call()
            .unwrap(),
    )
    .json();
    let _: models::Installation = parse("installation", install);
    let token = to_reply(
        agent()
            .post(f.url("/app/installations/1/access_tokens"))
            .header("Authorization", format!("Bearer {jwt}"))
            .send_empty()
            .unwrap(),
    )
    .json();
    let _: models::InstallationToken = parse("installation token", token);
}

/// The real client against the emulator: the routes, bodies and error mapping octocrab uses
/// (including its ETag cache getting a 304, and `update_comment` sending POST, which GitHub
/// accepts for its PATCH endpoints).
#[test]
fn octocrab_round_trip() {
    use octocrab::params::repos::Reference;
    let f = fixture();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let octo = octocrab::Octocrab::builder()
            .base_uri(f.emu.url())
            .unwrap()
            .personal_token(TOKEN.to_string())
            .add_retry_config(octocrab::service::middleware::retry::RetryConfig::None)
            .cache(octocrab::service::middleware::cache::mem::InMemoryCache::default())
            .build()
            .unwrap();
        let repos = octo.repos("xchem", "fragalysis-stack");
        for _ in 0..2 {
            let tag = repos
                .get_ref(&Reference::Tag("annotated".into()))
                .await
                .unwrap();
            assert!(matches!(
                tag.object,
                octocrab::models::repos::Object::Tag { .. }
            ));
        }
        let comparison = octo
            .commits("xchem", "fragalysis-stack")
            .compare(f.c1.to_string(), "master")
            .per_page(1u8)
            .send()
            .await
            .unwrap();
        assert_eq!(comparison.behind_by, 0);
        let mut items = repos
            .get_content()
            .path(WORKFLOW)
            .r#ref("master")
            .send()
            .await
            .unwrap();
        let item = items.take_items().remove(0);
        let update = repos
            .update_file(WORKFLOW, "pin", "env: {}\n", &item.sha)
            .branch("master")
            .send()
            .await
            .unwrap();
        let pin = update.commit.sha.unwrap();
        let github_error = |e: octocrab::Error| match e {
            octocrab::Error::GitHub { source, .. } => (source.status_code.as_u16(), source.message),
            other => panic!("{other:?}"),
        };
        let stale = repos
            .update_file(WORKFLOW, "pin", "x", &item.sha)
            .branch("master")
            .send()
            .await
            .unwrap_err();
        assert_eq!(
            github_error(stale),
            (409, format!("{WORKFLOW} does not match {}", item.sha))
        );
        repos
            .create_ref(&Reference::Tag("2026.08.3".into()), pin.clone())
            .await
            .unwrap();
        let again = repos
            .create_ref(&Reference::Tag("2026.08.3".into()), pin.clone())
            .await
            .unwrap_err();
        assert_eq!(
            github_error(again),
            (422, "Reference already exists".to_string())
        );
        let release = repos
            .releases()
            .create("2026.08.3")
            .target_commitish(&pin)
            .send()
            .await
            .unwrap();
        assert_eq!(
            repos.releases().get_by_tag("2026.08.3").await.unwrap().id,
            release.id
        );
        let number = f.emu.add_issue(REPO, "Release 2026.08.3", "");
        let issues = octo.issues("xchem", "fragalysis-stack");
        let comment = issues.create_comment(number, "pinned").await.unwrap();
        let edited = issues.update_comment(comment.id, "tagged").await.unwrap();
        assert_eq!(edited.body.as_deref(), Some("tagged"));
    });
    let log = f.emu.requests();
    assert_eq!(
        (log[1].status, log[1].counted),
        (304, false),
        "octocrab's cache revalidated"
    );
    assert_eq!(f.emu.issues(REPO)[0].comments.len(), 1);
}

// --- GitHub as its description and its refusals say -------------------------------------------

fn workflow_blob(f: &Fixture) -> String {
    f.get(&format!("/repos/{REPO}/contents/{WORKFLOW}")).json()["sha"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn a_workflow_write_without_the_workflow_scope_is_a_bare_404_and_writes_nothing() {
    let f = fixture();
    let blob = workflow_blob(&f);
    f.emu.set_scopes(&["repo"]);
    let reply = f
        .put_workflow("env:\n  BE_IMAGE_TAG: 2026.08.3\n", Some(&blob))
        .unwrap();
    assert_eq!(reply.status, 404);
    assert_eq!(reply.json()["message"], "Not Found");
    assert_eq!(f.master(), f.c2);
    // Other files are written with `repo` alone; the scopes are on every answer.
    let readme = f.send(
        "PUT",
        &format!("/repos/{REPO}/contents/README.md"),
        &json!({"message": "docs", "content": STANDARD.encode("hi\n"), "branch": "master"}),
    );
    assert_eq!(readme.status, 201);
    assert_eq!(readme.header("x-oauth-scopes"), Some("repo"));
}

#[test]
fn an_app_without_workflows_write_is_refused_403_on_workflow_files() {
    let f = fixture();
    let blob = workflow_blob(&f);
    let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiIxIn0.c2ln";
    f.emu.set_installation_permission("workflows", None);
    let installation = to_reply(
        agent()
            .get(f.url("/app/installations/1"))
            .header("Authorization", format!("Bearer {jwt}"))
            .call()
            .unwrap(),
    );
    assert_eq!(installation.status, 200);
    assert!(
        installation.json()["permissions"]
            .get("workflows")
            .is_none()
    );
    let minted = to_reply(
        agent()
            .post(f.url("/app/installations/1/access_tokens"))
            .header("Authorization", format!("Bearer {jwt}"))
            .send_empty()
            .unwrap(),
    );
    let token = minted.json()["token"].as_str().unwrap().to_string();
    let put = to_reply(
        agent()
            .put(f.url(&format!("/repos/{REPO}/contents/{WORKFLOW}")))
            .header("Authorization", format!("token {token}"))
            .send_json(json!({"message": "pin", "content": STANDARD.encode("x"), "sha": blob, "branch": "master"}))
            .unwrap(),
    );
    assert_eq!(put.status, 403);
    assert_eq!(
        put.json()["message"],
        "Resource not accessible by integration"
    );
    assert_eq!(f.master(), f.c2);
}

#[test]
fn the_actions_token_writes_no_workflow_file_and_its_tags_start_no_workflow() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stack.git");
    let repo = Repository::init_bare(&path).unwrap();
    let c1 = commit_file(&repo, None, WORKFLOW, "on: push\n", "first");
    repo.reference("refs/heads/main", c1, true, "test").unwrap();
    let token = "ghs_ActionsToken000000000000000000000";
    let emu = GithubEmulator::start(token).unwrap();
    emu.add_repo(REPO, &path).unwrap();
    emu.succeed_on_tag_push(REPO, "build main");
    let auth = format!("Bearer {token}");
    let put = to_reply(
        agent()
            .put(format!("{}/repos/{REPO}/contents/{WORKFLOW}", emu.url()))
            .header("Authorization", &auth)
            .send_json(json!({"message": "pin", "content": STANDARD.encode("x"), "branch": "main"}))
            .unwrap(),
    );
    assert_eq!(put.status, 403);
    assert!(put.headers.iter().all(|(name, _)| name != "x-oauth-scopes"));
    let tag = to_reply(
        agent()
            .post(format!("{}/repos/{REPO}/git/refs", emu.url()))
            .header("Authorization", &auth)
            .send_json(json!({"ref": "refs/tags/2026.08.3", "sha": c1.to_string()}))
            .unwrap(),
    );
    assert_eq!(tag.status, 201);
    assert!(
        emu.runs(REPO).is_empty(),
        "a tag the Actions token pushed starts nothing"
    );
}

#[test]
fn a_renamed_repository_redirects_reads_with_301_and_writes_with_307() {
    let f = fixture();
    f.emu.rename(REPO, "xchem/stack-renamed");
    let no_redirects: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();
    let read = to_reply(
        no_redirects
            .get(f.url(&format!("/repos/{REPO}/git/ref/heads/master")))
            .header("Authorization", format!("Bearer {TOKEN}"))
            .call()
            .unwrap(),
    );
    assert_eq!(read.status, 301);
    let location = read.header("location").unwrap().to_string();
    assert!(location.ends_with("/git/ref/heads/master"), "{location}");
    assert_eq!(read.json()["message"], "Moved Permanently");
    let write = to_reply(
        no_redirects
            .post(f.url(&format!("/repos/{REPO}/git/refs")))
            .header("Authorization", format!("Bearer {TOKEN}"))
            .send_json(json!({"ref": "refs/tags/x", "sha": f.c1.to_string()}))
            .unwrap(),
    );
    assert_eq!(write.status, 307);
    assert!(
        f.repo().find_reference("refs/tags/x").is_err(),
        "nothing written"
    );
    // Where it points answers as the repository does, under its new name.
    let repo_location = read
        .header("location")
        .unwrap()
        .strip_prefix(&f.emu.url())
        .unwrap()
        .replace("/git/ref/heads/master", "");
    let followed = f.get(&repo_location);
    assert_eq!(followed.status, 200);
    assert_eq!(followed.json()["full_name"], "xchem/stack-renamed");
}

#[test]
fn variables_come_thirty_a_page_at_most_with_githubs_link_header() {
    let f = fixture();
    f.emu.set_permissions(
        REPO,
        RepoPermissions {
            admin: true,
            push: true,
            pull: true,
        },
    );
    for n in 0..31 {
        f.emu.add_variable(REPO, &format!("V{n:02}"), "x");
    }
    let first = f.get(&format!("/repos/{REPO}/actions/variables?per_page=100"));
    assert_eq!(first.json()["variables"].as_array().unwrap().len(), 30);
    assert_eq!(first.json()["total_count"], 31);
    let link = first.header("link").unwrap();
    assert!(link.contains("page=2>; rel=\"next\""), "{link}");
    assert!(link.contains("rel=\"last\""), "{link}");
}

#[test]
fn a_deployment_status_description_over_140_characters_is_422() {
    let f = fixture();
    let created = f.send(
        "POST",
        &format!("/repos/{REPO}/deployments"),
        &json!({"ref": "master", "required_contexts": []}),
    );
    let id = created.json()["id"].as_u64().unwrap();
    let long = "x".repeat(141);
    let reply = f.send(
        "POST",
        &format!("/repos/{REPO}/deployments/{id}/statuses"),
        &json!({"state": "success", "description": long}),
    );
    assert_eq!(reply.status, 422);
    assert_eq!(reply.json()["message"], "Validation Failed");
    assert!(f.emu.deployments(REPO)[0].statuses.is_empty());
    let fits = f.send(
        "POST",
        &format!("/repos/{REPO}/deployments/{id}/statuses"),
        &json!({"state": "success", "description": "x".repeat(140)}),
    );
    assert_eq!(fits.status, 201);
}

#[test]
fn adding_no_labels_is_422() {
    let f = fixture();
    let number = f.emu.add_issue(REPO, "Release", "");
    let reply = f.send(
        "POST",
        &format!("/repos/{REPO}/issues/{number}/labels"),
        &json!({"labels": []}),
    );
    assert_eq!(reply.status, 422);
}

#[test]
fn a_comparison_whose_diff_is_too_long_is_503_with_githubs_message() {
    let f = fixture();
    f.emu.set_diff_limit(0);
    let reply = f.get(&format!("/repos/{REPO}/compare/{}...{}", f.c1, f.c2));
    assert_eq!(reply.status, 503);
    assert!(
        reply.json()["message"]
            .as_str()
            .unwrap()
            .contains("taking too long")
    );
    // No diff, no refusal: the head is the merge base.
    let reverse = f.get(&format!("/repos/{REPO}/compare/{}...{}", f.c2, f.c1));
    assert_eq!(reverse.status, 200);
    assert_eq!(reverse.json()["status"], "behind");
}

#[test]
fn a_secondary_limit_can_come_without_retry_after() {
    let f = fixture();
    f.emu.inject(Fault {
        method: Some("GET".into()),
        path_contains: "/git/".into(),
        kind: FaultKind::RateLimited {
            status: 403,
            retry_after_secs: None,
        },
        times: 1,
    });
    let reply = f.get(&format!("/repos/{REPO}/git/ref/heads/master"));
    assert_eq!(reply.status, 403);
    assert!(reply.header("retry-after").is_none());
    assert!(
        reply.json()["message"]
            .as_str()
            .unwrap()
            .contains("secondary rate limit")
    );
}

#[test]
fn an_answer_unlike_githubs_description_is_reported() {
    let wrong = testkit::openapi::check(
        "GET",
        "/repos/o/r",
        200,
        br#"{"id": 1, "name": "r", "full_name": "o/r"}"#,
    )
    .unwrap();
    assert!(wrong.contains("GET /repos/{owner}/{repo} 200"), "{wrong}");
    assert!(wrong.contains("required"), "{wrong}");
    let f = fixture();
    let repo = f.get(&format!("/repos/{REPO}"));
    assert_eq!(
        testkit::openapi::check("GET", &format!("/repos/{REPO}"), 200, repo.body.as_bytes()),
        None
    );
    assert!(f.emu.schema_violations().is_empty());
}

#[test]
fn new_answers_deserialize_into_octocrab_models() {
    use octocrab::models;
    let f = fixture();
    let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiIxIn0.c2ln";
    let installation = to_reply(
        agent()
            .get(f.url("/app/installations/1"))
            .header("Authorization", format!("Bearer {jwt}"))
            .call()
            .unwrap(),
    );
    let installation: models::Installation = serde_json::from_str(&installation.body).unwrap();
    assert_eq!(installation.id, models::InstallationId(1));
    let repo: models::Repository =
        serde_json::from_str(&f.get(&format!("/repos/{REPO}")).body).unwrap();
    assert_eq!(repo.full_name.as_deref(), Some(REPO));
    assert!(repo.clone_url.is_some() && repo.forks_count.is_some());
    f.send(
        "POST",
        &format!("/repos/{REPO}/deployments"),
        &json!({"ref": "master", "required_contexts": []}),
    );
    let listed: Vec<models::repos::Deployment> =
        serde_json::from_str(&f.get(&format!("/repos/{REPO}/deployments")).body).unwrap();
    assert_eq!(listed.len(), 1);
}
