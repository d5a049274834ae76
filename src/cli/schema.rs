//! `stackrel schema`: print (or write into `schema/`) the JSON Schemas editors use.

use clap::Args;
use stackrel::schema::{SchemaKind, schema_json};
use std::path::Path;
use std::process::ExitCode;

#[derive(Args)]
pub struct SchemaArgs {
    /// Which file's schema.
    #[arg(value_enum, default_value = "config")]
    kind: SchemaKind,
    /// Write both schemas into DIR/schema/ instead of printing one.
    #[arg(long)]
    write: bool,
}

pub fn run(repo: &Path, args: SchemaArgs) -> miette::Result<ExitCode> {
    if !args.write {
        print!("{}", schema_json(args.kind));
        return Ok(ExitCode::SUCCESS);
    }
    let dir = repo.join("schema");
    std::fs::create_dir_all(&dir)
        .map_err(|e| miette::miette!("cannot create {}: {e}", dir.display()))?;
    for kind in [SchemaKind::Config, SchemaKind::Release] {
        let path = dir.join(kind.file_name());
        std::fs::write(&path, schema_json(kind))
            .map_err(|e| miette::miette!("cannot write {}: {e}", path.display()))?;
        println!("wrote {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}
