//! Regenerates `testkit/graphql/github-schema.graphql`, the part of GitHub's published GraphQL
//! schema that stackrel's documents use, from `schema.graphql` of `@octokit/graphql-schema`:
//!
//! ```sh
//! cd /tmp && npm pack @octokit/graphql-schema@15.26.1 && tar xzf octokit-graphql-schema-15.26.1.tgz
//! cargo run -p testkit --bin github-graphql-extract -- /tmp/package/schema.graphql > testkit/graphql/github-schema.graphql
//! ```

fn main() -> std::process::ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: github-graphql-extract PATH/TO/schema.graphql");
        return std::process::ExitCode::from(2);
    };
    let full = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("{path}: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match testkit::graphql_schema::extract(&full) {
        Ok(extract) => {
            print!("{}{extract}", testkit::graphql_schema::HEADER);
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            std::process::ExitCode::FAILURE
        }
    }
}
