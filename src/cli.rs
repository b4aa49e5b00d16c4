//! The command line (SPEC §7): `serve`, `migrate`, `demo`, `uscc check`.

use crate::app::{AppState, router};
use crate::config::{DatabaseArgs, Settings};
use crate::db::{self, Db};
use crate::i18n::Lang;
use crate::registry::uscc::Uscc;
use anyhow::Context;
use clap::{Parser, Subcommand};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

/// shezu (社组) — social-organization service and management platform.
#[derive(Debug, Parser)]
#[command(version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the portal, back office and JSON API. Applies pending migrations first; with --demo,
    /// loads the demo district into an empty database.
    Serve {
        /// Address to listen on.
        #[arg(long, env = "SHEZU_ADDR", default_value = "127.0.0.1:8080")]
        addr: SocketAddr,
        /// Load the demo district (Binhai New Area, end of 2014) if the database is empty.
        #[arg(long)]
        demo: bool,
        #[command(flatten)]
        database: DatabaseArgs,
        #[command(flatten)]
        settings: Settings,
    },
    /// Apply pending database migrations and exit.
    Migrate {
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Load the demo district into an empty database (refuses a database that has records).
    Demo {
        #[command(flatten)]
        database: DatabaseArgs,
        /// Seed of the generated records (same seed, same data).
        #[arg(long, default_value_t = crate::demo::DEFAULT_SEED)]
        seed: u64,
    },
    /// Unified social credit code tools.
    Uscc {
        /// The tool.
        #[command(subcommand)]
        command: UsccCommand,
    },
}

/// `shezu uscc …`
#[derive(Debug, Subcommand)]
pub enum UsccCommand {
    /// Check codes (GB 32100-2015 and the GB 11714 organization-code check). Prints `valid` or
    /// the position that is wrong and what was expected, one line per code; exits 0 only if
    /// every code is valid.
    Check {
        /// The codes to check.
        #[arg(required = true)]
        codes: Vec<String>,
        /// Language of the messages (zh or en).
        #[arg(long, env = "SHEZU_LANG", default_value = "zh")]
        lang: String,
    },
}

/// Runs a parsed command line; the exit code says whether it succeeded.
pub fn run(cli: Cli) -> ExitCode {
    if let Command::Uscc {
        command: UsccCommand::Check { codes, lang },
    } = &cli.command
    {
        return uscc_check(codes, Lang::parse(lang).unwrap_or_default());
    }
    init_tracing();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("shezu: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run_async(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("shezu: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SHEZU_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).try_init();
}

fn uscc_check(codes: &[String], lang: Lang) -> ExitCode {
    let mut all_valid = true;
    for code in codes {
        match Uscc::parse(code) {
            Ok(_) => println!("{code}: {}", lang.t("uscc.valid")),
            Err(e) => {
                all_valid = false;
                println!("{code}: {}", e.message().render(lang));
            }
        }
    }
    if all_valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

async fn open(database: &DatabaseArgs) -> anyhow::Result<Db> {
    let db = Db::connect(&database.url)
        .await
        .with_context(|| format!("cannot open database {}", redact(&database.url)))?;
    let applied = db::migrate(&db).await.context("migration failed")?;
    if applied > 0 {
        tracing::info!(applied, "migrations applied");
    }
    Ok(db)
}

/// The database URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{user}:***{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

async fn run_async(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve {
            addr,
            demo,
            database,
            settings,
        } => {
            let db = open(&database).await?;
            if demo {
                match crate::demo::load(&db, crate::demo::DEFAULT_SEED).await {
                    Ok(summary) => tracing::info!(%summary, "demo district loaded"),
                    Err(crate::demo::DemoError::NotEmpty) => {
                        tracing::info!("database already has records; demo not loaded again")
                    }
                    Err(e) => return Err(e).context("loading the demo district"),
                }
            }
            let state = AppState {
                db: db.clone(),
                settings: Arc::new(settings),
            };
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("cannot listen on {addr}"))?;
            tracing::info!("shezu listening on http://{addr}");
            axum::serve(
                listener,
                router(state).into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await?;
            db.close().await;
            Ok(())
        }
        Command::Migrate { database } => {
            let db = open(&database).await?;
            println!("{}", Lang::Zh.t("cli.migrated"));
            db.close().await;
            Ok(())
        }
        Command::Demo { database, seed } => {
            let db = open(&database).await?;
            let summary = crate::demo::load(&db, seed).await?;
            println!("{summary}");
            db.close().await;
            Ok(())
        }
        Command::Uscc { .. } => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn redact_hides_passwords() {
        assert_eq!(
            super::redact("postgres://shezu:secret@db/shezu"),
            "postgres://shezu:***@db/shezu"
        );
        assert_eq!(super::redact("sqlite:shezu.db"), "sqlite:shezu.db");
    }
}
