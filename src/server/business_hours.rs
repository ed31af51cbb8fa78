//! The business-hours clock for review SLAs: deadlines skip nights, weekends and closed days,
//! in the organisation's own time zone (DST included).
use crate::error::Invalid;
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;

#[derive(Debug, Clone, PartialEq)]
pub struct BusinessCalendar {
    pub tz: Tz,
    pub open: NaiveTime,
    pub close: NaiveTime,
    pub days: Vec<Weekday>,
}

impl Default for BusinessCalendar {
    fn default() -> Self {
        BusinessCalendar {
            tz: chrono_tz::UTC,
            open: NaiveTime::from_hms_opt(9, 0, 0).expect("valid time"),
            close: NaiveTime::from_hms_opt(17, 0, 0).expect("valid time"),
            days: vec![
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri,
            ],
        }
    }
}

fn weekday(s: &str) -> Result<Weekday, String> {
    s.trim()
        .parse::<Weekday>()
        .map_err(|_| format!("'{s}' is not a weekday (Mon, Tue, …)"))
}

impl BusinessCalendar {
    /// Parses `Mon-Fri 09:00-17:00` (or `Mon,Wed,Fri 08:30-16:00`) in time zone `tz` (IANA name).
    pub fn parse(hours: &str, tz: &str) -> Result<BusinessCalendar, Invalid> {
        let tz: Tz = tz
            .trim()
            .parse()
            .map_err(|_| format!("'{tz}' is not an IANA time zone (e.g. Europe/Berlin)"))?;
        let (days_part, times_part) = hours
            .trim()
            .split_once(' ')
            .ok_or(Invalid::new("expected e.g. 'Mon-Fri 09:00-17:00'"))?;
        let days = if let Some((a, b)) = days_part.split_once('-') {
            let (a, b) = (weekday(a)?, weekday(b)?);
            let mut out = vec![a];
            let mut d = a;
            while d != b {
                d = d.succ();
                out.push(d);
            }
            out
        } else {
            days_part
                .split(',')
                .map(weekday)
                .collect::<Result<Vec<_>, _>>()?
        };
        let (o, c) = times_part.trim().split_once('-').ok_or(Invalid::new(
            "expected opening and closing times like 09:00-17:00",
        ))?;
        let t = |s: &str| {
            NaiveTime::parse_from_str(s.trim(), "%H:%M")
                .map_err(|_| format!("'{s}' is not a time (HH:MM)"))
        };
        let (open, close) = (t(o)?, t(c)?);
        if close <= open {
            return Err(Invalid::new("closing time must be after opening time"));
        }
        Ok(BusinessCalendar {
            tz,
            open,
            close,
            days,
        })
    }

    fn is_open_day(&self, d: NaiveDate) -> bool {
        self.days.contains(&d.weekday())
    }

    fn at(&self, d: NaiveDate, t: NaiveTime) -> DateTime<Utc> {
        // In a DST gap the earliest valid instant after it; in an overlap the earlier one.
        let local = d.and_time(t);
        match self.tz.from_local_datetime(&local).earliest() {
            Some(x) => x.with_timezone(&Utc),
            None => self
                .tz
                .from_local_datetime(&(local + Duration::hours(1)))
                .earliest()
                .map(|x| x.with_timezone(&Utc))
                .unwrap_or_else(|| local.and_utc()),
        }
    }

    /// Length of one business day.
    pub fn day_length(&self) -> Duration {
        self.close - self.open
    }

    /// `start` plus `amount` of business time.
    pub fn add(&self, start: DateTime<Utc>, amount: Duration) -> DateTime<Utc> {
        let mut remaining = amount;
        let mut day = start.with_timezone(&self.tz).date_naive();
        let mut from = start;
        for _ in 0..3700 {
            if self.is_open_day(day) {
                let open = self.at(day, self.open);
                let close = self.at(day, self.close);
                let begin = from.max(open);
                if begin < close {
                    let available = close - begin;
                    if remaining <= available {
                        return begin + remaining;
                    }
                    remaining -= available;
                }
            }
            day = day.succ_opt().unwrap_or(day);
            from = self.at(day, NaiveTime::MIN);
        }
        start + amount
    }

    /// The end of a waiting period of `days` whole days after the day of `start` (in this
    /// calendar's zone): local midnight after the last of them. With `business_only`, only open
    /// days count (a notice sent on Friday for 5 business days ends as Friday week turns to
    /// Saturday); otherwise every calendar day counts. DST shifts move the UTC instant, never the
    /// local midnight.
    pub fn end_of_days_after(
        &self,
        start: DateTime<Utc>,
        days: u32,
        business_only: bool,
    ) -> DateTime<Utc> {
        let mut day = start.with_timezone(&self.tz).date_naive();
        let mut counted = 0;
        // At most ten years of closed days: a calendar without open days cannot spin forever.
        for _ in 0..3700 {
            if counted >= days {
                break;
            }
            day = match day.succ_opt() {
                Some(d) => d,
                None => break,
            };
            if !business_only || self.is_open_day(day) {
                counted += 1;
            }
        }
        let after = day.succ_opt().unwrap_or(day);
        self.at(after, NaiveTime::MIN)
    }

    /// Business time left from `now` until `deadline` (negative when breached).
    pub fn remaining(&self, now: DateTime<Utc>, deadline: DateTime<Utc>) -> Duration {
        if deadline <= now {
            return -(self.between(deadline, now));
        }
        self.between(now, deadline)
    }

    fn between(&self, a: DateTime<Utc>, b: DateTime<Utc>) -> Duration {
        let mut total = Duration::zero();
        let mut day = a.with_timezone(&self.tz).date_naive();
        let last = b.with_timezone(&self.tz).date_naive();
        while day <= last {
            if self.is_open_day(day) {
                let s = a.max(self.at(day, self.open));
                let e = b.min(self.at(day, self.close));
                if e > s {
                    total += e - s;
                }
            }
            match day.succ_opt() {
                Some(d) => day = d,
                None => break,
            }
        }
        total
    }
}

/// "3h 10m left", "45m left", "overdue by 1h 5m" (business time).
pub fn describe_remaining(d: Duration) -> String {
    let mins = d.num_minutes();
    let fmt = |m: i64| {
        if m >= 60 {
            format!("{}h {}m", m / 60, m % 60)
        } else {
            format!("{m}m")
        }
    };
    if mins >= 0 {
        format!("{} left", fmt(mins))
    } else {
        format!("overdue by {}", fmt(-mins))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    #[test]
    fn waiting_period_in_calendar_and_business_days() {
        let cal = BusinessCalendar::default();
        // Sent Friday 2026-11-27 15:00 UTC: 7 calendar days end as Friday 12-04 turns to Saturday.
        assert_eq!(
            cal.end_of_days_after(utc(2026, 11, 27, 15, 0), 7, false),
            utc(2026, 12, 5, 0, 0)
        );
        // 5 business days skip the weekend: Mon 11-30 … Fri 12-04, so the same end.
        assert_eq!(
            cal.end_of_days_after(utc(2026, 11, 27, 15, 0), 5, true),
            utc(2026, 12, 5, 0, 0)
        );
        // Sent on a Saturday: business days start Monday; 1 business day ends Monday night.
        assert_eq!(
            cal.end_of_days_after(utc(2026, 11, 28, 9, 0), 1, true),
            utc(2026, 12, 1, 0, 0)
        );
        // Sent Wednesday for 5 business days: Thu, Fri, Mon, Tue, Wed → ends Thursday 00:00.
        assert_eq!(
            cal.end_of_days_after(utc(2026, 11, 25, 23, 59), 5, true),
            utc(2026, 12, 3, 0, 0)
        );
    }

    #[test]
    fn waiting_period_across_daylight_saving_ends_at_local_midnight() {
        // Berlin leaves summer time on Sunday 2026-10-25. Sent Thursday 2026-10-22 10:00 local
        // (08:00 UTC): 7 calendar days end at local midnight starting Friday 10-30, which is
        // 23:00 UTC on the 29th (winter time, UTC+1) — not 22:00 as in summer time.
        let cal = BusinessCalendar::parse("Mon-Fri 09:00-17:00", "Europe/Berlin").unwrap();
        assert_eq!(
            cal.end_of_days_after(utc(2026, 10, 22, 8, 0), 7, false),
            utc(2026, 10, 29, 23, 0)
        );
        // 5 business days from Thursday 10-22: Fri, Mon, Tue, Wed, Thu → Friday 10-30 00:00 local.
        assert_eq!(
            cal.end_of_days_after(utc(2026, 10, 22, 8, 0), 5, true),
            utc(2026, 10, 29, 23, 0)
        );
        // Sent just after local midnight (22:30 UTC on the 21st is 00:30 on the 22nd in Berlin):
        // the local day counts, not the UTC one.
        assert_eq!(
            cal.end_of_days_after(utc(2026, 10, 21, 22, 30), 7, false),
            utc(2026, 10, 29, 23, 0)
        );
    }

    #[test]
    fn within_one_day() {
        let cal = BusinessCalendar::default();
        // Monday 2026-11-23 10:00 + 4h = 14:00.
        assert_eq!(
            cal.add(utc(2026, 11, 23, 10, 0), Duration::hours(4)),
            utc(2026, 11, 23, 14, 0)
        );
    }

    #[test]
    fn across_the_night() {
        let cal = BusinessCalendar::default();
        // Monday 15:00 + 4h: 2h on Monday, 2h from Tuesday 09:00.
        assert_eq!(
            cal.add(utc(2026, 11, 23, 15, 0), Duration::hours(4)),
            utc(2026, 11, 24, 11, 0)
        );
    }

    #[test]
    fn across_the_weekend_and_from_outside_hours() {
        let cal = BusinessCalendar::default();
        // Friday 16:00 + 4h → Monday 12:00.
        assert_eq!(
            cal.add(utc(2026, 11, 27, 16, 0), Duration::hours(4)),
            utc(2026, 11, 30, 12, 0)
        );
        // Saturday noon counts from Monday 09:00.
        assert_eq!(
            cal.add(utc(2026, 11, 28, 12, 0), Duration::hours(4)),
            utc(2026, 11, 30, 13, 0)
        );
        // Monday 07:00 (before opening) + 1 business day → Monday 17:00.
        assert_eq!(
            cal.add(utc(2026, 11, 23, 7, 0), cal.day_length()),
            utc(2026, 11, 23, 17, 0)
        );
        // Monday 16:00 + 1 business day → Tuesday 16:00.
        assert_eq!(
            cal.add(utc(2026, 11, 23, 16, 0), cal.day_length()),
            utc(2026, 11, 24, 16, 0)
        );
    }

    #[test]
    fn deadline_exactly_at_closing_stays_that_day() {
        let cal = BusinessCalendar::default();
        assert_eq!(
            cal.add(utc(2026, 11, 23, 13, 0), Duration::hours(4)),
            utc(2026, 11, 23, 17, 0)
        );
    }

    #[test]
    fn daylight_saving_change_keeps_local_hours() {
        // Berlin leaves summer time on Sunday 2026-10-25: Friday 09:00 local is 07:00 UTC,
        // Monday 09:00 local is 08:00 UTC.
        let cal = BusinessCalendar::parse("Mon-Fri 09:00-17:00", "Europe/Berlin").unwrap();
        // Friday 15:00 local (13:00 UTC) + 4h → 2h Friday, 2h Monday → Monday 11:00 local = 10:00 UTC.
        assert_eq!(
            cal.add(utc(2026, 10, 23, 13, 0), Duration::hours(4)),
            utc(2026, 10, 26, 10, 0)
        );
    }

    #[test]
    fn remaining_counts_business_time_only() {
        let cal = BusinessCalendar::default();
        let deadline = utc(2026, 11, 30, 12, 0); // Monday noon
        assert_eq!(
            cal.remaining(utc(2026, 11, 27, 16, 0), deadline),
            Duration::hours(4)
        );
        assert_eq!(
            cal.remaining(utc(2026, 11, 30, 13, 30), deadline),
            -Duration::minutes(90)
        );
        assert_eq!(describe_remaining(Duration::minutes(190)), "3h 10m left");
        assert_eq!(
            describe_remaining(-Duration::minutes(65)),
            "overdue by 1h 5m"
        );
    }

    #[test]
    fn parsing() {
        let c = BusinessCalendar::parse("Mon,Wed,Fri 08:30-16:00", "America/New_York").unwrap();
        assert_eq!(c.days, vec![Weekday::Mon, Weekday::Wed, Weekday::Fri]);
        assert!(BusinessCalendar::parse("Mon-Fri 17:00-09:00", "UTC").is_err());
        assert!(
            BusinessCalendar::parse("Mon-Fri 09:00-17:00", "Mars/Olympus")
                .unwrap_err()
                .contains("IANA")
        );
        assert!(BusinessCalendar::parse("Someday 09:00-17:00", "UTC").is_err());
    }
}
