//! Start-up benchmark of the real binary: exec → handshake line, RSS after start-up,
//! GetProviderSchema round trips (tfplugin6), RSS after them, and the Shutdown → exit time,
//! over N runs (`BENCH_RUNS`, default 50). Run with
//! `cargo bench --bench plugin_startup` (builds the release binary). Prints figures; asserts
//! nothing about them.

#[path = "../tests/plugin_support/mod.rs"]
mod plugin_support;

use std::time::{Duration, Instant};

use plugin_support::*;

struct Sample {
    handshake: Duration,
    rss_kib: u64,
    schema: Vec<Duration>,
    schema_outcome: String,
    rss_after_schema_kib: u64,
    exit_after_shutdown: Duration,
}

/// GetProviderSchema calls per run (the first one, which may warm caches, is included).
const SCHEMA_CALLS: usize = 20;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (p / 100.0 * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn summary(name: &str, unit: &str, mut values: Vec<f64>) {
    values.sort_by(f64::total_cmp);
    println!(
        "{name:<34} median {:>9.3} {unit}   p95 {:>9.3} {unit}   min {:>9.3} {unit}   max {:>9.3} {unit}",
        percentile(&values, 50.0),
        percentile(&values, 95.0),
        values.first().copied().unwrap_or(f64::NAN),
        values.last().copied().unwrap_or(f64::NAN),
    );
}

/// One run: start as Terraform would, read the handshake, sample RSS, connect, Shutdown.
async fn run_once(bin: &str, client: Option<&ClientIdentity>) -> Sample {
    let mut p = Plugin::terraform_like_program(bin, "5,6", client.map(|c| c.cert_pem.as_str()));
    let (hs, handshake) = p.handshake_timed();
    let rss_kib = p.rss_kib().unwrap_or(0);
    let channel = match client {
        Some(id) => tls_channel(&hs.addr, client_tls_config(&hs.cert_der(), Some(id))).await,
        None => plain_channel(&hs.addr).await,
    }
    .expect("connect");
    let mut provider =
        amlauth::proto::tfplugin6::provider_client::ProviderClient::new(channel.clone())
            .max_decoding_message_size(256 * 1024 * 1024);
    let mut schema = Vec::with_capacity(SCHEMA_CALLS);
    let mut schema_outcome = String::new();
    for _ in 0..SCHEMA_CALLS {
        let start = Instant::now();
        let reply = provider
            .get_provider_schema(amlauth::proto::tfplugin6::get_provider_schema::Request {})
            .await;
        schema.push(start.elapsed());
        schema_outcome = match reply {
            Ok(r) => format!(
                "ok, {} resource types",
                r.into_inner().resource_schemas.len()
            ),
            Err(s) => format!("{:?} ({})", s.code(), s.message()),
        };
    }
    let rss_after_schema_kib = p.rss_kib().unwrap_or(0);
    let sent = Instant::now();
    shutdown(channel).await.expect("shutdown");
    let (_, exited) = p
        .wait_exit_timed(Duration::from_secs(10))
        .expect("exit after shutdown");
    Sample {
        handshake,
        rss_kib,
        schema,
        schema_outcome,
        rss_after_schema_kib,
        exit_after_shutdown: exited - sent,
    }
}

fn report(label: &str, samples: &[Sample]) {
    println!("-- {label} ({} runs)", samples.len());
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    summary(
        "exec -> handshake line",
        "ms",
        samples.iter().map(|s| ms(s.handshake)).collect(),
    );
    summary(
        "RSS after start-up",
        "MiB",
        samples.iter().map(|s| s.rss_kib as f64 / 1024.0).collect(),
    );
    summary(
        "GetProviderSchema round trip",
        "ms",
        samples
            .iter()
            .flat_map(|s| s.schema.iter().map(|d| ms(*d)))
            .collect(),
    );
    if let Some(s) = samples.last() {
        println!("{:<34} {}", "  (last reply)", s.schema_outcome);
    }
    summary(
        "RSS after GetProviderSchema",
        "MiB",
        samples
            .iter()
            .map(|s| s.rss_after_schema_kib as f64 / 1024.0)
            .collect(),
    );
    summary(
        "Shutdown RPC -> process exit",
        "ms",
        samples.iter().map(|s| ms(s.exit_after_shutdown)).collect(),
    );
}

fn main() {
    // `cargo bench` passes `--bench`; any other argument is a filter we do not support.
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(50);
    install_crypto();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let client = go_plugin_like_client_cert();

    // BENCH_BIN measures another build of the binary (e.g. with different build flags).
    let bin = std::env::var("BENCH_BIN").unwrap_or_else(|_| BIN.to_owned());
    let size = std::fs::metadata(&bin).map(|m| m.len()).unwrap_or(0);
    println!("binary: {bin}");
    println!(
        "binary size: {:.2} MiB ({size} bytes)",
        size as f64 / 1024.0 / 1024.0
    );

    // Floor: the same spawn-and-read-a-line path with a program that does nothing else.
    let floor: Vec<f64> = (0..runs)
        .map(|_| {
            let p = Plugin::spawn_program("/bin/echo", |c| {
                c.arg("1|6|unix|x|grpc|");
            });
            p.handshake_timed().1.as_secs_f64() * 1000.0
        })
        .collect();
    summary("floor: exec /bin/echo -> line", "ms", floor);

    // One untimed start to warm the page cache.
    rt.block_on(run_once(&bin, Some(&client)));

    let mtls: Vec<Sample> = (0..runs)
        .map(|_| rt.block_on(run_once(&bin, Some(&client))))
        .collect();
    report(
        "AutoMTLS (PLUGIN_CLIENT_CERT set, Terraform's default)",
        &mtls,
    );
    let plain: Vec<Sample> = (0..runs)
        .map(|_| rt.block_on(run_once(&bin, None)))
        .collect();
    report("plaintext (TF_DISABLE_PLUGIN_TLS)", &plain);
}
