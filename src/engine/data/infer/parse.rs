//! Reading one cell's text as a number or a date, fast where the text is plain and exactly as the
//! general parsers read it.

use chrono::NaiveDate;

/// `s.trim()`, without walking the text by characters when both ends are ASCII and not white space
/// (as nearly every cell's are): Unicode's white space in ASCII is tab to carriage return and space.
#[inline]
pub(crate) fn trim_cell(s: &str) -> &str {
    let plain = |b: u8| b.is_ascii() && b != b' ' && !(0x09..=0x0D).contains(&b);
    match (s.as_bytes().first(), s.as_bytes().last()) {
        (Some(&first), Some(&last)) if plain(first) && plain(last) => s,
        _ => s.trim(),
    }
}

/// Parses a float the way users write them, including "inf", "-Infinity" and "NaN".
pub(crate) fn parse_float(s: &str) -> Option<f64> {
    const WORDS: [(&str, f64); 7] = [
        ("inf", f64::INFINITY),
        ("+inf", f64::INFINITY),
        ("infinity", f64::INFINITY),
        ("+infinity", f64::INFINITY),
        ("-inf", f64::NEG_INFINITY),
        ("-infinity", f64::NEG_INFINITY),
        ("nan", f64::NAN),
    ];
    let t = trim_cell(s);
    // Without a lower-cased copy of every text that is not a number (a text column is asked cell
    // by cell whether its values are numbers).
    plain_decimal(t)
        .or_else(|| t.parse::<f64>().ok())
        .or_else(|| WORDS.iter().find(|(word, _)| t.eq_ignore_ascii_case(word)).map(|&(_, v)| v))
}

/// The canonical `YYYY-MM-DD` (ten bytes) without chrono's general parser; anything else is left
/// to it, so what is accepted does not change.
pub(super) fn fast_iso_date(t: &str) -> Option<NaiveDate> {
    let (year, month, day) = iso_fields(t)?;
    NaiveDate::from_ymd_opt(year, month, day)
}

/// Year, month and day of ten bytes `YYYY-MM-DD` whose fields are all digits, whatever their values.
fn iso_fields(t: &str) -> Option<(i32, u32, u32)> {
    let b = t.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let number = |range: std::ops::Range<usize>| {
        b[range].iter().try_fold(0u32, |acc, &c| c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0')))
    };
    Some((number(0..4)? as i32, number(5..7)?, number(8..10)?))
}

/// The canonical `YYYY-MM-DD` as days from 1970-01-01 (polars' Date), for exactly the dates
/// [`fast_iso_date`] reads, without building a date: the day is checked against its month's length
/// and the days counted from the civil calendar (Hinnant's `days_from_civil`, proleptic Gregorian as
/// chrono's).
pub(super) fn iso_days(t: &str) -> Option<i32> {
    let (year, month, day) = iso_fields(t)?;
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let length = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        1..=12 => 31,
        _ => return None,
    };
    if day == 0 || day > length {
        return None;
    }
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = (year - era * 400) as u32;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    Some(era * 146_097 + day_of_era as i32 - 719_468)
}

/// Plain decimals such as `-12.50` or `7` (at most 19 digits, at least one before the point, whose
/// integer is at most 2^53), read as `str::parse` reads them without its general algorithm: the
/// digits as an integer and the power of ten are both exact doubles, and IEEE division rounds their
/// quotient correctly, as the general algorithm does (Clinger's fast path). `None` for anything
/// else, which the general parser then reads.
#[inline]
pub(super) fn plain_decimal(t: &str) -> Option<f64> {
    let b = t.as_bytes();
    let (negative, digits) = match b.first()? {
        b'-' => (true, &b[1..]),
        b'+' => (false, &b[1..]),
        _ => (false, b),
    };
    let (mut mantissa, mut count, mut fraction) = (0u64, 0usize, None::<usize>);
    for &c in digits {
        if c.is_ascii_digit() {
            count += 1;
            if count > 19 {
                return None;
            }
            mantissa = mantissa * 10 + u64::from(c - b'0');
            fraction = fraction.map(|f| f + 1);
        } else if c == b'.' && fraction.is_none() && count > 0 {
            fraction = Some(0);
        } else {
            return None;
        }
    }
    if count == 0 || mantissa > 1 << 53 {
        return None;
    }
    let value = mantissa as f64 / POWERS_OF_TEN[fraction.unwrap_or(0)];
    Some(if negative { -value } else { value })
}

/// Whether a cell is a number written with leading zeros (`007`, `00042`): an id or a code, not a
/// quantity.
pub(super) fn has_leading_zero(s: &str) -> bool {
    let t = trim_cell(s).as_bytes();
    t.len() >= 2 && t[0] == b'0' && t.iter().all(u8::is_ascii_digit)
}

/// A cell as a whole number, as `str::parse::<i64>` reads it trimmed, and whether it is written
/// with leading zeros; `word` is its first eight bytes (see [`Cells::cell_word`]).
///
/// [`Cells::cell_word`]: super::Cells::cell_word
#[inline(always)]
pub(super) fn whole_number(s: &str, word: u64) -> Option<(i64, bool)> {
    short_whole(word, s.len()).unwrap_or_else(|| trim_cell(s).parse::<i64>().ok().map(|v| (v, has_leading_zero(s))))
}

/// A cell of `len` bytes whose first eight are `word`, when it is a short plain number: as
/// [`whole_number`] reads it (`None` inside when it has a point, which no whole number has).
/// `None` when it is not such a number, and only its text can say what it is.
#[inline(always)]
pub(super) fn short_whole(word: u64, len: usize) -> Option<Option<(i64, bool)>> {
    short_number(word, len).map(|short| short.int().map(|v| (v, short.leading_zero)))
}

/// As [`short_whole`], read as [`number`] reads it.
#[inline(always)]
pub(super) fn short_float(word: u64, len: usize) -> Option<(f64, bool)> {
    short_number(word, len).map(|short| (short.float(), short.leading_zero))
}

/// A cell as a number, as [`parse_float`] reads it, and whether it is written with leading zeros.
#[inline(always)]
pub(super) fn number(s: &str, word: u64) -> Option<(f64, bool)> {
    short_float(word, s.len()).or_else(|| parse_float(s).map(|v| (v, has_leading_zero(s))))
}

/// A text's first eight bytes as a little-endian word, zero past its end (see
/// [`super::Cells::cell_word`]).
#[inline]
pub(in crate::engine::data) fn padded_word(s: &str) -> u64 {
    let mut word = [0u8; 8];
    let n = s.len().min(8);
    word[..n].copy_from_slice(&s.as_bytes()[..n]);
    u64::from_le_bytes(word)
}

/// A cell of at most eight bytes that is `[+-]digits[.digits]` with a digit before the point, read
/// whole from its first eight bytes rather than byte by byte (the general readers' loops spend more
/// on guessing where a short number ends than on its digits).
#[derive(Clone, Copy, Debug, PartialEq)]
struct ShortNumber {
    /// The digits without the point, as an integer (at most 99,999,999).
    digits: u64,
    /// How many digits follow the point; `None` without a point.
    fraction: Option<u32>,
    negative: bool,
    /// Unsigned, without a point, at least two digits and the first a zero (`007`).
    leading_zero: bool,
}

impl ShortNumber {
    /// As a float: the digits and the power of ten are exact doubles and their quotient is
    /// correctly rounded, so this is `str::parse`'s value (as [`plain_decimal`]'s).
    #[inline]
    fn float(self) -> f64 {
        let value = self.digits as f64 / POWERS_OF_TEN[self.fraction.unwrap_or(0) as usize];
        if self.negative { -value } else { value }
    }

    /// As a whole number, where it has no point.
    #[inline]
    fn int(self) -> Option<i64> {
        let value = self.digits as i64;
        self.fraction.is_none().then_some(if self.negative { -value } else { value })
    }
}

const POWERS_OF_TEN: [f64; 20] =
    [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19];

/// The cell of `len` bytes whose first eight bytes are `word` (little-endian; the bytes past `len`
/// are ignored) as a [`ShortNumber`]; `None` for anything else, white space included, which the
/// general readers then take.
#[inline(always)]
fn short_number(word: u64, len: usize) -> Option<ShortNumber> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    // The low `n` bytes.
    let low = |n: usize| if n >= 8 { u64::MAX } else { (1u64 << (8 * n)) - 1 };
    if len == 0 || len > 8 {
        return None;
    }
    let mut w = word & low(len);
    let mut n = len;
    let first = w as u8;
    let signed = first == b'-' || first == b'+';
    if signed {
        w >>= 8;
        n -= 1;
    }
    // The bytes that are the point, found exactly (no borrow from one byte into the next).
    let y = w ^ (ONES * u64::from(b'.'));
    let points = !(((y & !(ONES * 0x80)) + !(ONES * 0x80)) | y) & (ONES * 0x80) & low(n);
    let fraction = if points == 0 {
        None
    } else {
        let at = (points.trailing_zeros() / 8) as usize;
        if points & (points - 1) != 0 || at == 0 {
            return None;
        }
        // The point taken out: the digits after it move down one byte.
        let after = if at + 1 >= 8 { 0 } else { w >> (8 * (at + 1)) };
        w = (w & low(at)) | after << (8 * at);
        n -= 1;
        Some((n - at) as u32)
    };
    if n == 0 {
        return None;
    }
    // Each byte a digit: '0'..'9' are 0x30..0x39, so the byte less 0x30 (as a xor) is below 16 and
    // below 10 (adding 6 stays below 16).
    let x = (w ^ (ONES * 0x30)) & low(n);
    if x & (ONES * 0xF0) != 0 || x.wrapping_add(ONES * 0x06) & (ONES * 0xF0) != 0 {
        return None;
    }
    // The digits, the first the most significant, moved to the top of the word and summed in pairs,
    // fours and eights.
    let v = x << (8 * (8 - n));
    let v = ((v & 0x0F0F_0F0F_0F0F_0F0F).wrapping_mul(2561)) >> 8;
    let v = ((v & 0x00FF_00FF_00FF_00FF).wrapping_mul(6_553_601)) >> 16;
    let digits = ((v & 0x0000_FFFF_0000_FFFF).wrapping_mul(42_949_672_960_001)) >> 32;
    Some(ShortNumber {
        digits,
        fraction,
        negative: first == b'-',
        leading_zero: !signed && fraction.is_none() && n >= 2 && x & 0xFF == 0,
    })
}
