//! `strata bench`: deterministic benchmark data and one timed case per process, for `benches/run`,
//! which runs each case beside its Python peer (`benches/peers.py`) and tabulates the ratios.
//!
//! A case prints one JSON object: the seconds of the timed operation only (inputs are loaded before
//! the clock starts, except in the load cases), the process's resident memory before it, the peak
//! during it, and a result summary the suite compares with the peer's (so a faster wrong answer
//! shows).

use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::NaiveDate;
use ndarray::Array2;
use polars::prelude::*;
use serde_json::{Value, json};

use crate::engine::cluster::dbscan::{DbscanParams, fit_dbscan};
use crate::engine::cluster::gmm::{GmmParams, fit_gmm};
use crate::engine::cluster::hierarchical::{Dendrogram, HierarchicalParams};
use crate::engine::cluster::hybrid::{HybridParams, fit_hybrid};
use crate::engine::cluster::kmeans::{
    KMeansKernel, KMeansParams, LloydState, MiniBatchParams, fit, fit_from_centres, fit_minibatch,
};
use crate::engine::cluster::kprototypes::{ColumnLayout, KPrototypesParams, fit_kprototypes};
use crate::engine::cluster::optics::{OpticsParams, fit_optics};
use crate::engine::cluster::rfm_rules::{RfmParams, fit_rfm};
use crate::engine::cluster::som::{SomMap, SomParams};
use crate::engine::cluster::sweep::sweep_with_silhouette_rows;
use crate::engine::data::{self, ReadOptions, read_table, write_table};
use crate::engine::error::DataError;
use crate::engine::features::{NegativeAmounts, TransactionColumns, aggregate_transactions};
use crate::engine::jobs::{CancelToken, JobContext};
use crate::engine::kernels::Isa;
use crate::engine::metrics::{calinski_harabasz, davies_bouldin, silhouette_with_limit};
use crate::engine::rng::SeededRng;

/// The eight customer features of the generated customer tables, in order.
pub const CUSTOMER_FEATURES: [&str; 8] = [
    "recency_days",
    "frequency",
    "monetary_total",
    "monetary_mean",
    "tenure_days",
    "items_per_order",
    "discount_share",
    "web_share",
];

/// The as-of date of the generated transaction logs (the day after the last possible purchase).
pub const TRANSACTIONS_AS_OF: &str = "1998-07-01";

/// Anything a benchmark can fail on.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// Reading, writing or shaping data.
    #[error(transparent)]
    Data(#[from] DataError),
    /// polars.
    #[error(transparent)]
    Polars(#[from] PolarsError),
    /// Clustering or metrics.
    #[error(transparent)]
    Cluster(#[from] crate::engine::error::ClusterError),
    /// The case's arguments.
    #[error("{0}")]
    Usage(String),
}

fn normal(rng: &mut SeededRng) -> f64 {
    // Box-Muller; 1 - u keeps the logarithm finite.
    let u = 1.0 - rng.next_f64();
    let v = rng.next_f64();
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

fn exponential(rng: &mut SeededRng, mean: f64) -> f64 {
    -(1.0 - rng.next_f64()).ln() * mean
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// The distributions of one latent segment of the generated customers.
struct LatentSegment {
    /// Share of customers.
    share: f64,
    /// Mean days since the last purchase (exponential).
    recency: f64,
    /// Mean orders beyond the first (exponential, floored).
    orders: f64,
    /// Mean log order value (log-normal, sd 0.6).
    log_value: f64,
    /// Mean days of tenure before the last purchase (exponential).
    tenure: f64,
    /// Mean items per order beyond one (exponential).
    items: f64,
    /// Exponent of the discount share (uniform to this power).
    discount: f64,
    /// Mean share of web orders (normal, sd 0.2, clamped).
    web: f64,
}

impl LatentSegment {
    #[allow(clippy::too_many_arguments)]
    const fn new(
        share: f64,
        recency: f64,
        orders: f64,
        log_value: f64,
        tenure: f64,
        items: f64,
        discount: f64,
        web: f64,
    ) -> Self {
        Self { share, recency, orders, log_value, tenure, items, discount, web }
    }
}

/// A customer table of `n` rows: six latent segments of unequal size, each with its own skewed
/// (exponential, geometric, log-normal) feature distributions, like real customer data, so k-means
/// needs tens of iterations rather than the three that well-separated blobs take. The latent
/// segment is the `segment` column.
pub fn customer_table(n: usize, seed: u64) -> Result<DataFrame, BenchError> {
    const SEGMENTS: [LatentSegment; 6] = [
        LatentSegment::new(0.34, 420.0, 0.4, 3.0, 200.0, 0.6, 3.0, 0.30),
        LatentSegment::new(0.24, 300.0, 1.5, 3.6, 400.0, 1.2, 1.5, 0.55),
        LatentSegment::new(0.16, 120.0, 4.0, 3.4, 500.0, 2.0, 0.8, 0.70),
        LatentSegment::new(0.12, 40.0, 2.0, 4.3, 150.0, 1.0, 2.5, 0.85),
        LatentSegment::new(0.09, 60.0, 12.0, 4.0, 700.0, 3.0, 1.2, 0.45),
        LatentSegment::new(0.05, 25.0, 30.0, 4.8, 900.0, 5.0, 0.5, 0.60),
    ];
    let mut rng = SeededRng::new(seed);
    let mut columns: Vec<Vec<f64>> = vec![Vec::with_capacity(n); CUSTOMER_FEATURES.len()];
    let mut segment = Vec::with_capacity(n);
    let cumulative: Vec<f64> = SEGMENTS
        .iter()
        .scan(0.0, |acc, s| {
            *acc += s.share;
            Some(*acc)
        })
        .collect();
    for _ in 0..n {
        let u = rng.next_f64() * cumulative[cumulative.len() - 1];
        let s = cumulative.iter().position(|&c| u < c).unwrap_or(SEGMENTS.len() - 1);
        let LatentSegment { recency, orders, log_value, tenure, items, discount, web, .. } = SEGMENTS[s];
        let recency_days = exponential(&mut rng, recency).min(1500.0).floor();
        let frequency = 1.0 + exponential(&mut rng, orders).floor();
        let monetary_mean = round2((log_value + 0.6 * normal(&mut rng)).exp());
        let monetary_total = round2(monetary_mean * frequency * (0.2 * normal(&mut rng)).exp());
        let tenure_days = recency_days + exponential(&mut rng, tenure).floor();
        let items_per_order = round2(1.0 + exponential(&mut rng, items));
        let discount_share = round2(rng.next_f64().powf(discount));
        let web_share = round2((web + 0.2 * normal(&mut rng)).clamp(0.0, 1.0));
        for (column, value) in columns.iter_mut().zip([
            recency_days,
            frequency,
            monetary_total,
            monetary_mean,
            tenure_days,
            items_per_order,
            discount_share,
            web_share,
        ]) {
            column.push(value);
        }
        segment.push(s as i64);
    }
    let mut frame_columns = vec![Column::new("customer_id".into(), (1..=n as i64).collect::<Vec<_>>())];
    for (name, values) in CUSTOMER_FEATURES.iter().zip(columns) {
        frame_columns.push(Column::new((*name).into(), values));
    }
    frame_columns.push(Column::new("segment".into(), segment));
    Ok(DataFrame::new_infer_height(frame_columns)?)
}

/// A transaction log of `n` rows (`customer_id`, `date`, `amount`) for n / 10 customers, in date
/// order as a shop records it: a few customers buy very often, most rarely (the id of each purchase
/// is drawn with density falling like a power law), amounts are log-normal with 0.5% returns.
pub fn transaction_log(n: usize, seed: u64) -> Result<DataFrame, BenchError> {
    let mut rng = SeededRng::new(seed);
    let customers = (n / 10).max(1);
    let start = NaiveDate::from_ymd_opt(1996, 1, 1).unwrap_or_default();
    let end = NaiveDate::parse_from_str(TRANSACTIONS_AS_OF, "%Y-%m-%d").unwrap_or_default();
    let span = (end - start).num_days();
    let epoch_offset = (start - NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default()).num_days();
    let mut days: Vec<i32> = (0..n).map(|_| (epoch_offset + rng.below(span as usize) as i64) as i32).collect();
    days.sort_unstable();
    let ids: Vec<i64> = (0..n).map(|_| 1 + (customers as f64 * rng.next_f64().powi(3)) as i64).collect();
    let amounts: Vec<f64> = (0..n)
        .map(|_| {
            let value = round2((3.0 + 0.8 * normal(&mut rng)).exp());
            if rng.next_f64() < 0.005 { -value } else { value }
        })
        .collect();
    let date = Column::new("date".into(), days).cast(&DataType::Date)?;
    Ok(DataFrame::new_infer_height(vec![
        Column::new("customer_id".into(), ids),
        date,
        Column::new("amount".into(), amounts),
    ])?)
}

/// As [`transaction_log`], with a time of day on every purchase written as shops and databases
/// export orders (`2017-08-31 14:22:07`, text): the same customers, days and amounts.
pub fn transaction_log_with_times(n: usize, seed: u64) -> Result<DataFrame, BenchError> {
    let mut log = transaction_log(n, seed)?;
    let mut rng = SeededRng::new(seed ^ 0x7469_6d65);
    let days = log.column("date")?.cast(&DataType::Int32)?;
    let texts: Vec<String> = days
        .i32()?
        .iter()
        .map(|d| {
            let date = NaiveDate::from_num_days_from_ce_opt(d.unwrap_or(0) + 719_163).unwrap_or_default();
            let second = rng.below(86_400);
            format!("{date} {:02}:{:02}:{:02}", second / 3_600, second / 60 % 60, second % 60)
        })
        .collect();
    log.with_column(Column::new("date".into(), texts))?;
    Ok(log)
}

/// Writes `customers_{n}.{csv,parquet}` and `transactions_{n}.{csv,parquet}` into `dir`, skipping
/// files that exist (the data depend only on the size and the seed, which the names carry).
///
/// `datetime_transactions` sizes also get `transactions_datetime_{n}.csv`, the same log with a time
/// of day on every purchase (text only: it measures reading date-times written as text).
pub fn generate(
    dir: &Path,
    customers: &[usize],
    transactions: &[usize],
    datetime_transactions: &[usize],
    seed: u64,
) -> Result<Vec<PathBuf>, BenchError> {
    std::fs::create_dir_all(dir).map_err(|source| DataError::Io { path: dir.to_path_buf(), source })?;
    let mut written = Vec::new();
    let mut emit = |stem: String,
                    extensions: &[&str],
                    make: &dyn Fn() -> Result<DataFrame, BenchError>|
     -> Result<(), BenchError> {
        let targets: Vec<PathBuf> = extensions.iter().map(|ext| dir.join(format!("{stem}.{ext}"))).collect();
        if targets.iter().all(|t| t.exists()) {
            return Ok(());
        }
        let mut frame = make()?;
        for target in targets {
            // Written under a temporary name first, so an interrupted run leaves no half file.
            let partial = target
                .with_extension(format!("partial.{}", target.extension().and_then(|e| e.to_str()).unwrap_or_default()));
            write_table(&mut frame, &partial)?;
            std::fs::rename(&partial, &target).map_err(|source| DataError::Io { path: target.clone(), source })?;
            written.push(target);
        }
        Ok(())
    };
    for &n in customers {
        emit(format!("customers_{n}_s{seed}"), &["csv", "parquet"], &|| customer_table(n, seed))?;
    }
    for &n in transactions {
        emit(format!("transactions_{n}_s{seed}"), &["csv", "parquet"], &|| transaction_log(n, seed))?;
    }
    for &n in datetime_transactions {
        emit(format!("transactions_datetime_{n}_s{seed}"), &["csv"], &|| transaction_log_with_times(n, seed))?;
    }
    Ok(written)
}

/// Writes `transactions_large_{n}_s{seed}.csv` into `dir` unless it exists: a log shaped as
/// [`transaction_log`] (a tenth as many customers, a few buying most, dates over the same span, 0.5%
/// returns) but in no date order, written a million rows at a time so that it may be far larger than
/// memory. Each block has its own seeded generator, so the file depends only on `n` and `seed`.
pub fn write_large_log(dir: &Path, n: usize, seed: u64) -> Result<Option<PathBuf>, BenchError> {
    use rayon::prelude::*;
    use std::io::Write;
    const BLOCK: usize = 1 << 20;
    let target = dir.join(format!("transactions_large_{n}_s{seed}.csv"));
    if target.exists() {
        return Ok(None);
    }
    std::fs::create_dir_all(dir).map_err(|source| DataError::Io { path: dir.to_path_buf(), source })?;
    let partial = target.with_extension("partial.csv");
    let io = |source| DataError::Io { path: partial.clone(), source };
    let mut out = std::io::BufWriter::new(std::fs::File::create(&partial).map_err(io)?);
    out.write_all(b"customer_id,date,amount\n").map_err(io)?;
    let customers = (n / 10).max(1);
    let start = NaiveDate::from_ymd_opt(1996, 1, 1).unwrap_or_default();
    let end = NaiveDate::parse_from_str(TRANSACTIONS_AS_OF, "%Y-%m-%d").unwrap_or_default();
    let span = (end - start).num_days() as usize;
    let block_text = |block: usize| -> String {
        use std::fmt::Write as _;
        let mut rng = SeededRng::new(seed ^ (block as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let rows = BLOCK.min(n - block * BLOCK);
        let mut text = String::with_capacity(rows * 28);
        for _ in 0..rows {
            let day = start + chrono::Duration::days(rng.below(span) as i64);
            let id = 1 + (customers as f64 * rng.next_f64().powi(3)) as u64;
            let value = round2((3.0 + 0.8 * normal(&mut rng)).exp());
            let value = if rng.next_f64() < 0.005 { -value } else { value };
            let _ = writeln!(text, "{id},{day},{value}");
        }
        text
    };
    let blocks: Vec<usize> = (0..n.div_ceil(BLOCK)).collect();
    for group in blocks.chunks(2 * rayon::current_num_threads().max(1)) {
        let texts: Vec<String> = group.par_iter().map(|&b| block_text(b)).collect();
        for text in texts {
            out.write_all(text.as_bytes()).map_err(io)?;
        }
    }
    out.flush().map_err(io)?;
    drop(out);
    std::fs::rename(&partial, &target).map_err(|source| DataError::Io { path: target.clone(), source })?;
    Ok(Some(target))
}

/// Resident memory now and the peak since the last reset, in bytes (Linux; zeros elsewhere).
fn memory() -> (u64, u64) {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else { return (0, 0) };
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
            .map_or(0, |kb| kb * 1024)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Resets the peak-memory mark, so the peak read after a case is the case's own.
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Times `op` and reports memory around it.
fn timed<T>(op: impl FnOnce() -> Result<T, BenchError>) -> Result<(T, Value), BenchError> {
    reset_peak();
    let (before, _) = memory();
    let started = Instant::now();
    let out = op()?;
    let seconds = started.elapsed().as_secs_f64();
    let (_, peak) = memory();
    let mb = |b: u64| b as f64 / 1_048_576.0;
    Ok((out, json!({"seconds": seconds, "rss_before_mb": mb(before), "peak_mb": mb(peak.max(before))})))
}

/// The serve case: `strata serve` on the project `input` in its own process on a free loopback
/// port, then requests over keep-alive connections from this one: single customers (4,000 over
/// four connections) and batches of 1,000 (40 over two), each customer a row of the project's own
/// customer table. Reported per kind: requests per second over the whole run and the latency's
/// median and 99th percentile (`seconds` is the whole run, start-up excluded).
fn serve_case(input: &Path) -> Result<(Value, Value), BenchError> {
    use std::io::{BufRead, BufReader};
    let failed = |what: &str, e: &dyn std::fmt::Display| BenchError::Usage(format!("serve case: {what}: {e}"));
    let opened = crate::engine::project::open(input).map_err(|e| failed("open the project", &e))?;
    let base_dir =
        input.parent().filter(|p| !p.as_os_str().is_empty()).map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let resolver = crate::engine::pipeline::SourceResolver { base_dir, allow_outside: false };
    let (mut result, _) =
        crate::engine::project::verify::rerun(&opened.project, &resolver, true).map_err(|e| failed("re-run", &e))?;
    crate::engine::project::minimise::apply(&opened.project, &mut result);
    let exe = std::env::current_exe().map_err(|e| failed("find strata", &e))?;
    let mut child = std::process::Command::new(exe)
        .args(["serve", &input.display().to_string(), "--port", "0", "--max-batch", "1000"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| failed("start strata serve", &e))?;
    let mut line = String::new();
    let stdout = child.stdout.take().ok_or_else(|| BenchError::Usage("serve case: no stdout".into()))?;
    let read = BufReader::new(stdout).read_line(&mut line);
    let address = match (read, line.trim().strip_prefix("listening on http://")) {
        (Ok(_), Some(address)) => address.to_string(),
        _ => {
            let _ = child.kill();
            return Err(BenchError::Usage(format!("serve case: the service did not start ({line:?})")));
        }
    };
    let outcome = (|| {
        let (status, model) = http::request(&address, "GET", "/model", b"").map_err(|e| failed("GET /model", &e))?;
        if status != 200 {
            return Err(BenchError::Usage(format!("serve case: GET /model answered {status}")));
        }
        let customers = customers_as_json(&result.customers, &model)?;
        if customers.is_empty() {
            return Err(BenchError::Usage("serve case: the project has no customers".into()));
        }
        let singles: Vec<Vec<u8>> = customers.iter().map(|c| c.to_string().into_bytes()).collect();
        let batches: Vec<Vec<u8>> = (0..40)
            .map(|b| {
                let batch: Vec<&Value> = (0..1000).map(|i| &customers[(b * 1000 + i) % customers.len()]).collect();
                json!({ "customers": batch }).to_string().into_bytes()
            })
            .collect();
        let started = Instant::now();
        let single = http::load(&address, &singles, 4, 4000)?;
        let batch = http::load(&address, &batches, 2, 40)?;
        let seconds = started.elapsed().as_secs_f64();
        Ok((
            json!({
                "customers_in_project": customers.len(),
                "single": single,
                "batch_1000": batch,
            }),
            json!({"seconds": seconds}),
        ))
    })();
    #[cfg(unix)]
    {
        // SAFETY: signalling the child this function started, by its id.
        unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    }
    #[cfg(not(unix))]
    {
        let _ = child.kill();
    }
    let _ = child.wait();
    outcome
}

/// Each customer of `customers` as the JSON object `strata serve` takes, with the fields its
/// `GET /model` answer lists.
fn customers_as_json(customers: &DataFrame, model: &Value) -> Result<Vec<Value>, BenchError> {
    let fields = model["fields"].as_array().cloned().unwrap_or_default();
    let mut columns: Vec<(String, Vec<Value>)> = Vec::new();
    for field in &fields {
        let name = field["name"].as_str().unwrap_or_default().to_string();
        let values: Vec<Value> = if field["type"] == "number" {
            data::quality::numeric_values(data::column(customers, &name)?)?
                .into_iter()
                .map(|v| v.filter(|v| v.is_finite()).map_or(Value::Null, |v| json!(v)))
                .collect()
        } else {
            data::column_texts(customers, &name)?.into_iter().map(|v| v.map_or(Value::Null, Value::String)).collect()
        };
        columns.push((name, values));
    }
    if let Some(id) = model["id_column"].as_str() {
        let ids = data::column_texts(customers, id)?;
        columns.push((id.to_string(), ids.into_iter().map(|v| v.map_or(Value::Null, Value::String)).collect()));
    }
    Ok((0..customers.height())
        .map(|row| Value::Object(columns.iter().map(|(name, values)| (name.clone(), values[row].clone())).collect()))
        .collect())
}

/// A small HTTP/1.1 client on keep-alive connections, for the serve case.
mod http {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpStream;
    use std::time::Instant;

    use serde_json::{Value, json};

    use super::BenchError;

    /// One request on its own connection: the status and the JSON body.
    pub fn request(address: &str, method: &str, path: &str, body: &[u8]) -> std::io::Result<(u16, Value)> {
        let mut connection = Connection::open(address)?;
        let (status, body) = connection.send(method, path, body)?;
        Ok((status, serde_json::from_slice(&body).unwrap_or(Value::Null)))
    }

    struct Connection {
        reader: BufReader<TcpStream>,
        writer: TcpStream,
        host: String,
    }

    impl Connection {
        fn open(address: &str) -> std::io::Result<Self> {
            let stream = TcpStream::connect(address)?;
            stream.set_nodelay(true)?;
            Ok(Connection { reader: BufReader::new(stream.try_clone()?), writer: stream, host: address.to_string() })
        }

        fn send(&mut self, method: &str, path: &str, body: &[u8]) -> std::io::Result<(u16, Vec<u8>)> {
            let head = format!(
                "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                self.host,
                body.len()
            );
            let mut request = head.into_bytes();
            request.extend_from_slice(body);
            self.writer.write_all(&request)?;
            let bad = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_string());
            let mut line = String::new();
            self.reader.read_line(&mut line)?;
            let status: u16 =
                line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).ok_or_else(|| bad("no status"))?;
            let mut length = None;
            loop {
                line.clear();
                if self.reader.read_line(&mut line)? == 0 {
                    return Err(bad("the connection closed in the headers"));
                }
                let header = line.trim_end();
                if header.is_empty() {
                    break;
                }
                if let Some((name, value)) = header.split_once(':')
                    && name.eq_ignore_ascii_case("content-length")
                {
                    length = value.trim().parse::<usize>().ok();
                }
            }
            let mut body = vec![0; length.ok_or_else(|| bad("no content-length"))?];
            self.reader.read_exact(&mut body)?;
            Ok((status, body))
        }
    }

    /// `total` requests, the bodies in turn, over `connections` keep-alive connections at once:
    /// requests per second and the latency's median and 99th percentile in milliseconds.
    pub fn load(address: &str, bodies: &[Vec<u8>], connections: usize, total: usize) -> Result<Value, BenchError> {
        let started = Instant::now();
        let per: Vec<Result<Vec<f64>, String>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..connections)
                .map(|c| {
                    std::thread::Builder::new().name(format!("bench-client-{c}")).spawn_scoped(
                        scope,
                        move || -> Result<Vec<f64>, String> {
                            let mut connection = Connection::open(address).map_err(|e| e.to_string())?;
                            let mut latencies = Vec::new();
                            for i in (c..total).step_by(connections) {
                                let sent = Instant::now();
                                let (status, _) = connection
                                    .send("POST", "/score", &bodies[i % bodies.len()])
                                    .map_err(|e| e.to_string())?;
                                if status != 200 {
                                    return Err(format!("POST /score answered {status}"));
                                }
                                latencies.push(sent.elapsed().as_secs_f64() * 1000.0);
                            }
                            Ok(latencies)
                        },
                    )
                })
                .collect();
            handles
                .into_iter()
                .map(|h| match h {
                    Ok(h) => h.join().unwrap_or_else(|_| Err("a client thread failed".into())),
                    Err(e) => Err(e.to_string()),
                })
                .collect()
        });
        let seconds = started.elapsed().as_secs_f64();
        let mut latencies = Vec::new();
        for p in per {
            latencies.extend(p.map_err(|e| BenchError::Usage(format!("serve case: {e}")))?);
        }
        latencies.sort_by(f64::total_cmp);
        let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q).round() as usize];
        Ok(json!({
            "requests": latencies.len(),
            "connections": connections,
            "requests_per_second": latencies.len() as f64 / seconds,
            "p50_ms": at(0.5),
            "p99_ms": at(0.99),
        }))
    }
}

/// The clv case: the log is read and reduced to purchase days before the clock starts; timed are
/// the customer summary, the BG/NBD fit alone (the model the demo reports) and the whole analysis
/// `strata clv` runs (three purchase models, Gamma-Gamma, values, diagnostics), each on its own.
fn clv_case(input: &Path, options: &CaseOptions) -> Result<(Value, Value), BenchError> {
    use crate::engine::value::{self, PurchaseModelKind, TimeUnit, ValueSpec};
    let calibration_end = options
        .calibration_end
        .ok_or_else(|| BenchError::Usage("the clv case needs --calibration-end YYYY-MM-DD".into()))?;
    let table = read_table(input, &ReadOptions::default())?;
    let amount = ["amount", "dollar_value"]
        .into_iter()
        .find(|c| table.frame.column(c).is_ok())
        .ok_or_else(|| BenchError::Usage("the log has no amount or dollar_value column".into()))?;
    let columns = TransactionColumns {
        customer_id: "customer_id".into(),
        date: "date".into(),
        amount: Some(amount.into()),
        as_of: None,
        negative_amounts: NegativeAmounts::Allow,
        since: None,
        behaviour: Default::default(),
        value: None,
    };
    let rows = crate::engine::features::log_rows(&table.frame, &columns, &Default::default())?.frame;
    let spec = ValueSpec {
        calibration_end,
        holdout_end: None,
        unit: TimeUnit::Weeks,
        model: PurchaseModelKind::BgNbd,
        settings: Default::default(),
        penalty: 0.0,
    };
    let failed = |e: crate::engine::error::ValueError| BenchError::Usage(e.to_string());
    let (summary, summary_timing) = timed(|| value::summarize(&rows, "customer_id", spec.periods()).map_err(failed))?;
    let unique = summary.unique_repeat();
    let (fit, fit_timing) =
        timed(|| value::fit_purchase_model(PurchaseModelKind::BgNbd, &unique, Default::default()).map_err(failed))?;
    let (analysis, timing) = timed(|| value::analyse_summary(summary.clone(), &spec, 0).map_err(failed))?;
    let result = json!({
        "customers": analysis.summary.len(),
        "unique_summaries": unique.len(),
        "bgnbd": fit.summary.estimates,
        "bgnbd_log_likelihood": fit.summary.log_likelihood,
        "summary_seconds": summary_timing["seconds"],
        "bgnbd_fit_seconds": fit_timing["seconds"],
    });
    Ok((result, timing))
}

/// Loads the feature columns of a generated customer table as a z-scored matrix (population standard
/// deviation, as scikit-learn's StandardScaler), and its latent segment.
pub fn customer_matrix(path: &Path, rows: Option<usize>) -> Result<(Array2<f64>, Vec<usize>), BenchError> {
    let mut wanted: Vec<String> = CUSTOMER_FEATURES.iter().map(|s| s.to_string()).collect();
    wanted.push("segment".into());
    let table = data::read_table_columns(path, &ReadOptions::default(), Some(&wanted))?;
    let n = rows.unwrap_or(usize::MAX).min(table.frame.height());
    let d = CUSTOMER_FEATURES.len();
    let mut x = Array2::zeros((n, d));
    for (j, name) in CUSTOMER_FEATURES.iter().enumerate() {
        let values = data::quality::numeric_values(data::column(&table.frame, name)?)?;
        let column: Vec<f64> = values.iter().take(n).map(|v| v.unwrap_or(f64::NAN)).collect();
        let mean = column.iter().sum::<f64>() / n as f64;
        let sd = (column.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n as f64).sqrt();
        for (i, v) in column.iter().enumerate() {
            x[[i, j]] = if sd > 0.0 { (v - mean) / sd } else { 0.0 };
        }
    }
    let segment = data::quality::numeric_values(data::column(&table.frame, "segment")?)?
        .iter()
        .take(n)
        .map(|v| v.unwrap_or(0.0) as usize)
        .collect();
    Ok((x, segment))
}

/// Recency, frequency and monetary value of a customer table, as they are (the first `rows`).
fn rfm_values(path: &Path, rows: Option<usize>) -> Result<[Vec<f64>; 3], BenchError> {
    let names = ["recency_days", "frequency", "monetary_total"];
    let wanted: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    let table = data::read_table_columns(path, &ReadOptions::default(), Some(&wanted))?;
    let n = rows.unwrap_or(usize::MAX).min(table.frame.height());
    let column = |name: &str| -> Result<Vec<f64>, BenchError> {
        let values = data::quality::numeric_values(data::column(&table.frame, name)?)?;
        Ok(values.iter().take(n).map(|v| v.unwrap_or(f64::NAN)).collect())
    };
    Ok([column(names[0])?, column(names[1])?, column(names[2])?])
}

/// The settings of one case.
#[derive(Clone, Debug)]
pub struct CaseOptions {
    /// DBSCAN's radius.
    pub eps: Option<f64>,
    /// Number of segments.
    pub k: usize,
    /// Smallest k of a sweep.
    pub k_min: usize,
    /// Largest k of a sweep.
    pub k_max: usize,
    /// Seed.
    pub seed: u64,
    /// Use only the first N rows.
    pub rows: Option<usize>,
    /// Silhouette rows: exact up to this many, sampled above.
    pub silhouette_rows: usize,
    /// Lloyd iterations to time.
    pub iterations: usize,
    /// k-means initialisations (kmeans, sweep).
    pub n_init: usize,
    /// The clv case's calibration end.
    pub calibration_end: Option<NaiveDate>,
}

/// The cases `run_case` knows, with what each times.
pub const CASES: [(&str, &str); 18] = [
    ("load-csv", "read a CSV file into a typed table"),
    ("load-parquet", "read a Parquet file into a table"),
    ("rfm", "aggregate a loaded transaction log to recency, frequency, monetary value per customer"),
    ("lloyd", "one Lloyd iteration (median of several) from fixed starting centres"),
    (
        "kmeans",
        "a full k-means fit: greedy k-means++, --n-init initialisations, tolerance 1e-4, 300 iterations at most",
    ),
    (
        "kmeans-start",
        "a full k-means fit from fixed starting centres (rows i * n / k), kernel 2 (Hamerly's bounds, new fits' \
         default), tolerance 1e-4, 300 iterations at most",
    ),
    ("kmeans-start-lloyd", "the same fit with kernel 1 (Lloyd's, every project fitted before format 12)"),
    ("minibatch", "mini-batch k-means: batches of 1,024, --n-init k-means++ starts on a sample, early stop"),
    (
        "gmm",
        "a Gaussian mixture, full covariance: one k-means start, tolerance 1e-3 on the mean log-likelihood, 100 EM \
         iterations at most",
    ),
    ("dbscan", "DBSCAN with min_samples 5 and --eps (the k-distance curve's knee without it)"),
    (
        "optics",
        "OPTICS with min_samples 5, any radius, groups by xi 0.05 of at least 5 customers (scikit-learn's defaults; use \
         --rows: it is O(n²))",
    ),
    (
        "rfm-rules",
        "RFM scores 1-5 (quintiles, ties together) and the eleven standard named segments, on a customer table",
    ),
    (
        "hybrid",
        "RFM value tiers (total score from 8 and from 12), then k-means (k per tier = --k, 5 starts) inside each tier",
    ),
    (
        "kprototypes",
        "k-prototypes on 7 numeric features and one 2-level category (web_share above its mean), gamma 0.5, one start",
    ),
    ("som", "a 10 x 10 self-organising map, --iterations epochs (use --rows: the peer is slow)"),
    ("ward", "Ward's hierarchical clustering, the whole tree (use --rows: it is O(n²) in memory)"),
    ("sweep", "k-means for every k in a range with inertia, silhouette, Calinski-Harabasz and Davies-Bouldin"),
    ("silhouette", "mean silhouette of the latent segments (exact up to --silhouette-rows, sampled above)"),
];

/// FNV-1a, 64 bits: a hash the Python peer computes the same way, to compare orders and labels.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3))
}

/// Runs one case on one file and returns its JSON report.
pub fn run_case(case: &str, input: &Path, options: &CaseOptions) -> Result<Value, BenchError> {
    let (result, timing) = match case {
        "load-csv" | "load-parquet" => {
            let (table, timing) = timed(|| Ok(read_table(input, &ReadOptions::default())?))?;
            (json!({"rows": table.frame.height(), "columns": table.frame.width()}), timing)
        }
        "rfm" => {
            let table = read_table(input, &ReadOptions::default())?;
            let columns = TransactionColumns {
                customer_id: "customer_id".into(),
                date: "date".into(),
                amount: Some("amount".into()),
                as_of: NaiveDate::parse_from_str(TRANSACTIONS_AS_OF, "%Y-%m-%d").ok(),
                negative_amounts: NegativeAmounts::Allow,
                since: None,
                behaviour: Default::default(),
                value: None,
            };
            let (rfm, timing) = timed(|| Ok(aggregate_transactions(&table.frame, &columns)?))?;
            let sum = |name: &str| -> Result<f64, BenchError> {
                Ok(data::quality::numeric_values(data::column(&rfm.customers, name)?)?.iter().flatten().sum())
            };
            let result = json!({
                "customers": rfm.customers.height(),
                "frequency_sum": sum("frequency")?,
                "monetary_total_sum": sum("monetary_total")?,
                "recency_days_sum": sum("recency_days")?,
            });
            (result, timing)
        }
        "clv" => clv_case(input, options)?,
        "serve" => serve_case(input)?,
        "lloyd" => {
            let (x, _) = customer_matrix(input, options.rows)?;
            let (n, d) = x.dim();
            let k = options.k;
            // Starting centres: rows i * n / k, which any implementation can pick alike.
            let mut centers: Vec<f64> = (0..k).flat_map(|c| x.row(c * n / k).to_vec()).collect();
            let mut state = LloydState::new(x.view())?;
            // One iteration unmeasured (first touch of the memory), then the timed ones.
            centers = state.iterate(&centers);
            let mut seconds = Vec::new();
            let mut previous = centers.clone();
            let (_, timing) = timed(|| {
                for _ in 0..options.iterations.max(1) {
                    let started = Instant::now();
                    let next = state.iterate(&centers);
                    seconds.push(started.elapsed().as_secs_f64());
                    previous = std::mem::replace(&mut centers, next);
                }
                Ok(())
            })?;
            // The inertia of the last assignment (to the centres before the last update), untimed.
            let inertia = state.inertia(&previous);
            let mut timing = timing;
            seconds.sort_by(f64::total_cmp);
            timing["seconds"] = json!(seconds[seconds.len() / 2]);
            let result = json!({"rows": n, "columns": d, "k": k, "iterations": seconds.len() + 1,
                "inertia_last": inertia});
            (result, timing)
        }
        "kmeans" => {
            let (x, _) = customer_matrix(input, options.rows)?;
            let params = KMeansParams::new(options.k).seed(options.seed).n_init(options.n_init);
            let (fitted, timing) = timed(|| Ok(fit(x.view(), &params, &CancelToken::new())?))?;
            (json!({"rows": x.nrows(), "k": options.k, "inertia": fitted.inertia, "n_iter": fitted.n_iter}), timing)
        }
        "kmeans-start" | "kmeans-start-lloyd" => {
            let (x, _) = customer_matrix(input, options.rows)?;
            let (n, k) = (x.nrows(), options.k);
            let kernel = if case == "kmeans-start" { KMeansKernel::Hamerly } else { KMeansKernel::Lloyd };
            let params = KMeansParams::new(k).kernel(kernel);
            // Starting centres: rows i * n / k, which any implementation can pick alike.
            let rows: Vec<usize> = (0..k).map(|c| c * n / k).collect();
            let start = x.select(ndarray::Axis(0), &rows);
            let (fitted, timing) =
                timed(|| Ok(fit_from_centres(x.view(), &params, start.view(), &CancelToken::new())?))?;
            let result = json!({"rows": n, "k": k, "inertia": fitted.inertia, "n_iter": fitted.n_iter,
                "kernel": kernel.label()});
            (result, timing)
        }
        "minibatch" => {
            let (x, _) = customer_matrix(input, options.rows)?;
            let params =
                MiniBatchParams { k: options.k, n_init: options.n_init, seed: options.seed, ..Default::default() };
            let (fitted, timing) = timed(|| Ok(fit_minibatch(x.view(), &params, &CancelToken::new())?))?;
            (json!({"rows": x.nrows(), "k": options.k, "inertia": fitted.inertia, "n_iter": fitted.n_iter}), timing)
        }
        "gmm" => {
            let (x, _) = customer_matrix(input, options.rows)?;
            let params = GmmParams { k: options.k, n_init: options.n_init, seed: options.seed, ..Default::default() };
            let (fitted, timing) = timed(|| Ok(fit_gmm(x.view(), &params, &CancelToken::new())?))?;
            let result = json!({"rows": x.nrows(), "k": options.k, "mean_log_likelihood": fitted.mean_log_likelihood,
                "bic": fitted.bic, "n_iter": fitted.n_iter, "converged": fitted.converged});
            (result, timing)
        }
        "dbscan" => {
            let (x, _) = customer_matrix(input, options.rows)?;
            let params = DbscanParams { eps: options.eps, min_samples: 5, seed: options.seed };
            let (fit, timing) = timed(|| Ok(fit_dbscan(x.view(), &params, &CancelToken::new())?))?;
            let mut sizes = vec![0usize; fit.n_clusters];
            for label in fit.labels.iter().flatten() {
                sizes[*label] += 1;
            }
            let noise = fit.labels.iter().filter(|l| l.is_none()).count();
            let core = fit.core.iter().filter(|&&c| c).count();
            let result = json!({"rows": x.nrows(), "eps": fit.eps, "clusters": fit.n_clusters, "noise": noise,
                "core": core, "largest": sizes.iter().take(5).collect::<Vec<_>>()});
            (result, timing)
        }
        "optics" => {
            let (x, _) = customer_matrix(input, options.rows)?;
            let params = OpticsParams { min_samples: 5, min_cluster_size: Some(5), ..OpticsParams::default() };
            let (fit, timing) = timed(|| Ok(fit_optics(x.view(), &params, &CancelToken::new())?))?;
            let noise = fit.labels.iter().filter(|l| l.is_none()).count();
            // Hashes both sides compute the same way: the order, and the groups numbered by first row.
            let mut first_seen: Vec<Option<usize>> = vec![None; fit.n_clusters];
            let mut next = 0;
            let canonical: Vec<String> = fit
                .labels
                .iter()
                .map(|l| match l {
                    None => "-1".to_string(),
                    Some(g) => {
                        let c = *first_seen[*g].get_or_insert_with(|| {
                            next += 1;
                            next - 1
                        });
                        c.to_string()
                    }
                })
                .collect();
            let order: Vec<String> = fit.ordering.iter().map(|r| r.to_string()).collect();
            let result = json!({"rows": x.nrows(), "clusters": fit.n_clusters, "noise": noise,
                "ordering_hash": format!("{:016x}", fnv1a(order.join(",").as_bytes())),
                "labels_hash": format!("{:016x}", fnv1a(canonical.join(",").as_bytes()))});
            (result, timing)
        }
        "rfm-rules" => {
            let [r, f, m] = rfm_values(input, options.rows)?;
            let params = RfmParams::default();
            let (fit, timing) = timed(|| Ok(fit_rfm(&r, &f, &m, &params)?))?;
            let mut counts = serde_json::Map::new();
            for (s, name) in fit.model.segment_names.iter().enumerate() {
                counts.insert(name.clone(), json!(fit.labels.iter().filter(|&&l| l == s).count()));
            }
            let names: Vec<&str> = fit.labels.iter().map(|&l| fit.model.segment_names[l].as_str()).collect();
            let result = json!({"rows": r.len(), "segments": counts,
                "labels_hash": format!("{:016x}", fnv1a(names.join(",").as_bytes()))});
            (result, timing)
        }
        "hybrid" => {
            let (x, _) = customer_matrix(input, options.rows)?;
            let [r, f, m] = rfm_values(input, options.rows)?;
            let params = HybridParams { k_per_tier: options.k, seed: options.seed, ..HybridParams::default() };
            let (fit, timing) = timed(|| Ok(fit_hybrid(x.view(), [&r, &f, &m], &params, &CancelToken::new())?))?;
            // Customers per tier, and the k-means inertia summed over the tiers.
            let mut tiers = [0usize; 3];
            for s in &fit.scores {
                tiers[params.tier_of(s[0] + s[1] + s[2])] += 1;
            }
            let k = fit.names.len();
            let inertia = crate::engine::metrics::inertia(x.view(), &fit.labels, k)?;
            let result = json!({"rows": x.nrows(), "tier_sizes": tiers, "segments": k, "inertia": inertia});
            (result, timing)
        }
        "kprototypes" => {
            let (x, _) = customer_matrix(input, options.rows)?;
            // web_share (column 7) as a category: above or below its mean; the other seven numeric.
            let web = 7;
            let mixed = ndarray::Array2::from_shape_fn((x.nrows(), 9), |(i, j)| match j {
                0..7 => x[[i, j]],
                7 => f64::from(u8::from(x[[i, web]] > 0.0)),
                _ => f64::from(u8::from(x[[i, web]] <= 0.0)),
            });
            let layout = ColumnLayout { numeric: (0..7).collect(), categorical: vec![vec![7, 8]] };
            let params = KPrototypesParams {
                k: options.k,
                gamma: Some(0.5),
                n_init: options.n_init,
                seed: options.seed,
                ..Default::default()
            };
            let (fit, timing) = timed(|| Ok(fit_kprototypes(mixed.view(), &layout, &params, &CancelToken::new())?))?;
            (json!({"rows": x.nrows(), "k": options.k, "cost": fit.cost, "n_iter": fit.n_iter}), timing)
        }
        "som" => {
            let (x, _) = customer_matrix(input, options.rows)?;
            let params = SomParams { k: options.k, rows: 10, cols: 10, epochs: options.iterations, seed: options.seed };
            let (map, timing) = timed(|| Ok(SomMap::train(x.view(), &params, &CancelToken::new())?))?;
            let error: f64 = map
                .bmu
                .iter()
                .enumerate()
                .map(|(i, &b)| {
                    x.row(i).iter().zip(map.weights.row(b)).map(|(a, w)| (a - w) * (a - w)).sum::<f64>().sqrt()
                })
                .sum::<f64>()
                / x.nrows() as f64;
            (json!({"rows": x.nrows(), "epochs": options.iterations, "quantization_error": error}), timing)
        }
        "ward" => {
            let (x, _) = customer_matrix(input, options.rows)?;
            // Exact at any size: the benchmark builds the whole tree on every row.
            let params = HierarchicalParams {
                max_exact_rows: x.nrows().max(2),
                micro_clusters: 2,
                ..HierarchicalParams::new(options.k)
            };
            let (tree, timing) = timed(|| Ok(Dendrogram::build(x.view(), &params, &CancelToken::new())?))?;
            let top: Vec<f64> = tree.merges.iter().rev().take(10).map(|m| m.height).collect();
            let sizes = crate::engine::cluster::segment_sizes(&tree.cut(options.k), options.k);
            (json!({"rows": x.nrows(), "merges": tree.merges.len(), "top_heights": top, "sizes_at_k": sizes}), timing)
        }
        "sweep" => {
            let (x, _) = customer_matrix(input, options.rows)?;
            let params = crate::engine::cluster::Algorithm::KMeans(
                KMeansParams::new(options.k_min).seed(options.seed).n_init(options.n_init),
            );
            let (result, timing) = timed(|| {
                Ok(sweep_with_silhouette_rows(
                    x.view(),
                    options.k_min,
                    options.k_max,
                    &params,
                    options.silhouette_rows,
                    &JobContext::inline(),
                )?)
            })?;
            let runs: Vec<Value> = result
                .runs
                .iter()
                .map(|r| {
                    json!({"k": r.k, "inertia": r.inertia, "silhouette": r.silhouette,
                        "calinski_harabasz": r.calinski_harabasz, "davies_bouldin": r.davies_bouldin,
                        "n_iter": r.n_iter})
                })
                .collect();
            (json!({"rows": x.nrows(), "runs": runs}), timing)
        }
        "silhouette" => {
            let (x, labels) = customer_matrix(input, options.rows)?;
            let k = labels.iter().max().map_or(0, |m| m + 1);
            let (s, timing) =
                timed(|| Ok(silhouette_with_limit(x.view(), &labels, k, options.seed, options.silhouette_rows)?))?;
            // The other two indices on the same labels, for the record (untimed).
            let ch = calinski_harabasz(x.view(), &labels, k)?;
            let db = davies_bouldin(x.view(), &labels, k)?;
            let result = json!({"rows": x.nrows(), "silhouette": s.mean, "exact": s.exact,
                "sample_size": s.sample_size, "calinski_harabasz": ch, "davies_bouldin": db});
            (result, timing)
        }
        other => {
            let known: Vec<&str> = CASES.iter().map(|c| c.0).collect();
            return Err(BenchError::Usage(format!("unknown case '{other}'; the cases are {}", known.join(", "))));
        }
    };
    let mut report = json!({
        "case": case,
        "tool": "strata",
        "input": input.display().to_string(),
        "threads": rayon::current_num_threads(),
        "isa": Isa::detect().name(),
        "result": result,
    });
    if let (Some(report), Some(timing)) = (report.as_object_mut(), timing.as_object()) {
        for (key, value) in timing {
            report.insert(key.clone(), value.clone());
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_data_are_deterministic_skewed_and_complete() {
        let a = customer_table(2000, 7).unwrap();
        let b = customer_table(2000, 7).unwrap();
        assert!(a.equals(&b));
        assert!(!a.equals(&customer_table(2000, 8).unwrap()));
        assert_eq!(a.width(), 10);
        let total = data::quality::numeric_values(a.column("monetary_total").unwrap()).unwrap();
        let mut v: Vec<f64> = total.iter().flatten().copied().collect();
        v.sort_by(f64::total_cmp);
        let (median, mean) = (v[v.len() / 2], v.iter().sum::<f64>() / v.len() as f64);
        assert!(mean > 1.5 * median, "monetary value should be right-skewed: mean {mean}, median {median}");
        let log = transaction_log(5000, 3).unwrap();
        assert_eq!(log.height(), 5000);
        assert_eq!(log.column("date").unwrap().dtype(), &DataType::Date);
        assert!(log.equals(&transaction_log(5000, 3).unwrap()));
        // The date-time log: the same days, a time of day on each, read back as date-times.
        let timed = transaction_log_with_times(5000, 3).unwrap();
        let first = timed.column("date").unwrap().str().unwrap().get(0).unwrap().to_string();
        assert_eq!(first.len(), 19, "{first}");
        assert!(timed.column("amount").unwrap().equals(log.column("amount").unwrap()));
    }

    #[test]
    fn every_case_runs_on_generated_files() {
        let dir = tempfile::tempdir().unwrap();
        let written = generate(dir.path(), &[600], &[3000], &[3000], 1).unwrap();
        assert_eq!(written.len(), 5);
        // A second call finds the files and writes nothing.
        assert!(generate(dir.path(), &[600], &[3000], &[3000], 1).unwrap().is_empty());
        let customers = dir.path().join("customers_600_s1.parquet");
        let log = dir.path().join("transactions_3000_s1.parquet");
        let options = CaseOptions {
            eps: None,
            k: 4,
            k_min: 2,
            k_max: 4,
            seed: 1,
            rows: None,
            silhouette_rows: 300,
            iterations: 3,
            n_init: 2,
            calibration_end: None,
        };
        for (case, input) in [
            ("load-csv", dir.path().join("customers_600_s1.csv")),
            ("load-csv", dir.path().join("transactions_datetime_3000_s1.csv")),
            ("load-parquet", customers.clone()),
            ("rfm", log.clone()),
            ("lloyd", customers.clone()),
            ("kmeans", customers.clone()),
            ("sweep", customers.clone()),
            ("silhouette", customers.clone()),
            ("minibatch", customers.clone()),
            ("gmm", customers.clone()),
            ("ward", customers.clone()),
            ("dbscan", customers.clone()),
            ("optics", customers.clone()),
            ("kprototypes", customers.clone()),
            ("som", customers.clone()),
            ("rfm-rules", customers.clone()),
            ("hybrid", customers.clone()),
        ] {
            let report = run_case(case, &input, &options).unwrap();
            assert!(report["seconds"].as_f64().unwrap() >= 0.0, "{case}");
            assert!(report["result"].is_object(), "{case}");
        }
        let rfm = run_case("rfm", &log, &options).unwrap();
        assert_eq!(rfm["result"]["frequency_sum"].as_f64().unwrap(), 3000.0);
        let sweep = run_case("sweep", &customers, &options).unwrap();
        assert_eq!(sweep["result"]["runs"].as_array().unwrap().len(), 3);
        assert!(run_case("nonsense", &customers, &options).is_err());
        // The clv case needs its calibration end, and fits the generated log's customers.
        let err = run_case("clv", &log, &options).unwrap_err().to_string();
        assert!(err.contains("--calibration-end"), "{err}");
        let clv_options = CaseOptions { calibration_end: NaiveDate::from_ymd_opt(1998, 3, 31), ..options.clone() };
        let clv = run_case("clv", &log, &clv_options).unwrap();
        assert!(clv["result"]["customers"].as_u64().unwrap() > 0, "{clv}");
        assert_eq!(clv["result"]["bgnbd"].as_array().unwrap().len(), 4, "{clv}");
        assert!(clv["result"]["bgnbd_fit_seconds"].as_f64().unwrap() >= 0.0);
    }
}
