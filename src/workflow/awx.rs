//! What a workflow deploys: the steps that launch an AWX job template through InformaticsMatters'
//! `trigger-awx-action` (any version), with the template they name and whether a failed launch
//! can still leave the run green.
//!
//! The stack's `build main` launches "Production Fragalysis Stack" itself for every `N.N.N` tag,
//! with `continue-on-error: true`. stackrel reads these launches so that it neither launches a
//! second deploy nor takes a green run for a successful one. Older files read the template's
//! name from `env:` or from secrets: `${{ env.NAME }}` is resolved where the file says what it
//! is; any other expression is kept as written.

use std::collections::HashMap;

use saphyr::{MarkedYaml, YamlData};

use super::yaml::{as_mapping, entries, get, is_null, location, text, wrong_shape};
use super::{Location, WorkflowError};

/// One step that launches an AWX job template through InformaticsMatters'
/// `trigger-awx-action`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwxLaunch {
    /// The job's id, the key under `jobs:` (`deploy-production`).
    pub job: String,
    /// The step's `name`, or its `id` when it has no name.
    pub step: Option<String>,
    /// The action's version after `@`: `v1`, `v3`, a commit SHA.
    pub action_version: String,
    /// `with.template`: which AWX job template it launches. `None` when the step omits it.
    pub template: Option<TemplateName>,
    /// `with.template-var`: the extra variable the version is passed in (`stack_image_tag`).
    pub template_var: Option<String>,
    /// `with.template-var-value`, as written (`${{ needs.build.outputs.tag }}`).
    pub template_var_value: Option<String>,
    /// The job's `continue-on-error`.
    pub job_continue_on_error: ContinueOnError,
    /// The step's `continue-on-error`.
    pub step_continue_on_error: ContinueOnError,
    /// The job's `if:` condition, as written.
    pub job_condition: Option<String>,
    /// The step's `if:` condition, as written.
    pub step_condition: Option<String>,
    /// Where the step starts in the file.
    pub location: Location,
}

/// The AWX job template a launch names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateName {
    /// Written in the file: `template: Production Fragalysis Stack`.
    Literal(String),
    /// `${{ env.NAME }}`, whose value the step's, job's or workflow's `env:` gives.
    FromEnv { variable: String, value: String },
    /// An expression this module cannot evaluate, as written (`${{ secrets.AWX_TEMPLATE }}`).
    Expression(String),
}

/// A job's or step's `continue-on-error`: whether its failure still lets the run succeed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ContinueOnError {
    /// Absent or `false`: a failure fails the run.
    #[default]
    No,
    /// `true`: a failure still shows green.
    Yes,
    /// An expression decided at run time, as written.
    Expression(String),
}

impl AwxLaunch {
    /// Whether a failed launch can still leave the run green: the job or the step continues
    /// on error, or may, depending on an expression.
    pub fn may_hide_failure(&self) -> bool {
        self.job_continue_on_error != ContinueOnError::No
            || self.step_continue_on_error != ContinueOnError::No
    }
}

impl TemplateName {
    /// The template's name when the file determines it.
    pub fn known(&self) -> Option<&str> {
        match self {
            TemplateName::Literal(name) | TemplateName::FromEnv { value: name, .. } => Some(name),
            TemplateName::Expression(_) => None,
        }
    }
}

/// The action that launches AWX job templates, compared without regard to case as GitHub
/// compares owners and repositories.
const AWX_ACTION: &str = "informaticsmatters/trigger-awx-action";

/// Variables of an `env:` mapping whose values are written as text, by name.
pub(super) type Env = HashMap<String, String>;

pub(super) fn read_env(node: Option<&MarkedYaml>) -> Env {
    // An `env:` that is not a mapping (an expression, say) gives nothing to resolve against.
    let Some(YamlData::Mapping(env)) = node.map(|node| &node.data) else {
        return Env::new();
    };
    entries(env)
        .filter_map(|(name, value)| Some((name.to_owned(), text(value)?.to_owned())))
        .collect()
}

pub(super) fn read_jobs(
    jobs: Option<&MarkedYaml>,
    workflow_env: &Env,
) -> Result<Vec<AwxLaunch>, WorkflowError> {
    let Some(jobs) = jobs.filter(|node| !is_null(node)) else {
        return Ok(Vec::new());
    };
    let mut launches = Vec::new();
    for (job_id, job) in entries(as_mapping(jobs, "jobs")?) {
        let key = format!("jobs.{job_id}");
        let job_mapping = as_mapping(job, &key)?;
        let Some(steps) = get(job_mapping, "steps").filter(|node| !is_null(node)) else {
            continue;
        };
        let YamlData::Sequence(steps) = &steps.data else {
            return Err(wrong_shape(
                &format!("{key}.steps"),
                "a list of steps",
                steps,
            ));
        };
        let scope = JobScope {
            id: job_id,
            env: read_env(get(job_mapping, "env")),
            workflow_env,
            continue_on_error: continue_on_error(get(job_mapping, "continue-on-error")),
            condition: condition(get(job_mapping, "if")),
        };
        for step in steps {
            if let Some(launch) = read_step(&scope, step)? {
                launches.push(launch);
            }
        }
    }
    Ok(launches)
}

/// What a step inherits from its job, read once per job.
struct JobScope<'j> {
    id: &'j str,
    env: Env,
    workflow_env: &'j Env,
    continue_on_error: ContinueOnError,
    condition: Option<String>,
}

/// The step as an AWX launch, or `None` when it uses another action or runs a command.
fn read_step(scope: &JobScope, step: &MarkedYaml) -> Result<Option<AwxLaunch>, WorkflowError> {
    let key = format!("jobs.{}.steps", scope.id);
    let step_mapping = as_mapping(step, &key)?;
    let Some((action, version)) = get(step_mapping, "uses")
        .and_then(text)
        .and_then(split_uses)
    else {
        return Ok(None);
    };
    if !action.eq_ignore_ascii_case(AWX_ACTION) {
        return Ok(None);
    }
    let inputs = match get(step_mapping, "with").filter(|node| !is_null(node)) {
        Some(with) => Some(as_mapping(with, &format!("{key}.with"))?),
        None => None,
    };
    let input = |name| inputs.and_then(|with| get(with, name)).and_then(text);
    let step_env = read_env(get(step_mapping, "env"));
    let envs = [&step_env, &scope.env, scope.workflow_env];
    let step_name = get(step_mapping, "name").or_else(|| get(step_mapping, "id"));
    Ok(Some(AwxLaunch {
        job: scope.id.to_owned(),
        step: step_name.and_then(text).map(|name| name.trim().to_owned()),
        action_version: version.to_owned(),
        template: input("template").map(|written| template_name(written, &envs)),
        template_var: input("template-var").map(|v| v.trim().to_owned()),
        template_var_value: input("template-var-value").map(|v| v.trim().to_owned()),
        job_continue_on_error: scope.continue_on_error.clone(),
        step_continue_on_error: continue_on_error(get(step_mapping, "continue-on-error")),
        job_condition: scope.condition.clone(),
        step_condition: condition(get(step_mapping, "if")),
        location: location(step),
    }))
}

/// `owner/repo@version` into its two halves; `None` for local (`./…`) and `docker://` uses.
fn split_uses(uses: &str) -> Option<(&str, &str)> {
    let (action, version) = uses.trim().split_once('@')?;
    Some((action, version))
}

/// The template a launch names, resolving `${{ env.NAME }}` from the closest `env:` that
/// defines it (step, then job, then workflow), as GitHub's precedence has it.
fn template_name(written: &str, envs: &[&Env]) -> TemplateName {
    let written = written.trim();
    if !written.contains("${{") {
        return TemplateName::Literal(written.to_owned());
    }
    let resolved = env_reference(written).and_then(|variable| {
        let value = envs.iter().find_map(|env| env.get(variable))?.trim();
        (!value.contains("${{")).then(|| TemplateName::FromEnv {
            variable: variable.to_owned(),
            value: value.to_owned(),
        })
    });
    resolved.unwrap_or_else(|| TemplateName::Expression(written.to_owned()))
}

/// `NAME` when `written` is exactly one `${{ env.NAME }}` expression.
fn env_reference(written: &str) -> Option<&str> {
    let inner = written.strip_prefix("${{")?.strip_suffix("}}")?.trim();
    let variable = inner.strip_prefix("env.")?;
    let valid = !variable.is_empty()
        && !variable.starts_with(|c: char| c.is_ascii_digit())
        && variable
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    valid.then_some(variable)
}

fn continue_on_error(node: Option<&MarkedYaml>) -> ContinueOnError {
    match node.and_then(text).map(str::trim) {
        None => ContinueOnError::No,
        Some(value) if value.eq_ignore_ascii_case("true") => ContinueOnError::Yes,
        Some(value) if value.eq_ignore_ascii_case("false") => ContinueOnError::No,
        Some(expression) => ContinueOnError::Expression(expression.to_owned()),
    }
}

fn condition(node: Option<&MarkedYaml>) -> Option<String> {
    node.and_then(text)
        .map(|condition| condition.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workflow::Workflow;
    use crate::workflow::tests::{fixture, fixture_dir, workflow_fixtures};

    fn launches_of(text: &str) -> Vec<AwxLaunch> {
        let workflow = Workflow::parse(text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        workflow.awx_launches().to_vec()
    }

    const DEPLOY: &str = "\
name: build main
on: push
env:
  AWX_PRODUCTION_TEMPLATE: Production From Env
  SHADOWED: workflow
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
    - uses: actions/checkout@v4
    - run: echo hi
  deploy-production:
    needs: build
    if: |
      needs.build.outputs.production_tag == 'true'
    continue-on-error: ${{ github.ref_type == 'tag' }}
    env:
      SHADOWED: job
    steps:
    - name: Deploy production
      id: deploy_production
      uses: InformaticsMatters/trigger-awx-action@v3
      with:
        template: Production Fragalysis Stack
        template-var: stack_image_tag
        template-var-value: ${{ needs.build.outputs.tag }}
      continue-on-error: true
    - uses: informaticsmatters/trigger-awx-action@0123456789abcdef0123456789abcdef01234567
      if: always()
      with:
        template: ${{ env.AWX_PRODUCTION_TEMPLATE }}
    - uses: informaticsmatters/trigger-awx-action@v1
      env:
        SHADOWED: step
      with:
        template: ${{ env.SHADOWED }}
    - uses: informaticsmatters/trigger-awx-action@v1
      with:
        template: ${{ secrets.AWX_TEMPLATE }}
    - uses: informaticsmatters/trigger-awx-action-fork@v1
      with:
        template: Not AWX
    - uses: informaticsmatters/trigger-awx-action@v1
";

    fn launches() -> Vec<AwxLaunch> {
        launches_of(DEPLOY)
    }

    #[test]
    fn a_launch_reports_its_job_step_template_and_variable() {
        let launch = &launches()[0];
        assert_eq!(launch.job, "deploy-production");
        assert_eq!(launch.step.as_deref(), Some("Deploy production"));
        assert_eq!(launch.action_version, "v3");
        assert_eq!(
            launch.template,
            Some(TemplateName::Literal(
                "Production Fragalysis Stack".to_owned()
            ))
        );
        assert_eq!(launch.template_var.as_deref(), Some("stack_image_tag"));
        assert_eq!(
            launch.template_var_value.as_deref(),
            Some("${{ needs.build.outputs.tag }}")
        );
        assert_eq!(
            launch.location,
            Location {
                line: 20,
                column: 7
            }
        );
    }

    #[test]
    fn a_launch_reports_continue_on_error_and_conditions_of_job_and_step() {
        let all = launches();
        assert_eq!(all[0].step_continue_on_error, ContinueOnError::Yes);
        assert_eq!(
            all[0].job_continue_on_error,
            ContinueOnError::Expression("${{ github.ref_type == 'tag' }}".to_owned())
        );
        assert_eq!(
            all[0].job_condition.as_deref(),
            Some("needs.build.outputs.production_tag == 'true'")
        );
        assert_eq!(all[0].step_condition, None);
        assert_eq!(all[1].step_condition.as_deref(), Some("always()"));
        assert_eq!(all[1].step_continue_on_error, ContinueOnError::No);
        assert!(
            all[1].may_hide_failure(),
            "the job's expression may hide it"
        );
    }

    #[test]
    fn a_launch_of_any_version_is_found_whatever_the_owner_case() {
        let versions: Vec<String> = launches().into_iter().map(|l| l.action_version).collect();
        assert_eq!(
            versions,
            [
                "v3",
                "0123456789abcdef0123456789abcdef01234567",
                "v1",
                "v1",
                "v1"
            ]
        );
    }

    #[test]
    fn a_template_read_from_env_is_resolved_from_the_closest_env() {
        let all = launches();
        assert_eq!(
            all[1].template,
            Some(TemplateName::FromEnv {
                variable: "AWX_PRODUCTION_TEMPLATE".to_owned(),
                value: "Production From Env".to_owned()
            })
        );
        assert_eq!(
            all[2].template.as_ref().and_then(TemplateName::known),
            Some("step")
        );
    }

    #[test]
    fn a_template_from_secrets_is_kept_as_written() {
        assert_eq!(
            launches()[3].template,
            Some(TemplateName::Expression(
                "${{ secrets.AWX_TEMPLATE }}".to_owned()
            ))
        );
    }

    #[test]
    fn a_template_naming_an_undefined_env_variable_is_kept_as_written() {
        assert_eq!(
            template_name("${{ env.NOWHERE }}", &[]),
            TemplateName::Expression("${{ env.NOWHERE }}".to_owned())
        );
        assert_eq!(
            template_name(
                "Prod ${{ env.X }}",
                &[&Env::from([("X".into(), "y".into())])]
            ),
            TemplateName::Expression("Prod ${{ env.X }}".to_owned())
        );
    }

    #[test]
    fn a_launch_without_inputs_has_no_template() {
        let all = launches();
        assert_eq!(all.len(), 5, "the fork action is not the AWX action");
        assert_eq!(all[4].template, None);
        assert_eq!(all[4].step, None);
    }

    #[test]
    fn a_workflow_without_jobs_launches_nothing() {
        assert!(launches_of("on: push\n").is_empty());
        let reusable = "on: push\njobs:\n  x:\n    uses: ./.github/workflows/y.yaml\n";
        assert!(launches_of(reusable).is_empty());
    }

    #[test]
    fn steps_that_are_not_a_list_are_an_error_naming_the_job() {
        let error = Workflow::parse("on: push\njobs:\n  build:\n    steps: run\n").unwrap_err();
        assert!(error.to_string().contains("`jobs.build.steps`"), "{error}");
    }

    #[test]
    fn many_launches_in_a_job_of_many_keys_are_read_in_bounded_time() {
        let mut text = "on: push\nenv:\n".to_owned();
        for i in 0..10_000 {
            text.push_str(&format!("  V{i}: x\n"));
        }
        text.push_str("jobs:\n  deploy:\n");
        for i in 0..10_000 {
            text.push_str(&format!("    k{i}: v\n"));
        }
        text.push_str("    steps:\n");
        let step = "    - uses: informaticsmatters/trigger-awx-action@v1\n      \
                    with: {template: '${{ env.V9999 }}'}\n";
        while text.len() + step.len() < crate::workflow::MAX_FILE_BYTES {
            text.push_str(step);
        }
        let started = std::time::Instant::now();
        let launches = launches_of(&text);
        assert!(started.elapsed().as_secs() < 10, "{:?}", started.elapsed());
        assert!(launches.len() > 5_000, "{}", launches.len());
        assert_eq!(
            launches[0].template.as_ref().and_then(TemplateName::known),
            Some("x")
        );
    }

    // The real Fragalysis workflow files.

    /// One AWX launch as (job, template, whether its step continues on error). A template read
    /// from `env:` is written `env.NAME = value`; an expression, as the file writes it.
    type Launch = (&'static str, &'static str, bool);

    const DEVELOPER: Launch = (
        "deploy-developer",
        "${{ secrets.AWX_TEMPLATE_NAME }}",
        false,
    );
    const STAGING_VERSION_CHANGE: Launch = (
        "deploy-staging",
        "Staging Fragalysis Stack (Version Change)",
        false,
    );
    const PRODUCTION_VERSION_CHANGE: Launch = (
        "deploy-production",
        "Production Fragalysis Stack (Version Change)",
        false,
    );

    /// The launches of each stack workflow fixture, by commit, read from the files by hand.
    const LAUNCHES: &[(&str, &[Launch])] = &[
        (
            "fb9465a",
            &[
                ("deploy-staging", "${{ secrets.AWX_TEMPLATE }}", false),
                ("deploy-production", "${{ secrets.AWX_TEMPLATE }}", false),
            ],
        ),
        (
            "9f96c31",
            &[("deploy", "${{ secrets.AWX_TEMPLATE }}", false)],
        ),
        (
            "596d1c3",
            &[
                (
                    "deploy-staging",
                    "env.AWX_STAGING_TEMPLATE = Staging Fragalysis Stack (Version Change)",
                    false,
                ),
                (
                    "deploy-production",
                    "env.AWX_PRODUCTION_TEMPLATE = Production Fragalysis Stack (Version Change)",
                    false,
                ),
            ],
        ),
        ("29302d5", &[PRODUCTION_VERSION_CHANGE, DEVELOPER]),
        ("23ed257", &[PRODUCTION_VERSION_CHANGE, DEVELOPER]),
        (
            "9e29783",
            &[STAGING_VERSION_CHANGE, PRODUCTION_VERSION_CHANGE, DEVELOPER],
        ),
        (
            "7f96c52",
            &[
                (
                    "deploy-staging",
                    "Staging Fragalysis/2 Stack (Version Change)",
                    false,
                ),
                (
                    "deploy-production",
                    "Production Fragalysis/2 Stack (Version Change)",
                    false,
                ),
                DEVELOPER,
            ],
        ),
        (
            "e782fc5",
            &[STAGING_VERSION_CHANGE, PRODUCTION_VERSION_CHANGE, DEVELOPER],
        ),
        (
            "dfdf486",
            &[STAGING_VERSION_CHANGE, PRODUCTION_VERSION_CHANGE, DEVELOPER],
        ),
        ("57d0fa1", &renamed(false)),
        ("ba53dc2", &[]),
        ("2155d35", &renamed(true)),
        ("2ec7f8f", &renamed(true)),
        ("4b58f27", &renamed(true)),
        ("9d17fc8", &renamed(true)),
        ("005a791", &renamed(true)),
    ];

    /// The launches once the templates were renamed (57d0fa1), continuing on error or not.
    const fn renamed(continues: bool) -> [Launch; 3] {
        [
            ("deploy-staging", "Staging Fragalysis Stack", continues),
            (
                "deploy-production",
                "Production Fragalysis Stack",
                continues,
            ),
            DEVELOPER,
        ]
    }

    fn as_launch(launch: &AwxLaunch) -> (&str, String, bool) {
        let template = match &launch.template {
            Some(TemplateName::Literal(name) | TemplateName::Expression(name)) => name.clone(),
            Some(TemplateName::FromEnv { variable, value }) => format!("env.{variable} = {value}"),
            None => String::new(),
        };
        let continues = launch.step_continue_on_error == ContinueOnError::Yes;
        (launch.job.as_str(), template, continues)
    }

    #[test]
    fn each_stack_workflow_launches_the_awx_templates_of_its_time() {
        let Some(dir) = fixture_dir() else { return };
        let fixtures: Vec<_> = workflow_fixtures(&dir)
            .into_iter()
            .filter(|(name, _)| name.starts_with("build-"))
            .collect();
        assert_eq!(fixtures.len(), LAUNCHES.len());
        for (name, text) in fixtures {
            let commit = name.split('.').nth(1).expect("name has a commit");
            let (_, expected) = LAUNCHES
                .iter()
                .find(|(c, _)| *c == commit)
                .unwrap_or_else(|| panic!("no expectation for {name}"));
            let workflow = Workflow::parse(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
            let found: Vec<_> = workflow.awx_launches().iter().map(as_launch).collect();
            let expected: Vec<_> = expected
                .iter()
                .map(|&(job, template, continues)| (job, template.to_owned(), continues))
                .collect();
            assert_eq!(found, expected, "{name}");
            for launch in workflow.awx_launches() {
                let variable = launch.template_var.as_deref();
                assert_eq!(variable, Some("stack_image_tag"), "{name}");
                assert_eq!(launch.job_continue_on_error, ContinueOnError::No, "{name}");
            }
        }
    }

    #[test]
    fn the_current_build_main_deploys_production_for_production_tags_only() {
        let Some(dir) = fixture_dir() else { return };
        let workflow = fixture(&dir, "build-main.005a791.yaml");
        let production = workflow
            .awx_launches()
            .iter()
            .find(|l| l.job == "deploy-production")
            .expect("a production launch");
        assert_eq!(
            production.template.as_ref().and_then(TemplateName::known),
            Some("Production Fragalysis Stack")
        );
        assert_eq!(production.action_version, "v3");
        assert!(production.may_hide_failure());
        let condition = production.job_condition.as_deref().unwrap_or_default();
        assert!(
            condition.contains("production_tag == 'true'"),
            "{condition}"
        );
        assert_eq!(
            production.template_var_value.as_deref(),
            Some("${{ needs.build.outputs.tag }}")
        );
    }
}
