//! KPI tables: named columns in a fixed order, rows of cells, exported as JSON (serde)
//! or CSV with a header row. Decimals (money, rates) are exact strings in both.

use std::fmt;
use std::sync::Arc;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::ser::{SerializeMap, SerializeStruct};
use serde::{Serialize, Serializer};

/// One value of a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    /// A count, a number of seconds or days.
    Int(i64),
    /// An id, a label, a period. Shared: the rows of a table that show the same
    /// name or period hold one allocation of it.
    Text(Arc<str>),
    /// An exact decimal: money, a rate, an average. Exported as a string.
    Decimal(Decimal),
    /// Not defined (a rate whose denominator is zero).
    Null,
}

impl Cell {
    /// `num / den` rounded half-even to 10 decimal places, or `Null` when `den` is 0.
    pub fn ratio(num: i64, den: i64) -> Cell {
        Cell::ratio_dp(i128::from(num), i128::from(den), 10)
    }

    /// `num / den` rounded half-even to `dp` decimal places without trailing zeros, or
    /// `Null` when `den` is 0.
    pub fn ratio_dp(num: i128, den: i128, dp: u32) -> Cell {
        if den == 0 {
            return Cell::Null;
        }
        match (
            Decimal::try_from_i128_with_scale(num, 0),
            Decimal::try_from_i128_with_scale(den, 0),
        ) {
            (Ok(n), Ok(d)) => n
                .checked_div(d)
                .map(|q| {
                    Cell::Decimal(
                        q.round_dp_with_strategy(dp, RoundingStrategy::MidpointNearestEven)
                            .normalize(),
                    )
                })
                .unwrap_or(Cell::Null),
            _ => Cell::Null,
        }
    }

    /// An amount in minor units as a decimal with `scale` places.
    pub fn money(minor: i64, scale: u32) -> Cell {
        Cell::Decimal(Decimal::new(minor, scale))
    }

    /// The value as a float (rates, for charts and comparisons), if numeric.
    pub fn as_f64(&self) -> Option<f64> {
        use rust_decimal::prelude::ToPrimitive;
        match self {
            Cell::Int(i) => Some(*i as f64),
            Cell::Decimal(d) => d.to_f64(),
            _ => None,
        }
    }
}

impl fmt::Display for Cell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cell::Int(i) => write!(f, "{i}"),
            Cell::Text(s) => f.write_str(s),
            Cell::Decimal(d) => write!(f, "{d}"),
            Cell::Null => Ok(()),
        }
    }
}

impl Serialize for Cell {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Cell::Int(i) => s.serialize_i64(*i),
            Cell::Text(t) => s.serialize_str(t),
            Cell::Decimal(d) => s.serialize_str(&d.to_string()),
            Cell::Null => s.serialize_none(),
        }
    }
}

/// One KPI table: a stable name, stable column names, rows in a stable order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KpiTable {
    /// The table's name, e.g. `summary`.
    pub name: &'static str,
    /// Column names, in order.
    pub columns: &'static [&'static str],
    /// Rows; each has one cell per column.
    pub rows: Vec<Vec<Cell>>,
}

struct Row<'a>(&'a [&'static str], &'a [Cell]);

impl Serialize for Row<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (c, v) in self.0.iter().zip(self.1) {
            m.serialize_entry(c, v)?;
        }
        m.end()
    }
}

struct Rows<'a>(&'a KpiTable);

impl Serialize for Rows<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.rows.iter().map(|r| Row(self.0.columns, r)))
    }
}

/// JSON: `{"name": ..., "columns": [...], "rows": [{column: value, ...}, ...]}`, with
/// every row's keys in column order and decimals as strings.
impl Serialize for KpiTable {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut t = s.serialize_struct("KpiTable", 3)?;
        t.serialize_field("name", self.name)?;
        t.serialize_field("columns", self.columns)?;
        t.serialize_field("rows", &Rows(self))?;
        t.end()
    }
}

impl KpiTable {
    /// A cell by row index and column name.
    pub fn cell(&self, row: usize, column: &str) -> Option<&Cell> {
        let c = self.columns.iter().position(|n| *n == column)?;
        self.rows.get(row)?.get(c)
    }

    /// The rows whose `column` holds the text `value`.
    pub fn rows_where<'a>(
        &'a self,
        column: &str,
        value: &'a str,
    ) -> impl Iterator<Item = &'a [Cell]> + 'a {
        let c = self.columns.iter().position(|n| *n == column);
        self.rows
            .iter()
            .filter_map(move |r| match c.and_then(|c| r.get(c)) {
                Some(Cell::Text(t)) if **t == *value => Some(r.as_slice()),
                _ => None,
            })
    }

    /// CSV (RFC 4180): a header row of the column names, then one line per row,
    /// `\n`-terminated; decimals as exact strings, undefined values empty. A field is
    /// quoted when it holds a comma, a quote, a line break, or starts with `=`, `+`,
    /// `-`, `@` and is text (so a spreadsheet does not run it as a formula).
    pub fn to_csv(&self) -> String {
        let mut out = String::new();
        push_record(
            &mut out,
            self.columns.iter().map(|c| (*c).to_string()),
            false,
        );
        for row in &self.rows {
            let texts: Vec<(String, bool)> = row
                .iter()
                .map(|c| (c.to_string(), matches!(c, Cell::Text(_))))
                .collect();
            let mut first = true;
            for (text, is_text) in texts {
                if !first {
                    out.push(',');
                }
                first = false;
                push_field(&mut out, &text, is_text);
            }
            out.push('\n');
        }
        out
    }

    /// JSON of this table (see the `Serialize` impl).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

fn push_record(out: &mut String, fields: impl Iterator<Item = String>, text: bool) {
    let mut first = true;
    for f in fields {
        if !first {
            out.push(',');
        }
        first = false;
        push_field(out, &f, text);
    }
    out.push('\n');
}

fn push_field(out: &mut String, field: &str, text: bool) {
    let formula = text && field.starts_with(['=', '+', '-', '@']);
    if formula || field.contains([',', '"', '\n', '\r']) {
        out.push('"');
        if formula {
            out.push('\'');
        }
        out.push_str(&field.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(field);
    }
}

/// Every table of one query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KpiTables {
    /// The shop's time zone (IANA name).
    pub time_zone: String,
    /// The grain of the periods.
    pub grain: super::Grain,
    /// The tables, in a fixed order (see [`super::TABLE_NAMES`]).
    pub tables: Vec<KpiTable>,
}

impl KpiTables {
    /// A table by name.
    pub fn table(&self, name: &str) -> Option<&KpiTable> {
        self.tables.iter().find(|t| t.name == name)
    }

    /// All tables as one JSON document.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_24_bytes_and_share_their_text() {
        // Tables at day grain hold millions of cells: a text is a shared `Arc<str>`
        // (16 bytes), so a cell is 24 bytes and copying a name into a row allocates
        // nothing.
        assert_eq!(std::mem::size_of::<Cell>(), 24);
        let name: Arc<str> = "TSHIRT-RED-M".into();
        let (a, b) = (Cell::Text(Arc::clone(&name)), Cell::Text(Arc::clone(&name)));
        assert_eq!(Arc::strong_count(&name), 3);
        assert_eq!(
            (a.to_string(), b),
            (
                "TSHIRT-RED-M".to_string(),
                Cell::Text("TSHIRT-RED-M".into())
            )
        );
    }

    #[test]
    fn csv_quotes_what_needs_it_and_writes_decimals_exactly() {
        let t = KpiTable {
            name: "t",
            columns: &["sku", "amount", "rate"],
            rows: vec![
                vec![
                    Cell::Text("A,\"B\"".into()),
                    Cell::money(1050, 2),
                    Cell::Null,
                ],
                vec![
                    Cell::Text("=cmd".into()),
                    Cell::money(-5, 2),
                    Cell::ratio(1, 3),
                ],
            ],
        };
        assert_eq!(
            t.to_csv(),
            "sku,amount,rate\n\"A,\"\"B\"\"\",10.50,\n\"'=cmd\",-0.05,0.3333333333\n"
        );
        assert_eq!(
            t.to_json(),
            r#"{"name":"t","columns":["sku","amount","rate"],"rows":[{"sku":"A,\"B\"","amount":"10.50","rate":null},{"sku":"=cmd","amount":"-0.05","rate":"0.3333333333"}]}"#
        );
    }
}
