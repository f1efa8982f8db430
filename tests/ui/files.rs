//! A transaction log beyond RFM in the window: behavioural features switched on where the log's
//! columns are chosen and offered on the Features screen; a project that reads several monthly
//! files through a pattern and joins a CRM table by a differently named key shows the match rate.

use super::*;

/// A shop log: 60 customers, 300 orders over a year, each on the web, in the shop or by phone.
fn shop_log(dir: &Path) -> std::path::PathBuf {
    let mut text = String::from("customer_id,order_date,amount,channel,items\n");
    for i in 0..300usize {
        let customer = i % 60;
        let month = 1 + (i / 25) % 12;
        let day = 1 + (i * 7 + customer) % 28;
        let channel = ["web", "shop", "phone"][(customer + i / 60) % 3];
        let amount = 5 + (customer % 7) * 20;
        text.push_str(&format!("c{customer},2024-{month:02}-{day:02},{amount}.25,{channel},{}\n", 1 + i % 37));
    }
    let path = dir.join("orders.csv");
    std::fs::write(&path, text).unwrap();
    path
}

fn behaviour(app: &StrataApp) -> strata::engine::features::behaviour::BehaviourSpec {
    let spec = &app.doc.as_ref().unwrap().project.spec;
    let strata::engine::pipeline::TableKind::TransactionLog(t) = &spec.table else { panic!("{:?}", spec.table) };
    t.behaviour.clone()
}

#[test]
fn a_breakdown_by_channel_switched_on_for_a_log_is_offered_as_features() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = harness(StartProject::Empty, &ScriptedDialogs::new());
    harness.state_mut().push(Command::OpenData(shop_log(dir.path())));
    harness.run();
    assert!(harness.state().output.is_some(), "{:?}", harness.state().last_error);
    assert!(behaviour(harness.state()).is_empty());

    // Before: the Features screen offers RFM and tenure only.
    tab(&harness, Screen::Features);
    harness.run();
    assert!(harness.query_by_label("spend_share_channel_web").is_none());

    tab(&harness, Screen::Data);
    harness.run();
    // The log's own id, date and amount are not offered for a breakdown, nor is a number.
    assert!(harness.query_by_label("Break down by amount").is_none());
    assert!(harness.query_by_label("Break down by items").is_none());
    harness.get_by_label("Break down by channel").click();
    harness.run();
    harness.get_by_label("Rhythm, returns and weekend share").click();
    harness.run();
    let asked = behaviour(harness.state());
    assert_eq!((asked.breakdown, asked.rhythm), (vec!["channel".to_string()], true));
    let out = harness.state().output.as_ref().unwrap();
    assert!(out.result.customers.column("order_share_channel_phone").is_ok(), "{:?}", harness.state().last_error);
    assert_eq!(out.result.customers.height(), 60);

    tab(&harness, Screen::Features);
    harness.run();
    for offered in ["spend_share_channel_web", "order_share_channel_shop", "distinct_channel", "gap_mean_days"] {
        harness.get_by_label(offered);
    }

    // Undo takes the breakdown back, as every edit.
    harness.state_mut().push(Command::Undo);
    harness.run();
    harness.state_mut().push(Command::Undo);
    harness.run();
    assert!(behaviour(harness.state()).is_empty());
    assert!(harness.query_by_label("spend_share_channel_web").is_none());
}

#[test]
fn a_project_over_monthly_files_with_crm_attributes_shows_the_match_rate() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("exports")).unwrap();
    for month in 1..=3 {
        let mut text = String::from("cust,day,total\n");
        for c in 0..30usize {
            text.push_str(&format!("k{c},2024-{month:02}-{:02},{}.0\n", 1 + c % 28, 10 + c * month));
        }
        std::fs::write(dir.path().join(format!("exports/orders_2024-{month:02}.csv")), text).unwrap();
    }
    // The CRM knows 27 of the 30 customers, and two people who never ordered.
    let mut crm = String::from("CustomerID,tier\n");
    for c in (3..30).chain([90, 91]) {
        crm.push_str(&format!("k{c},{}\n", ["gold", "silver"][c % 2]));
    }
    std::fs::write(dir.path().join("crm.csv"), crm).unwrap();
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(["fit", "--transactions", "exports/orders_2024-*.csv", "--customer-id", "cust", "--date", "day"])
        .args(["--amount", "total", "--attributes", "crm.csv", "--attributes-key", "CustomerID"])
        .args(["--features", "recency_days,monetary_total", "--k", "2", "--project", "p.strata"])
        .current_dir(dir.path())
        .status()
        .unwrap();
    assert!(status.success());

    let mut harness = harness(StartProject::File(dir.path().join("p.strata")), &ScriptedDialogs::new());
    let app = harness.state();
    assert!(app.output.is_some(), "{:?}", app.last_error);
    let join = app.output.as_ref().unwrap().result.join.clone().unwrap();
    assert_eq!((join.matched, join.log_only, join.attributes_only), (27, 3, 2));
    tab(&harness, Screen::Data);
    harness.run();
    harness.get_by_label("exports/orders_2024-*.csv");
    harness.get_by_label("Matched: 27 of 30 customers (90.0%)");
    harness.get_by_label_contains("3 customers without attributes");
    harness.get_by_label_contains("2 attribute rows without a customer");
    // The rows of all three files, with the file each came from.
    let preview = harness.state().preview.as_ref().unwrap();
    assert_eq!(preview.frame.height(), 90);
    assert!(preview.frame.column("source_file").is_ok());
}
