//! The prioritisation view's data: segments by size, value and growth or stability, with the
//! ranking and its inputs.

use serde::{Deserialize, Serialize};

use super::clv::SegmentValue;

/// What an axis (or the ranking) of the prioritisation view can show.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PriorityAxis {
    /// Customers in the segment.
    Customers,
    /// Median value per customer over the parameter draws.
    ValuePerCustomer,
    /// Total value of the segment.
    TotalValue,
    /// The segment's share of all value.
    ValueShare,
    /// The segment's share of the log's revenue.
    RevenueShare,
    /// Mean probability alive.
    ProbabilityAlive,
    /// Change in size from the first to the last Over time window.
    Growth,
    /// Mean Jaccard similarity of the segment over bootstrap re-fits.
    Stability,
}

impl PriorityAxis {
    /// Every axis, in menu order.
    pub const ALL: [PriorityAxis; 8] = [
        PriorityAxis::Customers,
        PriorityAxis::ValuePerCustomer,
        PriorityAxis::TotalValue,
        PriorityAxis::ValueShare,
        PriorityAxis::RevenueShare,
        PriorityAxis::ProbabilityAlive,
        PriorityAxis::Growth,
        PriorityAxis::Stability,
    ];

    /// Its label.
    pub fn label(self) -> &'static str {
        match self {
            PriorityAxis::Customers => "customers",
            PriorityAxis::ValuePerCustomer => "value per customer",
            PriorityAxis::TotalValue => "total value",
            PriorityAxis::ValueShare => "share of value",
            PriorityAxis::RevenueShare => "share of revenue",
            PriorityAxis::ProbabilityAlive => "probability alive",
            PriorityAxis::Growth => "growth (Over time)",
            PriorityAxis::Stability => "stability (bootstrap)",
        }
    }

    /// Where its figures come from when they are missing.
    pub fn needs(self) -> Option<&'static str> {
        match self {
            PriorityAxis::Growth => Some("follow the customers on the Over time screen (one model) to see growth"),
            PriorityAxis::Stability => Some("ask for bootstrap stability on the Model screen to see it"),
            _ => None,
        }
    }
}

/// One segment's inputs to the prioritisation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PriorityRow {
    /// Segment number (0-based).
    pub segment: usize,
    /// Its name.
    pub name: String,
    /// Its value figures.
    pub value: SegmentValue,
    /// Relative change in customers from the first to the last window (`None`: not known).
    pub growth: Option<f64>,
    /// Mean Jaccard over bootstrap re-fits (`None`: not asked for).
    pub stability: Option<f64>,
}

impl PriorityRow {
    /// The row's figure on an axis, when it is known.
    pub fn get(&self, axis: PriorityAxis) -> Option<f64> {
        let v = &self.value;
        match axis {
            PriorityAxis::Customers => Some(v.n_customers as f64),
            PriorityAxis::ValuePerCustomer => Some(v.value_per_customer_median),
            PriorityAxis::TotalValue => Some(v.total_value),
            PriorityAxis::ValueShare => Some(v.value_share),
            PriorityAxis::RevenueShare => Some(v.revenue_share),
            PriorityAxis::ProbabilityAlive => Some(v.p_alive),
            PriorityAxis::Growth => self.growth,
            PriorityAxis::Stability => self.stability,
        }
        .filter(|x| x.is_finite())
    }
}

/// Growth of each segment from window sizes (first window to last); `None` where the first window
/// has none of its customers.
pub fn growth_from_sizes(first: &[usize], last: &[usize], k: usize) -> Vec<Option<f64>> {
    (0..k)
        .map(|s| {
            let (a, b) = (first.get(s).copied().unwrap_or(0), last.get(s).copied().unwrap_or(0));
            (a > 0).then(|| b as f64 / a as f64 - 1.0)
        })
        .collect()
}

/// The rows ranked by `by`, highest first; segments without the figure last, in segment order.
pub fn rank(rows: &[PriorityRow], by: PriorityAxis) -> Vec<usize> {
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by(|&a, &b| match (rows[a].get(by), rows[b].get(by)) {
        (Some(x), Some(y)) => y.total_cmp(&x).then(a.cmp(&b)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.cmp(&b),
    });
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(segment: usize, n: usize, total: f64, growth: Option<f64>) -> PriorityRow {
        let value = SegmentValue {
            segment,
            name: format!("S{segment}"),
            n_customers: n,
            revenue: 0.0,
            revenue_share: 0.0,
            orders: 0.0,
            average_order_value: 0.0,
            orders_per_month: 0.0,
            margin_value: 0.0,
            value_per_customer: total / n as f64,
            value_per_customer_median: total / n as f64,
            value_per_customer_p10: 0.0,
            value_per_customer_p90: 0.0,
            total_value: total,
            value_share: 0.0,
            p_alive: 0.5,
        };
        PriorityRow { segment, name: value.name.clone(), value, growth, stability: None }
    }

    #[test]
    fn ranking_puts_the_highest_first_and_unknown_figures_last() {
        let rows = vec![row(0, 10, 50.0, None), row(1, 5, 100.0, Some(0.2)), row(2, 20, 80.0, Some(-0.1))];
        assert_eq!(rank(&rows, PriorityAxis::TotalValue), vec![1, 2, 0]);
        assert_eq!(rank(&rows, PriorityAxis::Customers), vec![2, 0, 1]);
        assert_eq!(rank(&rows, PriorityAxis::Growth), vec![1, 2, 0]);
        assert_eq!(rows[0].get(PriorityAxis::Stability), None);
        assert_eq!(growth_from_sizes(&[10, 0, 4], &[15, 3, 2], 3), vec![Some(0.5), None, Some(-0.5)]);
    }
}
