//! Tests of the parent module.

use super::*;
use crate::engine::data::formats::check_explicit_format;

fn ms(y: i32, m: u32, d: u32, h: u32, min: u32, s: u32) -> i64 {
    NaiveDate::from_ymd_opt(y, m, d).unwrap().and_hms_opt(h, min, s).unwrap().and_utc().timestamp_millis()
}

#[test]
fn iso_variants() {
    let p = |s: &str| parse_iso(s).and_then(|p| p.at_offset(0)).map(|s| s.ms);
    assert_eq!(p("2017-08-31"), Some(ms(2017, 8, 31, 0, 0, 0)));
    assert_eq!(p("2017-08-31 14:22"), Some(ms(2017, 8, 31, 14, 22, 0)));
    assert_eq!(p("2017-08-31T14:22:05"), Some(ms(2017, 8, 31, 14, 22, 5)));
    assert_eq!(p("2017-08-31T14:22:05.250"), Some(ms(2017, 8, 31, 14, 22, 5) + 250));
    assert_eq!(p("2017-08-31T14:22:05.123456789Z"), Some(ms(2017, 8, 31, 14, 22, 5) + 123));
    assert_eq!(p("2017-09-01T01:00:00+02:00"), Some(ms(2017, 8, 31, 23, 0, 0)));
    assert_eq!(p("2017-08-31T23:00:00-0500"), Some(ms(2017, 9, 1, 4, 0, 0)));
    assert_eq!(p("2017-08-31 23:00:00 +05"), Some(ms(2017, 8, 31, 18, 0, 0)));
    for bad in ["2017-02-30", "2017-08-31T25:00", "2017-08-31T", "2017-08-31X", "2017-08-31T10:00+99:00", ""] {
        assert_eq!(p(bad), None, "{bad}");
    }
    // At a day offset, a value with an offset moves; one without stays as written.
    let at = |s: &str| parse_iso(s).and_then(|p| p.at_offset(120)).map(|s| s.days());
    assert_eq!(at("2017-08-31T23:00:00Z"), Some(days_from_ymd(2017, 9, 1).unwrap()));
    assert_eq!(at("2017-08-31 23:00:00"), Some(days_from_ymd(2017, 8, 31).unwrap()));
}

#[test]
fn numeric_named_and_numbers() {
    let day = |l: DateLayout, s: &str| l.parse(s).map(|p| p.at_offset(0).unwrap().days());
    let d = |y, m, dd| Some(days_from_ymd(y, m, dd).unwrap());
    let dmy = |sep| DateLayout::Numeric { order: FieldOrder::DayFirst, separator: sep };
    let mdy = |sep| DateLayout::Numeric { order: FieldOrder::MonthFirst, separator: sep };
    assert_eq!(day(dmy(b'/'), "31/08/2017"), d(2017, 8, 31));
    assert_eq!(day(dmy(b'.'), "1.8.2017"), d(2017, 8, 1));
    assert_eq!(day(mdy(b'/'), "08/31/2017 10:00"), d(2017, 8, 31));
    assert_eq!(day(mdy(b'-'), "8-31-2017"), d(2017, 8, 31));
    assert_eq!(day(dmy(b'/'), "31/08/17"), None);
    assert_eq!(day(DateLayout::DayMonthName, "31 Aug 2017"), d(2017, 8, 31));
    assert_eq!(day(DateLayout::DayMonthName, "31-AUG-2017"), d(2017, 8, 31));
    assert_eq!(day(DateLayout::DayMonthName, "1 September 2017 10:30"), d(2017, 9, 1));
    assert_eq!(day(DateLayout::MonthNameDay, "Aug 31, 2017"), d(2017, 8, 31));
    assert_eq!(day(DateLayout::MonthNameDay, "August 31 2017"), d(2017, 8, 31));
    assert_eq!(day(DateLayout::DayMonthName, "31-AUG-17"), None);
    assert_eq!(day(DateLayout::EpochSeconds, "1504188000"), d(2017, 8, 31));
    assert_eq!(day(DateLayout::EpochMillis, "1504188000000"), d(2017, 8, 31));
    assert_eq!(day(DateLayout::ExcelSerial, "42978"), d(2017, 8, 31));
    assert_eq!(day(DateLayout::ExcelSerial, "42978.75"), d(2017, 8, 31));
    assert_eq!(day(DateLayout::EpochSeconds, "99999999999999999999"), None);
    assert_eq!(day(DateLayout::EpochSeconds, "1e400"), None);
    assert_eq!(day(DateLayout::Explicit("%d-%b-%y".into()), "31-AUG-17"), d(2017, 8, 31));
    assert_eq!(day(DateLayout::Explicit("%d/%m/%Y %H:%M %z".into()), "31/08/2017 23:30 -0100"), d(2017, 9, 1));
    assert_eq!(month_from_name("Sept"), Some(9));
    assert_eq!(month_from_name("Augus"), None);
}

#[test]
fn detection_refuses_ambiguity_and_two_digit_years() {
    let f = ValueFormats::default();
    let err = detect_text_dates("date", &["03/05/2017", "04/06/2017"], true, &f).unwrap_err().to_string();
    assert_eq!(
        err,
        "column 'date' is ambiguous: '03/05/2017' is 3 May (day/month) or March 5 (month/day); pass --date-format %d/%m/%Y or %m/%d/%Y"
    );
    let (layout, _) =
        detect_text_dates("date", &["03/05/2017", "31/05/2017", "30/06/2017"], true, &f).unwrap().unwrap();
    assert_eq!(layout.format_code(), "%d/%m/%Y");
    let (layout, _) = detect_text_dates("date", &["03/05/2017", "06/30/2017"], true, &f).unwrap().unwrap();
    assert_eq!(layout.format_code(), "%m/%d/%Y");
    match detect_text_dates("d", &["31-AUG-17", "01-SEP-17"], false, &f).unwrap() {
        Err(NotDates::TwoDigitYears(line)) => assert!(line.contains("--date-format %d-%b-%y"), "{line}"),
        other => panic!("{other:?}"),
    }
    let explicit = ValueFormats { date_format: Some("%m/%d/%Y".into()), ..ValueFormats::default() };
    let (layout, parsed) = detect_text_dates("date", &["03/05/2017"], true, &explicit).unwrap().unwrap();
    assert_eq!(layout.format_code(), "%m/%d/%Y");
    assert_eq!(parsed[0].unwrap().at_offset(0).unwrap().days(), days_from_ymd(2017, 3, 5).unwrap());
    assert!(check_explicit_format("%d/%m/%Y").is_ok() && check_explicit_format("%Q").is_err());
    assert!(check_explicit_format("%H:%M").is_err() && check_explicit_format("epoch_ms").is_ok());
}
