//! The command line (SPEC §7): `serve`, `migrate`, `demo`, `import …`, `uscc check`.

use crate::app::{AppState, router};
use crate::config::{DatabaseArgs, ReadDatabaseArgs, Settings};
use crate::db::{self, Db};
use crate::i18n::Lang;
use crate::registry::uscc::Uscc;
use anyhow::Context;
use clap::{Parser, Subcommand};
use std::io::IsTerminal;
use std::net::SocketAddr;
use std::process::ExitCode;

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
        read_database: ReadDatabaseArgs,
        #[command(flatten)]
        settings: Settings,
    },
    /// Apply pending database migrations and exit.
    Migrate {
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Load the demo district into an empty database (refuses a database that has records);
    /// with --scale N, generate instead a national registry of N organizations over every
    /// county of the mainland, with annual reports and volunteer records in proportion.
    Demo {
        #[command(flatten)]
        database: DatabaseArgs,
        /// Seed of the generated records (same seed, same data).
        #[arg(long, default_value_t = crate::demo::DEFAULT_SEED)]
        seed: u64,
        /// Generate the national dataset (全国数据集) of this many organizations instead of the
        /// demo district.
        #[arg(long)]
        scale: Option<usize>,
    },
    /// Write today's open-data dump (organizations CSV and JSON, areas, data dictionary,
    /// licence, manifest) into the dump folder; `serve` does this once a day by itself.
    Dump {
        #[command(flatten)]
        database: DatabaseArgs,
        /// Folder that holds the dated dump folders.
        #[arg(long, env = "SHEZU_DUMP_DIR", default_value = "open-data")]
        out: std::path::PathBuf,
    },
    /// Write an online, checked copy of the database into a folder (SQLite: VACUUM INTO;
    /// PostgreSQL: pg_dump) while the server keeps running, then delete all but the newest
    /// --keep backups there.
    Backup {
        #[command(flatten)]
        database: DatabaseArgs,
        /// Folder for the backups (shezu-YYYYMMDD-HHMMSS.db or .pgdump).
        #[arg(long, env = "SHEZU_BACKUP_DIR", default_value = "backups")]
        out: std::path::PathBuf,
        /// How many backups to keep in the folder (the newest).
        #[arg(long, env = "SHEZU_BACKUP_KEEP", default_value_t = 30)]
        keep: usize,
    },
    /// Restore a backup into an empty database (a new SQLite file or an empty PostgreSQL
    /// database), apply newer migrations and verify the audit chain.
    Restore {
        #[command(flatten)]
        database: DatabaseArgs,
        /// The backup file (.db for SQLite, .pgdump for PostgreSQL).
        file: std::path::PathBuf,
    },
    /// Accounts.
    User {
        /// The action.
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Department API tokens.
    Token {
        /// The action.
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// The audit trail.
    Audit {
        /// The action.
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Bulk import from a file (批量导入).
    Import {
        /// What to import.
        #[command(subcommand)]
        command: ImportCommand,
    },
    /// Unified social credit code tools.
    Uscc {
        /// The tool.
        #[command(subcommand)]
        command: UsccCommand,
    },
}

/// `shezu user …`
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account with one role. The password is read from standard input (one line) when
    /// it is not a terminal; otherwise one is generated and printed once.
    Add {
        /// Sign-in name (3–40 letters, digits, `.`, `_`, `-`).
        #[arg(long)]
        username: String,
        /// Role: admin, registrar, window, area_officer, liaison, party, instructor,
        /// social_worker, expert or org.
        #[arg(long)]
        role: String,
        /// Division code of the area, for area_officer and liaison.
        #[arg(long)]
        area: Option<String>,
        /// Credit code (or id) of the organization, for org, instructor and social_worker.
        #[arg(long)]
        org: Option<String>,
        /// Name shown on pages (defaults to the username).
        #[arg(long, default_value = "")]
        name: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

/// `shezu token …`
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a department API token and print it once (only its hash is kept).
    Add {
        /// Who it is for, e.g. "区税务局".
        #[arg(long)]
        name: String,
        /// Scopes: public, registry:read, feed:NAME (repeat the flag for several).
        #[arg(long = "scope", required = true)]
        scopes: Vec<String>,
        /// Limit registry reads to this area (division code).
        #[arg(long)]
        area: Option<String>,
        /// Days until it expires (none: it does not expire).
        #[arg(long)]
        expires_days: Option<i64>,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

/// `shezu audit …`
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the audit log's hash chain end to end; names the first broken entry and exits
    /// non-zero if any entry was changed, removed or inserted.
    Verify {
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

/// `shezu import …`
#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Import organizations from a CSV file or workbook shaped like the registry's export
    /// (Chinese or machine column names). Every bad row is reported and nothing written; otherwise all rows
    /// are created or updated (matched by USCC) in one transaction.
    Organizations(ImportArgs),
    /// Import annual reports (年度工作报告), one row per organization and year: saved,
    /// submitted and, when the row gives a result, reviewed. A report already submitted is
    /// never overwritten.
    AnnualReports(ImportArgs),
    /// Import volunteer service records (志愿服务记录): the volunteer is registered with the
    /// organization if new; a row may say the record is already confirmed or verified.
    VolunteerServices(ImportArgs),
    /// Import donations received or given (捐赠记录).
    Donations(ImportArgs),
}

/// What every `shezu import` takes.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The CSV file (UTF-8, with or without a byte-order mark) or Excel workbook (.xlsx, first
    /// sheet), with the template's header row.
    file: std::path::PathBuf,
    /// Language of the messages (zh or en).
    #[arg(long, env = "SHEZU_LANG", default_value = "zh")]
    lang: String,
    #[command(flatten)]
    database: DatabaseArgs,
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

/// Logs to standard error: level filter from `SHEZU_LOG` (default `info,sqlx=warn`); one JSON
/// object per line when `SHEZU_LOG_FORMAT=json` (for a log shipper), each with the request's
/// span (its id, method and path), else readable text with the same fields.
fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SHEZU_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if std::env::var("SHEZU_LOG_FORMAT").is_ok_and(|f| f == "json") {
        logs.json()
            .with_current_span(true)
            .with_span_list(false)
            .try_init()
    } else {
        logs.try_init()
    };
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
    // Organizations written before the search index existed get their entries now, in one
    // transaction (a no-op once every organization has one).
    let mut tx = db.begin().await?;
    let indexed = crate::registry::search::index_missing(&mut tx.conn()).await?;
    tx.commit().await?;
    if indexed > 0 {
        tracing::info!(indexed, "organizations added to the search index");
    }
    Ok(db)
}

/// The organizations and verified audit entries a backup or restore holds, when counted.
fn print_contents(summary: &crate::backup::Summary) {
    if let (Some(organizations), Some(audit)) = (summary.organizations, summary.audit_entries) {
        println!(
            "{}",
            Lang::Zh.tf(
                "cli.backup_contents",
                &[
                    ("organizations", &organizations.to_string()),
                    ("count", &audit.to_string()),
                ]
            )
        );
    }
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
            read_database,
            settings,
        } => {
            let db = open(&database).await?;
            // The replica is only read: no migration, no index repair there (they reach it
            // through replication).
            let read_db = match &read_database.read_url {
                Some(url) => Db::connect_read(url)
                    .await
                    .with_context(|| format!("cannot open read database {}", redact(url)))?,
                None => db.clone(),
            };
            let mut demo_loaded = false;
            if demo {
                match crate::demo::load(&db, crate::demo::DEFAULT_SEED).await {
                    Ok(summary) => {
                        tracing::info!(%summary, "demo district loaded");
                        demo_loaded = true;
                    }
                    Err(crate::demo::DemoError::NotEmpty) => {
                        tracing::info!("database already has records; demo not loaded again")
                    }
                    Err(e) => return Err(e).context("loading the demo district"),
                }
            }
            tokio::spawn(crate::registry::dump::run_daily(
                db.clone(),
                settings.dump_dir.clone(),
            ));
            tokio::spawn(crate::inspection::credit::run_daily(db.clone()));
            let state = AppState::new(db.clone(), settings).with_read_db(read_db.clone());
            // Build the facet index before the first visitor asks for a count.
            {
                let mut conn = db.acquire().await?;
                state.facets.rebuild(&mut conn.conn()).await?;
            }
            // The periodic full rebuild reads where the public pages read (it never moves the
            // index back to a lagging replica's older state).
            tokio::spawn(state.facets.clone().rebuild_every(read_db.clone(), 10));
            // The district's figures for the last full year, counted once in the background so
            // the first visitor of the statistics finds them remembered.
            tokio::spawn(crate::stats::memo::warm(
                state.stats.clone(),
                read_db.clone(),
            ));
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("cannot listen on {addr}"))?;
            // The bound address, not the asked one: `--addr 127.0.0.1:0` picks a free port,
            // and scripts (the browser suite) read it from this line.
            let addr = listener.local_addr()?;
            if demo_loaded {
                print_demo_accounts(addr);
            }
            println!(
                "{}",
                Lang::Zh.tf("cli.listening", &[("addr", &addr.to_string())])
            );
            let draining = state.draining.clone();
            axum::serve(
                listener,
                router(state).into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(crate::ops::shutdown_signal(draining))
            .await?;
            read_db.close().await;
            db.close().await;
            Ok(())
        }
        Command::Dump { database, out } => {
            let db = open(&database).await?;
            let manifest =
                crate::registry::dump::write_dump(&db, &out, crate::registry::dump::china_today())
                    .await?;
            println!(
                "{}",
                Lang::Zh.tf(
                    "cli.dump_written",
                    &[
                        (
                            "dir",
                            &out.join(manifest.date.to_string()).display().to_string()
                        ),
                        ("organizations", &manifest.organizations.to_string()),
                    ]
                )
            );
            db.close().await;
            Ok(())
        }
        Command::Backup {
            database,
            out,
            keep,
        } => {
            let summary = crate::backup::backup(&database.url, &out, chrono::Utc::now()).await?;
            println!(
                "{}",
                Lang::Zh.tf(
                    "cli.backup_written",
                    &[
                        ("path", &summary.path.display().to_string()),
                        ("bytes", &summary.bytes.to_string()),
                    ]
                )
            );
            print_contents(&summary);
            for removed in crate::backup::prune(&out, keep.max(1))? {
                println!(
                    "{}",
                    Lang::Zh.tf(
                        "cli.backup_pruned",
                        &[("path", &removed.display().to_string())]
                    )
                );
            }
            Ok(())
        }
        Command::Restore { database, file } => {
            let summary = crate::backup::restore(&file, &database.url).await?;
            println!(
                "{}",
                Lang::Zh.tf(
                    "cli.restored",
                    &[
                        ("path", &summary.path.display().to_string()),
                        ("database", &redact(&database.url)),
                    ]
                )
            );
            print_contents(&summary);
            Ok(())
        }
        Command::Migrate { database } => {
            let db = open(&database).await?;
            println!("{}", Lang::Zh.t("cli.migrated"));
            db.close().await;
            Ok(())
        }
        Command::Demo {
            database,
            seed,
            scale: Some(orgs),
        } => {
            let db = open(&database).await?;
            let result =
                crate::demo::national::generate(&db, orgs, seed, &mut |line| eprintln!("{line}"))
                    .await;
            db.close().await;
            match result {
                Ok(summary) => {
                    print_scale_summary(&summary);
                    Ok(())
                }
                Err(crate::demo::DemoError::NotEmpty) => {
                    anyhow::bail!("{}", Lang::Zh.t("cli.scale_not_empty"))
                }
                Err(e) => Err(e.into()),
            }
        }
        Command::Demo {
            database,
            seed,
            scale: None,
        } => {
            let db = open(&database).await?;
            let summary = crate::demo::load(&db, seed).await?;
            println!("{summary}");
            db.close().await;
            Ok(())
        }
        Command::User {
            command:
                UserCommand::Add {
                    username,
                    role,
                    area,
                    org,
                    name,
                    database,
                },
        } => {
            let db = open(&database).await?;
            let password = read_or_generate_password()?;
            let created = add_user(
                &db,
                &username,
                &role,
                area.as_deref(),
                org.as_deref(),
                &name,
                &password.0,
            )
            .await;
            db.close().await;
            created?;
            println!(
                "{}",
                Lang::Zh.tf("cli.user_created", &[("username", &username)])
            );
            if password.1 {
                println!(
                    "{}",
                    Lang::Zh.tf("cli.password_generated", &[("password", &password.0)])
                );
            }
            Ok(())
        }
        Command::Token {
            command:
                TokenCommand::Add {
                    name,
                    scopes,
                    area,
                    expires_days,
                    database,
                },
        } => {
            let db = open(&database).await?;
            let created = add_token(&db, &name, &scopes, area.as_deref(), expires_days).await;
            db.close().await;
            println!("{}", created?);
            Ok(())
        }
        Command::Audit {
            command: AuditCommand::Verify { database },
        } => {
            // Verifying must not create an empty database where there was none.
            if let Some(path) = database.url.strip_prefix("sqlite:")
                && !path.starts_with(':')
                && !std::path::Path::new(path.split('?').next().unwrap_or(path)).exists()
            {
                anyhow::bail!("{}", Lang::Zh.tf("cli.no_database", &[("path", path)]));
            }
            let db = open(&database).await?;
            let mut conn = db.acquire().await?;
            let result = crate::audit::store::verify(&mut conn.conn()).await;
            drop(conn);
            db.close().await;
            match result? {
                crate::audit::store::ChainCheck::Intact(n) => {
                    println!(
                        "{}",
                        Lang::Zh.tf("cli.audit_intact", &[("count", &n.to_string())])
                    );
                    Ok(())
                }
                crate::audit::store::ChainCheck::BrokenAt(seq) => {
                    anyhow::bail!(
                        "{}",
                        Lang::Zh.tf("cli.audit_broken", &[("seq", &seq.to_string())])
                    )
                }
            }
        }
        Command::Import { command } => {
            use crate::imports::ImportKind;
            let (kind, args) = match command {
                ImportCommand::Organizations(args) => (None, args),
                ImportCommand::AnnualReports(args) => (Some(ImportKind::AnnualReports), args),
                ImportCommand::VolunteerServices(args) => {
                    (Some(ImportKind::VolunteerServices), args)
                }
                ImportCommand::Donations(args) => (Some(ImportKind::Donations), args),
            };
            let lang = Lang::parse(&args.lang).unwrap_or_default();
            import_file(kind, &args.file, lang, &args.database).await
        }
        Command::Uscc { .. } => Ok(()),
    }
}

/// `shezu import organizations FILE` (`kind` `None`) and the other kinds: progress lines and
/// the summary on standard error and output; every bad row as `第 N 行 · 字段 · 问题` before
/// failing.
async fn import_file(
    kind: Option<crate::imports::ImportKind>,
    path: &std::path::Path,
    lang: Lang,
    database: &DatabaseArgs,
) -> anyhow::Result<()> {
    use crate::registry::import::{self, ImportError};
    let file = std::fs::File::open(path).with_context(|| path.display().to_string())?;
    let db = open(database).await?;
    // On a terminal one line is redrawn in place (phase, bar, percent of the file, rows, rate);
    // piped, a line every `PROGRESS_EVERY` rows, which logs and the kill test read.
    let terminal = std::io::stderr().is_terminal();
    let mut drawn: Option<bool> = None;
    let mut progress = |p: import::Progress| {
        if terminal {
            if drawn.is_some_and(|writing| writing != p.writing) {
                eprintln!();
            }
            drawn = Some(p.writing);
            eprint!("\r{}\x1b[K", progress_bar(lang, &p));
            return;
        }
        let key = if p.writing {
            "cli.import_writing"
        } else {
            "cli.import_validating"
        };
        eprintln!(
            "{}",
            lang.tf(
                key,
                &[
                    ("rows", &p.rows.to_string()),
                    ("rate", &format!("{:.0}", p.rows_per_second)),
                ]
            )
        );
    };
    let actor = crate::audit::Actor::system("cli");
    let result = match kind {
        None => import::import_organizations(&db, &actor, file, &mut progress).await,
        Some(kind) => {
            let at = chrono::Utc::now();
            let importer = crate::imports::Importer {
                actor: &actor,
                scope: &crate::auth::Scope::All,
                verify_hours: true,
            };
            kind.import(&db, &importer, file, &mut progress, at).await
        }
    };
    if drawn.is_some() {
        eprintln!();
    }
    db.close().await;
    match result {
        Ok(s) => {
            println!(
                "{}",
                lang.tf(
                    "cli.import_done",
                    &[
                        ("rows", &s.rows.to_string()),
                        ("created", &s.created.to_string()),
                        ("updated", &s.updated.to_string()),
                        ("unchanged", &s.unchanged.to_string()),
                    ]
                )
            );
            if s.keyed_on_name > 0 {
                println!(
                    "{}",
                    lang.tf(
                        "cli.import_keyed_on_name",
                        &[("count", &s.keyed_on_name.to_string())]
                    )
                );
            }
            Ok(())
        }
        Err(ImportError::Invalid(errors)) => {
            for e in &errors {
                eprintln!("{}", e.render(lang));
            }
            anyhow::bail!(
                "{}",
                lang.tf(
                    "cli.import_refused",
                    &[("count", &errors.len().to_string())]
                )
            )
        }
        Err(ImportError::Io(e)) => Err(e).with_context(|| path.display().to_string()),
        Err(ImportError::Db(e)) => Err(e.into()),
    }
}

/// One redrawn progress line: `写入 [#####-----] 52% · 520000 行 · 21000 行/秒`.
fn progress_bar(lang: Lang, p: &crate::registry::import::Progress) -> String {
    const WIDTH: usize = 24;
    let percent = p.percent();
    let filled = ((percent / 100.0) * WIDTH as f64).round() as usize;
    let bar = format!(
        "{}{}",
        "#".repeat(filled),
        "-".repeat(WIDTH - filled.min(WIDTH))
    );
    let phase = if p.writing {
        "cli.import_phase_writing"
    } else {
        "cli.import_phase_validating"
    };
    lang.tf(
        "cli.import_bar",
        &[
            ("phase", lang.t(phase)),
            ("bar", &bar),
            ("percent", &format!("{percent:.0}")),
            ("rows", &p.rows.to_string()),
            ("rate", &format!("{:.0}", p.rows_per_second)),
        ],
    )
}

/// Rows per table, the rate, and how to sign in to the national dataset.
fn print_scale_summary(summary: &crate::demo::national::ScaleSummary) {
    let total = summary.total_rows();
    println!(
        "{}",
        Lang::Zh.tf(
            "cli.scale_done",
            &[
                ("rows", &total.to_string()),
                ("seconds", &format!("{:.1}", summary.seconds)),
                (
                    "rate",
                    &format!("{:.0}", total as f64 / summary.seconds.max(0.001))
                ),
            ],
        )
    );
    for (table, rows) in &summary.rows {
        println!("  {table:<20} {rows:>12}");
    }
    println!(
        "{}",
        Lang::Zh.tf(
            "cli.scale_account",
            &[
                ("username", crate::demo::national::ROOT_ADMIN),
                ("password", crate::demo::DEMO_PASSWORD),
            ],
        )
    );
}

/// Tells how to sign in to the demo.
fn print_demo_accounts(addr: SocketAddr) {
    println!(
        "{}",
        Lang::Zh.tf(
            "cli.demo_accounts",
            &[("password", crate::demo::DEMO_PASSWORD)]
        )
    );
    for (username, name, role, _, _) in crate::demo::DEMO_ACCOUNTS {
        println!("  {username:<14} {} · {name}", role.label(Lang::Zh));
    }
    println!("  http://{addr}/login");
}

/// The password for `user add`: one line from standard input when it is piped, else generated
/// (and flagged so it is printed once).
fn read_or_generate_password() -> anyhow::Result<(String, bool)> {
    use std::io::IsTerminal;
    if !std::io::stdin().is_terminal() {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        let line = line.trim_end_matches(['\r', '\n']).to_owned();
        if !line.is_empty() {
            return Ok((line, false));
        }
    }
    Ok((crate::auth::generate_password()?, true))
}

/// Creates an account with one role, in one transaction; errors name the field in Chinese.
pub async fn add_user(
    db: &Db,
    username: &str,
    role: &str,
    area: Option<&str>,
    org: Option<&str>,
    name: &str,
    password: &str,
) -> anyhow::Result<crate::auth::UserId> {
    use crate::auth::{Grant, Role, Scope, store};
    let actor = crate::audit::Actor::system("cli");
    let mut tx = db.begin().await?;
    let role =
        Role::parse(role).with_context(|| Lang::Zh.tf("cli.unknown_role", &[("role", role)]))?;
    let area = match area {
        Some(code) => Some(area_by_code(&mut tx.conn(), code).await?),
        None => None,
    };
    let org = match org {
        Some(key) => Some(
            crate::registry::api::find_by_key(&mut tx.conn(), &Scope::All, key)
                .await?
                .with_context(|| Lang::Zh.t("auth.error.unknown_org"))?
                .org_id(),
        ),
        None => None,
    };
    let now = chrono::Utc::now();
    let new = store::NewUser {
        username: username.to_owned(),
        display_name: name.to_owned(),
        password: password.to_owned(),
    };
    let id = store::create_user(&mut tx.conn(), &actor, now, &new)
        .await
        .map_err(field_errors)?;
    store::grant_role(&mut tx.conn(), &actor, now, id, &Grant { role, area, org })
        .await
        .map_err(field_errors)?;
    tx.commit().await?;
    Ok(id)
}

/// The area with this division code, or an error saying there is none.
async fn area_by_code(
    conn: &mut crate::db::Conn<'_>,
    code: &str,
) -> anyhow::Result<crate::areas::AreaId> {
    Ok(crate::areas::store::find_by_code(conn, code)
        .await?
        .with_context(|| Lang::Zh.t("registry.error.unknown_area"))?
        .area_id())
}

/// Creates an API token and returns the line to print (with the secret, shown once).
async fn add_token(
    db: &Db,
    name: &str,
    scopes: &[String],
    area: Option<&str>,
    expires_days: Option<i64>,
) -> anyhow::Result<String> {
    use crate::auth::tokens::{self, TokenScope};
    let parsed: Vec<TokenScope> = scopes
        .iter()
        .map(|s| TokenScope::parse(s).with_context(|| Lang::Zh.t("auth.error.token_scope")))
        .collect::<anyhow::Result<_>>()?;
    let mut tx = db.begin().await?;
    let area = match area {
        Some(code) => Some(area_by_code(&mut tx.conn(), code).await?),
        None => None,
    };
    let now = chrono::Utc::now();
    let expires = expires_days.map(|d| now + chrono::Duration::days(d));
    let (_, secret) = tokens::create(
        &mut tx.conn(),
        &crate::audit::Actor::system("cli"),
        now,
        name,
        &parsed,
        area,
        expires,
    )
    .await
    .map_err(field_errors)?;
    tx.commit().await?;
    Ok(Lang::Zh.tf("cli.token_created", &[("token", &secret)]))
}

/// Turns field errors into one readable line per field (in Chinese) for the command line.
fn field_errors(e: crate::error::Error) -> anyhow::Error {
    match e {
        crate::error::Error::Invalid(fields) => anyhow::anyhow!(
            "{}",
            fields
                .0
                .iter()
                .map(|(f, m)| format!("{f}: {}", m.render(Lang::Zh)))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        other => other.into(),
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
